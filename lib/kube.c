/* SPDX-License-Identifier: Apache-2.0 */
#include "kube.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define TOKEN_RECHECK_MS 60000

struct pd_kube {
	CURL *curl;
	struct pd_kube_config cfg; /* owned copies of what is used */
	char *token;		   /* current token, or NULL */
	struct timespec token_mtime;
	long long token_checked_ms, token_read_ms;
	const struct pd_spawn_cancel *cancel;
	bool cancelled;
	unsigned long requests;
	void (*observer)(void *arg, long status);
	void *observer_arg;
};

void
pd_kube_set_observer(struct pd_kube *k, void (*fn)(void *arg, long status), void *arg)
{
	k->observer = fn;
	k->observer_arg = arg;
}

struct sink {
	char *buf;
	size_t len, cap;
	bool overflow;
};

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (s->len + n + 1 > PD_KUBE_MAX_BODY) {
		s->overflow = true;
		return 0; /* aborts the transfer */
	}
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->buf = pd_xrealloc(s->buf, s->cap, 1);
	}
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct pd_kube_response *r = arg;
	size_t n = size * nmemb;

	if (n > 12 && strncasecmp(ptr, "Retry-After:", 12) == 0) {
		char *end;
		long v = strtol(ptr + 12, &end, 10);

		/* Only the seconds form: the API server sends that. */
		if (end != ptr + 12 && v >= 0)
			r->retry_after_s = v;
	}
	return n;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct pd_kube *k = arg;
	struct pollfd p;

	(void)dt, (void)dn, (void)ut, (void)un;
	if (k->cancel == NULL)
		return 0;
	p.fd = k->cancel->fd;
	p.events = POLLIN;
	if (poll(&p, 1, 0) == 1 && k->cancel->fn(k->cancel->arg)) {
		k->cancelled = true;
		return 1; /* aborts the transfer */
	}
	return 0;
}

void
pd_kube_set_cancel(struct pd_kube *k, const struct pd_spawn_cancel *cancel)
{
	k->cancel = cancel;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? pd_xstrdup(s) : NULL;
}

static char *
dup_mem(const char *s, size_t n)
{
	char *r;

	if (s == NULL)
		return NULL;
	r = pd_xmalloc(n + 1);
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

/* Reads the token file when it changed (or was never read).  force: after a
 * 401, read it whatever its mtime says. */
static void
refresh_token(struct pd_kube *k, bool force)
{
	_cleanup_close_ int fd = -1;
	char *buf = NULL;
	struct stat st;
	size_t len;
	long long now = pd_now_ms();

	if (k->cfg.token_file == NULL)
		return;
	/* A stat at most every second; a read when the file changed, at
	 * least every minute, and whenever forced (after a 401). */
	if (!force && k->token != NULL && now - k->token_checked_ms < 1000)
		return;
	k->token_checked_ms = now;
	if (stat(k->cfg.token_file, &st) < 0)
		return; /* keep the last token: the file is swapped atomically */
	if (!force && k->token != NULL && st.st_mtim.tv_sec == k->token_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == k->token_mtime.tv_nsec &&
	    now - k->token_read_ms < TOKEN_RECHECK_MS)
		return;
	fd = open(k->cfg.token_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pd_read_fd(fd, 64 * 1024, &buf, &len, NULL) < 0)
		return;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (len == 0) {
		free(buf);
		return;
	}
	if (k->token != NULL)
		explicit_bzero(k->token, strlen(k->token));
	free(k->token);
	k->token = buf;
	k->token_mtime = st.st_mtim;
	k->token_read_ms = now;
}

int
pd_kube_new(const struct pd_kube_config *cfg, struct pd_kube **out, pd_error_t *err)
{
	static bool global_done;
	struct pd_kube *k;

	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return pd_make_plain_error(err, EIO, "libcurl initialisation failed");
		global_done = true;
	}
	k = pd_xcalloc(1, sizeof(*k));
	k->curl = curl_easy_init();
	if (k->curl == NULL) {
		free(k);
		return pd_make_plain_error(err, ENOMEM, "libcurl: no handle");
	}
	k->cfg.server = pd_xstrdup(cfg->server);
	k->cfg.ca_file = dup_or_null(cfg->ca_file);
	k->cfg.ca_pem = dup_mem(cfg->ca_pem, cfg->ca_pem_len);
	k->cfg.ca_pem_len = cfg->ca_pem_len;
	k->cfg.token_file = dup_or_null(cfg->token_file);
	k->cfg.cert_file = dup_or_null(cfg->cert_file);
	k->cfg.key_file = dup_or_null(cfg->key_file);
	k->cfg.cert_pem = dup_mem(cfg->cert_pem, cfg->cert_pem_len);
	k->cfg.cert_pem_len = cfg->cert_pem_len;
	k->cfg.key_pem = dup_mem(cfg->key_pem, cfg->key_pem_len);
	k->cfg.key_pem_len = cfg->key_pem_len;
	k->token = dup_or_null(cfg->token);
	refresh_token(k, true);
	if (k->token == NULL && k->cfg.token_file != NULL) {
		int saved = errno;

		pd_kube_free(k);
		return pd_make_error(err, saved ? saved : EINVAL, "read the token `%s`",
				     cfg->token_file);
	}
	*out = k;
	return 0;
}

