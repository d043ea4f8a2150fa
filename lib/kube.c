/* SPDX-License-Identifier: Apache-2.0 */
#include "kube.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "fileio.h"

#define TOKEN_RECHECK_MS 60000
#define PEM_MAX_BYTES	 (1024 * 1024)

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
	pd_grow(&s->buf, &s->cap, s->len + n + 1, 1);
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
 * 401, read it whatever its mtime says.  A file that cannot be read, or
 * holds no usable token, keeps the last token: the kubelet swaps the file
 * atomically, so this is a moment between two good versions, and the
 * start-up already refused a file that never held one. */
static void
refresh_token(struct pd_kube *k, bool force)
{
	char *tok = NULL;
	struct stat st;
	long long now = pd_now_ms();

	if (k->cfg.token_file == NULL)
		return;
	/* A stat at most every second; a read when the file changed, at
	 * least every minute, and whenever forced (after a 401). */
	if (!force && k->token != NULL && now - k->token_checked_ms < 1000)
		return;
	k->token_checked_ms = now;
	if (stat(k->cfg.token_file, &st) < 0)
		return;
	if (!force && k->token != NULL && st.st_mtim.tv_sec == k->token_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == k->token_mtime.tv_nsec &&
	    now - k->token_read_ms < TOKEN_RECHECK_MS)
		return;
	if (pd_kube_token_read(k->cfg.token_file, &tok, NULL) < 0)
		return;
	if (k->token != NULL)
		explicit_bzero(k->token, strlen(k->token));
	free(k->token);
	k->token = tok;
	k->token_mtime = st.st_mtim;
	k->token_read_ms = now;
}

/* The PEM bytes of inline data, or of a file (what names it). */
static int
pem_bytes(const char *file, const char *pem, size_t pem_len, const char *what, char **out,
	  size_t *len, pd_error_t *err)
{
	_cleanup_close_ int fd = -1;
	int ret;

	if (pem != NULL) {
		*out = dup_mem(pem, pem_len);
		*len = pem_len;
		return 0;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return pd_make_error(err, errno, "%s `%s`", what, file);
	if ((ret = pd_read_fd(fd, PEM_MAX_BYTES, out, len, err)) < 0)
		return pd_error_wrap(err, ret, "%s `%s`", what, file);
	return 0;
}

static void
cleanup_biop(BIO **b)
{
	BIO_free(*b);
}

static void
cleanup_x509p(X509 **x)
{
	X509_free(*x);
}

static void
cleanup_pkeyp(EVP_PKEY **p)
{
	EVP_PKEY_free(*p);
}

/* An encrypted key cannot be used: libcurl is given no passphrase. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static BIO *
mem_bio(const char *buf, size_t len)
{
	BIO *b = BIO_new_mem_buf(buf, (int)len);

	if (b == NULL)
		pd_oom();
	return b;
}

/* The CA bundle must hold at least one certificate: libcurl would fail
 * every handshake, and later than the start. */
static int
check_ca(const struct pd_kube_config *c, pd_error_t *err)
{
	_cleanup_free_ char *buf = NULL;
	const char *what = c->ca_pem != NULL ? "certificate-authority-data" : "CA file";
	__attribute__((cleanup(cleanup_biop))) BIO *b = NULL;
	size_t len, n = 0;
	X509 *x;
	int ret;

	if (c->ca_pem == NULL && c->ca_file == NULL)
		return 0; /* the system's CAs (a server with a public certificate) */
	if ((ret = pem_bytes(c->ca_file, c->ca_pem, c->ca_pem_len, what, &buf, &len, err)) < 0)
		return ret;
	b = mem_bio(buf, len);
	while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	ERR_clear_error();
	if (n == 0)
		return c->ca_pem != NULL ? pd_make_plain_error(err, EINVAL,
							       "%s holds no PEM certificate", what)
					 : pd_make_plain_error(err, EINVAL,
							       "%s `%s` holds no PEM certificate",
							       what, c->ca_file);
	return 0;
}

/* The client certificate and key: both readable, the key unencrypted and
 * the certificate's, the certificate not expired. */
static int
check_client(const struct pd_kube_config *c, pd_error_t *err)
{
	_cleanup_free_ char *cbuf = NULL;
	_cleanup_free_ char *kbuf = NULL;
	_cleanup_free_ char *cname = NULL;
	_cleanup_free_ char *kname = NULL;
	__attribute__((cleanup(cleanup_biop))) BIO *cb = NULL;
	__attribute__((cleanup(cleanup_biop))) BIO *kb = NULL;
	__attribute__((cleanup(cleanup_x509p))) X509 *x = NULL;
	__attribute__((cleanup(cleanup_pkeyp))) EVP_PKEY *pk = NULL;
	size_t clen, klen;
	int ret;

	if (c->cert_pem == NULL && c->cert_file == NULL)
		return 0;
	cname = c->cert_pem != NULL ? pd_xstrdup("client-certificate-data")
				    : pd_xasprintf("client certificate `%s`", c->cert_file);
	kname = c->key_pem != NULL ? pd_xstrdup("client-key-data")
				   : pd_xasprintf("client key `%s`", c->key_file);
	if ((ret = pem_bytes(c->cert_file, c->cert_pem, c->cert_pem_len, "client certificate",
			     &cbuf, &clen, err)) < 0 ||
	    (ret = pem_bytes(c->key_file, c->key_pem, c->key_pem_len, "client key", &kbuf, &klen,
			     err)) < 0)
		return ret;
	cb = mem_bio(cbuf, clen);
	kb = mem_bio(kbuf, klen);
	x = PEM_read_bio_X509(cb, NULL, no_passphrase, NULL);
	pk = PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL);
	ERR_clear_error();
	if (klen > 0)
		explicit_bzero(kbuf, klen);
	if (x == NULL)
		return pd_make_plain_error(err, EINVAL, "%s holds no PEM certificate", cname);
	if (pk == NULL)
		return pd_make_plain_error(
			err, EINVAL, "%s holds no PEM private key (or an encrypted one)", kname);
	if (X509_check_private_key(x, pk) != 1) {
		ERR_clear_error();
		return pd_make_plain_error(err, EINVAL, "%s does not match %s", kname, cname);
	}
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		return pd_make_plain_error(err, EINVAL, "%s has expired", cname);
	return 0;
}

