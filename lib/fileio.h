/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading and writing files through descriptors, with the error contract
 * of docs/errors.md: bounded reads, a comparison with bytes in hand, the
 * atomic publish (docs/architecture.md, "One reconcile", step 3) and a
 * folder opened without following a link.
 */
#ifndef PROFILED_FILEIO_H
#define PROFILED_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Reads fd from its offset until EOF, or until limit bytes are read (the
 * rest is left unread: the caller says what that means), into a buffer
 * NUL-terminated past *len bytes.  hint: the size expected, the first
 * allocation. */
int pd_read_upto(int fd, size_t limit, size_t hint, char **out, size_t *len, pd_error_t *err);

/* Reads at most max bytes of the regular file open on fd.  Files larger than
 * max fail with -EFBIG.  The buffer is NUL-terminated (not counted in *len). */
int pd_read_fd(int fd, size_t max, char **out, size_t *len, pd_error_t *err);

/* Compares the regular file dirfd/name with data.  Returns 1 when equal,
 * 0 when different or missing, negative errno on other failures. */
int pd_file_equals(int dirfd, const char *name, const void *data, size_t len, pd_error_t *err);

/* Publishes data as dirfd/name atomically: a temporary file in the same
 * folder (O_CLOEXEC|O_EXCL), every byte written, fchmod(mode), fsync,
 * renameat over name, fsync of the folder.  A reader sees either the old or
 * the new file, never a partial one; on failure the old file is untouched. */
int pd_publish_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		      pd_error_t *err);

/* Creates (if needed) and opens the folder `name` below dirfd, refusing to
 * follow a symlink at `name`.  Returns the fd or negative errno. */
int pd_open_subdir(int dirfd, const char *name, mode_t mode, bool create, pd_error_t *err);

#endif
