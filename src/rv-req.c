/* rv-req.c: one request, from FastCGI or CGI: params, headers, query, body */
#include "config.h"
#include "rv-req.h"

#include <stdlib.h>
#include <string.h>

#include "rv-arena.h"
#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-i18n.h"
#include "rv-json.h"
#include "rv-util.h"

static bool
sane_request_id(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_' ||
		      s[n] == '.' || s[n] == ':'))
			return false;
	return n > 0 && n <= 64;
}

void
rv_req_init(struct rv_req *req, struct rv_arena *arena,
	    const struct rv_conf *conf, char **env,
	    rv_req_read_fn *read, void *read_ctx)
{
	const char *s;
	char *id;

	memset(req, 0, sizeof(*req));
	req->arena = arena;
	req->conf = conf;
	req->env = env;
	req->read = read;
	req->read_ctx = read_ctx;
	rv_buf_init(&req->body);
	/* the request id first, so that every log line carries it */
	if (sane_request_id(s = rv_req_header(req, "X-Request-Id"))) {
		req->id = s;
	} else {
		id = rv_arena_alloc(arena, 17);
		rv_random_id_light(id, 16);
		req->id = id;
	}
	req->method = (s = rv_req_param(req, "REQUEST_METHOD")) != NULL ? s : "";
	req->query = (s = rv_req_param(req, "QUERY_STRING")) != NULL ? s : "";
	/* the language is negotiated when a message or a template first
	 * needs it (rv_req_lang): most answers have none, and a CGI process
	 * then loads no catalog at all (rv_setup_defer) */
	req->lang = NULL;
	if ((req->path = rv_req_route_path(req)) == NULL) {
		req->path = "";
		req->outside = true;
	}
}

const char *
rv_req_lang(struct rv_req *req)
{
	if (req->lang == NULL)
		req->lang = rv_i18n_negotiate(rv_req_query(req, "locale"),
					      rv_req_header(req, "Accept-Language"),
					      req->conf->i18n_fallback);
	return req->lang;
}

void
rv_req_release(struct rv_req *req)
{
	if (req->json != NULL) {
		/* the body may hold a password or a code */
		rv_json_wipe_strings(req->json);
		json_decref(req->json);
	}
	req->json = NULL;
	rv_buf_release_secret(&req->body);
}