void
pd_kube_free(struct pd_kube *k)
{
	if (k == NULL)
		return;
	curl_easy_cleanup(k->curl);
	free(k->token);
	pd_kube_config_clear(&k->cfg);
	free(k);
}

unsigned long
pd_kube_requests(const struct pd_kube *k)
{
	return k->requests;
}

void
pd_kube_response_clear(struct pd_kube_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static void
setup(struct pd_kube *k, const char *method, const char *url, struct curl_slist *hdrs,
      const char *body, struct sink *sink, struct pd_kube_response *resp)
{
	CURL *c = k->curl;

	curl_easy_reset(c); /* keeps the connection cache */
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)PD_KUBE_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)PD_KUBE_TOTAL_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (k->cfg.ca_pem != NULL) {
		struct curl_blob b = { .data = k->cfg.ca_pem,
				       .len = k->cfg.ca_pem_len,
				       .flags = CURL_BLOB_COPY };

		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b);
	} else if (k->cfg.ca_file != NULL) {
		curl_easy_setopt(c, CURLOPT_CAINFO, k->cfg.ca_file);
	}
	if (k->cfg.cert_pem != NULL) {
		struct curl_blob b = { .data = k->cfg.cert_pem,
				       .len = k->cfg.cert_pem_len,
				       .flags = CURL_BLOB_COPY };

		curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &b);
	} else if (k->cfg.cert_file != NULL) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, k->cfg.cert_file);
	}
	if (k->cfg.key_pem != NULL) {
		struct curl_blob b = { .data = k->cfg.key_pem,
				       .len = k->cfg.key_pem_len,
				       .flags = CURL_BLOB_COPY };

		curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &b);
	} else if (k->cfg.key_file != NULL) {
		curl_easy_setopt(c, CURLOPT_SSLKEY, k->cfg.key_file);
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, k);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "profiled");
}

static int
once(struct pd_kube *k, const char *method, const char *path, const char *content_type,
     const char *body, struct pd_kube_response *resp, pd_error_t *err)
{
	_cleanup_free_ char *url = pd_xasprintf("%s%s", k->cfg.server, path);
	_cleanup_free_ char *auth = NULL;
	_cleanup_free_ char *ctype = NULL;
	struct curl_slist *hdrs = NULL;
	struct sink sink = { 0 };
	CURLcode rc;
	int ret = 0;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after_s = -1;
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (k->token != NULL) {
		auth = pd_xasprintf("Authorization: Bearer %s", k->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (content_type != NULL) {
		ctype = pd_xasprintf("Content-Type: %s", content_type);
		hdrs = curl_slist_append(hdrs, ctype);
	}
	setup(k, method, url, hdrs, body, &sink, resp);
	k->cancelled = false;
	k->requests++;
	rc = curl_easy_perform(k->curl);
	if (k->observer != NULL) {
		long st = 0;

		if (rc == CURLE_OK)
			curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &st);
		k->observer(k->observer_arg, st);
	}
	/* The token must not stay in libcurl's memory of the last request. */
	curl_easy_setopt(k->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	if (auth != NULL)
		explicit_bzero(auth, strlen(auth));
	if (rc != CURLE_OK) {
		int e = k->cancelled				   ? ECANCELED
			: rc == CURLE_OPERATION_TIMEDOUT	   ? ETIMEDOUT
			: rc == CURLE_COULDNT_CONNECT		   ? ECONNREFUSED
			: rc == CURLE_WRITE_ERROR && sink.overflow ? EFBIG
								   : EIO;

		free(sink.buf);
		return pd_make_plain_error(err, e, "%s %s: %s", method, path,
					   curl_easy_strerror(rc));
	}
	curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = sink.buf != NULL ? sink.buf : pd_xstrdup("");
	resp->len = sink.len;
	return ret;
}

int
pd_kube_request(struct pd_kube *k, const char *method, const char *path, const char *content_type,
		const char *body, struct pd_kube_response *resp, pd_error_t *err)
{
	int ret;

	refresh_token(k, false);
	ret = once(k, method, path, content_type, body, resp, err);
	if (ret == 0 && resp->status == 401 && k->cfg.token_file != NULL) {
		/* The token may have rotated: read it again and retry once. */
		_cleanup_free_ char *old = dup_or_null(k->token);

		refresh_token(k, true);
		if (k->token != NULL && (old == NULL || strcmp(old, k->token) != 0)) {
			pd_kube_response_clear(resp);
			ret = once(k, method, path, content_type, body, resp, err);
		}
		if (old != NULL)
			explicit_bzero(old, strlen(old));
	}
	return ret;
}

char *
pd_kube_status_message(const struct pd_kube_response *r)
{
	cJSON *j = r->body != NULL ? cJSON_Parse(r->body) : NULL;
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
	const cJSON *causes = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(j, "details"), "causes");
	const cJSON *c;
	char *out;

	if (!cJSON_IsString(msg)) {
		cJSON_Delete(j);
		return pd_xasprintf("HTTP %ld: %.200s", r->status, r->body != NULL ? r->body : "");
	}
	out = pd_xstrdup(msg->valuestring);
	cJSON_ArrayForEach (c, causes) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, "field");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "message");
		char *n = pd_xasprintf("%s; cause: %s: %s", out,
				       cJSON_IsString(f) ? f->valuestring : "",
				       cJSON_IsString(m) ? m->valuestring : "");

		free(out);
		out = n;
	}
	cJSON_Delete(j);
	return out;
}
