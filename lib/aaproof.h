/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proof that a loaded AppArmor profile is what the agent compiled.
 *
 * A name in the kernel's list says nothing about who loaded it; a record on
 * the Node can be written by whoever can patch the Node.  What the agent
 * can check on its own is the policy itself: apparmorfs exports, for each
 * loaded profile, the blob it was loaded from
 * (`policy/profiles/<name>.<n>/raw_data`, a link to
 * `policy/raw_data/<k>/raw_data`; CONFIG_SECURITY_APPARMOR_EXPORT_BINARY,
 * `apparmor.export_binary`, on in Debian's and Ubuntu's kernels).  It holds
 * the bytes written to `.replace`, uncompressed: for a file the agent
 * loaded, byte for byte the parser's cache file, shared by every profile
 * the file declares.  Equal sha256 of the two is the proof.
 *
 * The kernel's own hash files are not used: they are sha1 before Linux 6.4
 * (`raw_sha1`) and only present with `apparmor.hash_policy`.
 */
#ifndef PROFILED_AAPROOF_H
#define PROFILED_AAPROOF_H

#include "error.h"
#include "util.h"

/* The most raw policy read for one profile (the kernel's own limit on a
 * load is far above any profile the agent compiles from a ConfigMap). */
#define PD_AA_RAW_MAX (64 * 1024 * 1024)

/*
 * The sha256 of the raw policy the kernel holds for the loaded profile
 * `name` (a top-level profile, or a child `a//b`), read from fs (the
 * AppArmor securityfs folder).  The profile's folder is found by the
 * kernel's `name` file, not by the folder name (the kernel mangles it).
 * -ENOENT: no such profile; -ENODATA: the kernel exports no raw data for it
 * (export_binary off); other negative errno on read errors.
 */
int pd_aa_loaded_raw_sha256(const char *fs, const char *name, char out[PD_SHA256_HEX_LEN + 1],
			    pd_error_t *err);

/* The sha256 of a compiled policy file (at most PD_AA_RAW_MAX bytes). */
int pd_aa_binary_sha256(const char *path, char out[PD_SHA256_HEX_LEN + 1], pd_error_t *err);

#endif
