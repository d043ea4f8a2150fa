/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The folder the kubelet reads Localhost seccomp profiles from:
 * <seccomp-root>/<subdir>/NAME.json.  Files are published atomically with
 * mode 0644 and byte-identical to their source; an identical file is left
 * alone.  The store never lists or deletes on its own: the caller names
 * what to remove, from the state of what it published.
 */
#ifndef PROFILED_STORE_H
#define PROFILED_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "util.h"

struct pd_store; /* opaque */

/* Checks that subdir is one plain path component. */
int pd_store_subdir_check(const char *subdir, pd_error_t *err);

/* Opens root (created 0755 if missing) and root/subdir (created 0755; never
 * a symlink).  Removes temporary files a killed earlier run left behind. */
int pd_store_open(const char *root, const char *subdir, struct pd_store **out, pd_error_t *err);
void pd_store_free(struct pd_store *s);

/*
 * Checks that the held folder is still the one at root/subdir.  Returns 0
 * when it is; 1 when it was removed, moved or replaced (by a folder or a
 * symlink) and root/subdir has been opened again by path, made if missing
 * (nothing in it may then be assumed: publish everything again).  On
 * failure the handle holds no folder: every operation fails until a
 * refresh succeeds.
 */
int pd_store_refresh(struct pd_store *s, pd_error_t *err);

/* Publishes data as name unless the file already holds exactly data.
 * *changed tells whether it was written. */
int pd_store_put(struct pd_store *s, const char *name, const char *data, size_t len, bool *changed,
		 pd_error_t *err);

/* 1 when name holds exactly data, 0 when not or missing. */
int pd_store_holds(struct pd_store *s, const char *name, const char *data, size_t len,
		   pd_error_t *err);

/* 1 when name exists and its SHA-256 is sha256, 0 otherwise. */
int pd_store_holds_hash(struct pd_store *s, const char *name, const char *sha256, pd_error_t *err);

/* Removes name; a missing file is not an error.  Syncs the folder. */
/* Appends the names of the regular files `NAME.json` in the folder (hidden
 * names, such as publish temporaries, are left out). */
int pd_store_list(struct pd_store *s, struct pd_strv *out, pd_error_t *err);

int pd_store_remove(struct pd_store *s, const char *name, pd_error_t *err);

/* "<root>/<subdir>/<name>", newly allocated, for messages. */
char *pd_store_path(const struct pd_store *s, const char *name);

#endif
