/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PROFILED_UTF8_H
#define PROFILED_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF).  On false, *bad is the offset of the
 * first byte of the first bad sequence. */
bool pd_utf8_valid(const char *s, size_t len, size_t *bad);

#endif
