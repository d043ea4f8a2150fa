/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The logger is process configuration, set once in main before anything
 * runs; it is the one piece of agent state that is not passed around. */
static enum log_format log_fmt = LOG_FMT_TEXT;
static enum log_level log_min = LOG_LVL_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_setup(enum log_format fmt, enum log_level min)
{
	log_fmt = fmt;
	log_min = min;
}

bool
log_enabled(enum log_level lvl)
{
	return lvl >= log_min;
}

/* Writes s with JSON escaping; also used for the quoted text values, so that
 * control characters and quotes never reach the log raw. */
static void
put_escaped(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
}

static bool
needs_quotes(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s == '"' || *s == '=' || *s == '\\' || (unsigned char)*s >= 0x7f)
			return true;
	return false;
}

static void
timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

void
log_kv(enum log_level lvl, const char *msg, ...)
{
	char ts[64];
	char *line = NULL;
	size_t len = 0;
	FILE *f;
	va_list ap;
	const char *k;

	if (!log_enabled(lvl))
		return;
	/* Build the whole line first: one write(2) keeps lines whole. */
	f = open_memstream(&line, &len);
	if (f == NULL)
		return;
	timestamp(ts, sizeof(ts));
	if (log_fmt == LOG_FMT_JSON) {
		fprintf(f, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, level_names[lvl]);
		put_escaped(f, msg);
		fputc('"', f);
	} else {
		fprintf(f, "%s %-5s %s", ts, level_names[lvl], msg);
	}
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);

		if (v == NULL)
			continue;
		if (log_fmt == LOG_FMT_JSON) {
			fputs(",\"", f);
			put_escaped(f, k);
			fputs("\":\"", f);
			put_escaped(f, v);
			fputc('"', f);
		} else if (needs_quotes(v)) {
			fprintf(f, " %s=\"", k);
			put_escaped(f, v);
			fputc('"', f);
		} else {
			fprintf(f, " %s=%s", k, v);
		}
	}
	va_end(ap);
	fputs(log_fmt == LOG_FMT_JSON ? "}\n" : "\n", f);
	fclose(f);
	fwrite(line, 1, len, stderr);
	fflush(stderr);
	free(line);
}