/* Whatever will authenticate the requests must be usable now: a request
 * sent without it would only be refused (401), and reported as if the
 * server had changed its mind. */
static int
check_credentials(struct pd_kube *k, const struct pd_kube_config *cfg, pd_error_t *err)
{
	int ret;

	if ((ret = check_ca(cfg, err)) < 0 || (ret = check_client(cfg, err)) < 0)
		return ret;
	if (cfg->token_file != NULL) {
		char *tok = NULL;
		struct stat st;

		if (stat(cfg->token_file, &st) == 0)
			k->token_mtime = st.st_mtim;
		if ((ret = pd_kube_token_read(cfg->token_file, &tok, err)) < 0)
			return ret;
		if (k->token != NULL)
			explicit_bzero(k->token, strlen(k->token));
		free(k->token);
		k->token = tok;
		k->token_checked_ms = k->token_read_ms = pd_now_ms();
	}
	if (k->token == NULL && cfg->cert_pem == NULL && cfg->cert_file == NULL)
		return pd_make_plain_error(err, EINVAL,
					   "no credentials: a token, a token file or a client "
					   "certificate is needed");
	return 0;
}

int
pd_kube_new(const struct pd_kube_config *cfg, struct pd_kube **out, pd_error_t *err)
{
	static bool global_done;
	struct pd_kube *k;
	int ret;

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
	if ((ret = check_credentials(k, cfg, err)) < 0) {
		pd_kube_free(k);
		return ret;
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
	if (k->token != NULL)
		explicit_bzero(k->token, strlen(k->token));
	free(k->token);
	pd_kube_config_clear(&k->cfg);
	free(k);
}

const char *
pd_kube_auth(const struct pd_kube *k)
{
	if (k->cfg.token_file != NULL)
		return "token file (re-read after the 401)";
	if (k->token != NULL)
		return "token";
	return "client certificate";
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

/* The CA bundle, client certificate or key: the PEM bytes from the
 * kubeconfig (libcurl copies them) or else the file's path; neither: libcurl's
 * default (the system's CAs; no client certificate). */
static void
set_pem(CURL *c, CURLoption blob_opt, char *pem, size_t len, CURLoption file_opt, const char *file)
{
	if (pem != NULL) {
		struct curl_blob b = { .data = pem, .len = len, .flags = CURL_BLOB_COPY };

		curl_easy_setopt(c, blob_opt, &b);
	} else if (file != NULL) {
		curl_easy_setopt(c, file_opt, file);
	}
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
	set_pem(c, CURLOPT_CAINFO_BLOB, k->cfg.ca_pem, k->cfg.ca_pem_len, CURLOPT_CAINFO,
		k->cfg.ca_file);
	set_pem(c, CURLOPT_SSLCERT_BLOB, k->cfg.cert_pem, k->cfg.cert_pem_len, CURLOPT_SSLCERT,
		k->cfg.cert_file);
	set_pem(c, CURLOPT_SSLKEY_BLOB, k->cfg.key_pem, k->cfg.key_pem_len, CURLOPT_SSLKEY,
		k->cfg.key_file);
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
