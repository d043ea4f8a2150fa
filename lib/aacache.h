/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What, beside a policy file's own bytes, decides what the AppArmor parser
 * makes of it: the parser (its `--version` text and the bytes of the program
 * run), the features compiled for, and every file the source may include
 * (the whole include folder: a source may name any file in it, and the
 * abstractions include each other).  The compiled-policy cache keeps its
 * binaries, names and refusals under a folder named by this digest, so an
 * image upgrade, another parser or a changed abstraction never reuses a
 * result made by another.
 */
#ifndef PROFILED_AACACHE_H
#define PROFILED_AACACHE_H

#include "error.h"
#include "util.h"

/* Reads of the include folder stop hashing contents past this many bytes
 * (sizes and times still count): the folder is the host's, not ours. */
#define PD_AA_TREE_MAX_BYTES (256L * 1024 * 1024)

/*
 * Digest of the context into out (lower-case hex).  parser: as run (looked
 * up on PATH when it has no '/'); version: its `--version` output; features:
 * the features file or folder compiled for, NULL for the kernel's;
 * root: the include folder.  Fails only when the parser cannot be read.
 */
int pd_aa_context_digest(const char *parser, const char *version, const char *features,
			 const char *root, char out[PD_SHA256_HEX_LEN + 1], pd_error_t *err);

#endif
