/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging: one line per action on stderr, as text or as one JSON object per
 * line.  A message is a fixed verb-like text plus key/value fields; values
 * are quoted (text) or JSON-escaped, so a hostile profile name cannot forge
 * a log line.  Only agent/ logs.
 */
#ifndef PROFILED_LOG_H
#define PROFILED_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };
enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };

void log_setup(enum log_format fmt, enum log_level min);
bool log_enabled(enum log_level lvl);

/* log_kv(LOG_LVL_INFO, "published", "profile", name, "path", path, NULL):
 * the field list is key, value pairs ending with NULL; a NULL value is
 * skipped. */
void log_kv(enum log_level lvl, const char *msg, ...) __attribute__((sentinel));

#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_LVL_DEBUG))                                                    \
			log_kv(LOG_LVL_DEBUG, __VA_ARGS__);                                        \
	} while (0)
#define log_info(...)  log_kv(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)  log_kv(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_kv(LOG_LVL_ERROR, __VA_ARGS__)

#endif