const char *
rv_req_param(const struct rv_req *req, const char *name)
{
	size_t len = strlen(name);
	char **e;

	if (req->env == NULL)
		return NULL;
	for (e = req->env; *e != NULL; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

const char *
rv_req_header(const struct rv_req *req, const char *name)
{
	char var[96] = "HTTP_";
	size_t i, n = strlen(name);

	if (n + 6 > sizeof(var))
		return NULL;
	for (i = 0; i < n; i++) {
		char c = name[i];

		var[5 + i] = c == '-' ? '_' :
			     (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
	}
	var[5 + n] = '\0';
	return rv_req_param(req, var);
}

static bool
valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len, k;
		unsigned long cp;

		if (c < 0x80) {
			if (c == 0)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* Decodes a query component (application/x-www-form-urlencoded). */
static char *
decode(struct rv_arena *a, const char *s, size_t n)
{
	char *out = rv_arena_alloc(a, n + 1), *o = out;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < n && rv_hexdigit(s[i + 1]) >= 0 &&
			   rv_hexdigit(s[i + 2]) >= 0) {
			*o++ = (char)(rv_hexdigit(s[i + 1]) * 16 + rv_hexdigit(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	if (!valid_utf8((unsigned char *)out, (size_t)(o - out)))
		return NULL;
	return out;
}

const char *
rv_req_query(const struct rv_req *req, const char *name)
{
	const char *p = req->query;
	size_t nlen = strlen(name);

	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;

		if (klen == nlen && strncmp(p, name, nlen) == 0) {
			if (eq == NULL)
				return "";
			return decode(req->arena, eq + 1, len - klen - 1);
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

const char *
rv_req_path_param(const struct rv_req *req, const char *name)
{
	int i;

	for (i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

const char *
rv_req_route_path(struct rv_req *req)
{
	const char *uri = rv_req_param(req, "REQUEST_URI");
	const char *base = req->conf->http_base_path;
	size_t blen = base ? strlen(base) : 0;
	char *path;

	if (uri != NULL && *uri == '/') {
		size_t n = strcspn(uri, "?#");

		path = rv_arena_strndup(req->arena, uri, n);
	} else {
		const char *sn = rv_req_param(req, "SCRIPT_NAME");
		const char *pi = rv_req_param(req, "PATH_INFO");

		path = rv_arena_printf(req->arena, "%s%s", sn ? sn : "", pi ? pi : "");
	}
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (blen > 0) {
		if (strncmp(path, base, blen) != 0 ||
		    (path[blen] != '/' && path[blen] != '\0'))
			return NULL;
		path += blen;
	}
	return path;
}

/*
 * application/json, or any application/...+json (the JSON types Logto's
 * koa-body takes), with parameters; a charset, if given, must be UTF-8.
 */
static bool
json_media_type(const char *ct)
{
	const char *semi, *p;
	size_t n;

	if (ct == NULL)
		return false;
	while (*ct == ' ')
		ct++;
	semi = strchr(ct, ';');
	n = semi ? (size_t)(semi - ct) : strlen(ct);
	while (n > 0 && ct[n - 1] == ' ')
		n--;
	if (!(n == 16 && rv_str_iprefix(ct, "application/json")) &&
	    !(n > 17 && rv_str_iprefix(ct, "application/") &&
	      rv_str_iprefix(ct + n - 5, "+json")))
		return false;
	for (p = semi; p != NULL; p = strchr(p + 1, ';')) {
		const char *q = p + 1;

		while (*q == ' ')
			q++;
		if (rv_str_iprefix(q, "charset=")) {
			q += 8;
			if (*q == '"')
				q++;
			if (!rv_str_iprefix(q, "utf-8") && !rv_str_iprefix(q, "utf8"))
				return false;
		}
	}
	return true;
}

int
rv_req_read_body(struct rv_req *req, bool json, struct rv_err *err)
{
	const char *cl = rv_req_param(req, "CONTENT_LENGTH");
	size_t max = (size_t)req->conf->http_max_body;
	long long want = -1;
	ssize_t got;

	if (cl != NULL && *cl != '\0' &&
	    rv_parse_ll(cl, 0, 9223372036854775807LL, &want) < 0)
		return rv_err_set(err, RV_E_INVALID_INPUT,
				  "bad CONTENT_LENGTH '%.32s'", cl);
	if (want > (long long)max) {
		rv_err_var(err, "limit", "%zu", max);
		return rv_err_set(err, RV_E_TOO_LARGE,
				  "body of %lld bytes is over the limit of %zu",
				  want, max);
	}
	if (want < 0)
		want = (long long)max + 1;	/* no length: read to the end */
	while (req->body.len < (size_t)want) {
		size_t chunk = (size_t)want - req->body.len;

		if (chunk > 16384)
			chunk = 16384;
		rv_buf_grow(&req->body, chunk);
		got = req->read(req->read_ctx, req->body.buf + req->body.len, chunk);
		if (got < 0)
			return rv_err_set(err, RV_E_INVALID_INPUT,
					  "cannot read the request body");
		if (got == 0)
			break;
		req->body.len += (size_t)got;
		req->body.buf[req->body.len] = '\0';
	}
	if (req->body.len > max) {
		rv_err_var(err, "limit", "%zu", max);
		return rv_err_set(err, RV_E_TOO_LARGE,
				  "body is over the limit of %zu bytes", max);
	}
	if (cl != NULL && *cl != '\0' && req->body.len != (size_t)want)
		return rv_err_set(err, RV_E_INVALID_INPUT,
				  "body ended after %zu of %lld bytes",
				  req->body.len, want);
	if (!json)
		return 0;
	if (req->body.len > 0 &&
	    !json_media_type(rv_req_param(req, "CONTENT_TYPE")))
		return rv_err_set(err, RV_E_MEDIA_TYPE,
				  "body of type '%.64s' where JSON is expected",
				  rv_req_param(req, "CONTENT_TYPE") ?
				  rv_req_param(req, "CONTENT_TYPE") : "(none)");
	return rv_json_parse_body(req->body.buf, req->body.len, &req->json, err);
}
