/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a profiles folder (a mounted ConfigMap or a plain folder).
 *
 * Every entry whose name does not start with '.' is a profile file.  Symlinks
 * are followed only while they stay inside the folder (the kubelet's
 * KEY -> ..data/KEY links do); anything else that is not a regular file, or
 * is over the size limit, is reported as an error for that entry alone.
 */
#ifndef PROFILED_SCAN_H
#define PROFILED_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "util.h"

#define PD_SCAN_MAX_FILE_BYTES	(1024 * 1024)
#define PD_SCAN_MAX_FILES	4096
#define PD_SCAN_MAX_TOTAL_BYTES (16 * 1024 * 1024)

enum pd_kind { PD_KIND_SECCOMP, PD_KIND_APPARMOR };

struct pd_source {
	char *dir;  /* the --profiles folder it came from */
	char *name; /* entry name, e.g. "fine-grained.json" */
	char *path; /* dir/name, for messages */
	enum pd_kind kind;
	char *data; /* NUL-terminated; NULL when error < 0 */
	size_t len;
	char sha256[PD_SHA256_HEX_LEN + 1];
	int error;    /* 0, or negative errno when the entry cannot be read */
	char *errmsg; /* set when error < 0 */
};

struct pd_sources {
	struct pd_source *v;
	size_t n, cap;
};

/* "NAME.json" is seccomp, anything else AppArmor. */
enum pd_kind pd_kind_of(const char *name);

/* Appends the entries of dir to out, sorted by name.  Fails as a whole only
 * when the folder itself cannot be read. */
int pd_scan_dir(const char *dir, struct pd_sources *out, pd_error_t *err);

/* What the folder read was, beyond its entries. */
struct pd_scan_folder {
	bool mount_root; /* the root of a mount: a volume, a bind mount, a tmpfs */
};

/* pd_scan_dir(), telling also what the folder was (*info, on success): a
 * folder that was a mount and is not any more was unmounted, and what is
 * under it is not the profiles. */
int pd_scan_dir_info(const char *dir, struct pd_sources *out, struct pd_scan_folder *info,
		     pd_error_t *err);

/* Drops the entries from index n on. */
void pd_sources_truncate(struct pd_sources *s, size_t n);

/* Reads one file the way the scanner reads an entry (regular files only,
 * size-limited); for `check` on single files. */
int pd_scan_file(const char *path, struct pd_sources *out, pd_error_t *err);

void pd_sources_clear(struct pd_sources *s);

#endif
