/* rv-main.c: the one main loop every program uses, and its route table */
#include "config.h"
#include "rv-main.h"

#include <errno.h>
#include <limits.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "rv-arena.h"
#include "rv-auth.h"
#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-i18n.h"
#include "rv-json.h"
#include "rv-log.h"
#include "rv-pwpolicy.h"
#include "rv-req.h"
#include "rv-resp.h"
#include "rv-store.h"
#include "rv-template.h"
#include "rv-util.h"
#include "rv-xml.h"

#ifndef RV_CONFIG_DEFAULT
#define RV_CONFIG_DEFAULT "/etc/reverify/reverify.xml"
#endif

extern char **environ;

static volatile sig_atomic_t stopping;

/* ---- what the program needs ---------------------------------------------- */

static const struct rv_conf *store_conf;
static struct rv_store *store;
static unsigned set_up;		/* the RV_NEED_* set up, to tear down */

struct rv_store *
rv_main_store(struct rv_err *err)
{
	if (store == NULL) {
		if (rv_store_open(store_conf, false, &store, err) == 0)
			return store;
		if (err->status != 503) {
			/* e.g. permissions changed under us: still the
			 * client's answer is "try later", the why is logged */
			rv_log_warnx("%s", err->msg);
			rv_err_set(err, RV_E_UNAVAILABLE, "the store does not open");
		}
		return NULL;
	}
	return store;
}

void
rv_main_set_store(struct rv_store *st, const struct rv_conf *conf)
{
	store = st;
	store_conf = conf;
}

static int
setup_needs(unsigned needs, const struct rv_conf *conf, struct rv_err *err)
{
	if ((needs & RV_NEED_AUTH) && rv_auth_setup(conf, err) < 0)
		return -1;
	set_up |= needs & RV_NEED_AUTH;
	if ((needs & RV_NEED_TEMPLATES) && rv_template_init(conf->del_templates, err) < 0)
		return -1;
	set_up |= needs & RV_NEED_TEMPLATES;
	if ((needs & RV_NEED_PWPOLICY) && rv_pwpolicy_init(conf, err) < 0)
		return -1;
	set_up |= needs & RV_NEED_PWPOLICY;
	if (needs & (RV_NEED_STORE | RV_NEED_PROBE)) {
		store_conf = conf;
		set_up |= needs & (RV_NEED_STORE | RV_NEED_PROBE);
		/* a store that is not there yet (not initialised, a disk not
		 * mounted) is retried per request; a dangerous one stops us,
		 * unless we are the probe that reports it */
		if (rv_store_open(conf, false, &store, err) < 0) {
			if (err->status != 503 && !(needs & RV_NEED_PROBE))
				return -1;
			rv_log_warnx("%s; answering 503 until it opens", err->msg);
			rv_err_release(err);
		}
	}
	return 0;
}

static void
teardown_needs(void)
{
	rv_store_close(&store);
	if (set_up & RV_NEED_PWPOLICY)
		rv_pwpolicy_release();
	if (set_up & RV_NEED_TEMPLATES)
		rv_template_release();
	if (set_up & RV_NEED_AUTH)
		rv_auth_release();
	set_up = 0;
}

/*
 * Opportunistic purge after a request, for programs with the store: again
 * at once while it finds full batches, else at most once a second (two
 * purge transactions after every request were a sixth of a GET
 * /api/my-account: doc/performance.md).
 */
static void
purge_a_little(void)
{
	static long long next;
	struct rv_err err;
	long purged = 0;
	long long now;

	if (store == NULL || !(set_up & RV_NEED_STORE) || store_conf->store_purge_batch == 0)
		return;
	if ((now = rv_mono_ms()) < next)
		return;
	rv_err_init(&err);
	if (rv_store_purge(store, (long)store_conf->store_purge_batch, &purged, &err) < 0)
		rv_log_warnx("purge: %s", err.msg);
	else if (purged > 0)
		rv_log_debug("purged %ld expired entries", purged);
	rv_err_release(&err);
	next = purged >= store_conf->store_purge_batch ? 0 : now + 1000;
}

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

/* ---- routing ---------------------------------------------------------- */

static bool
segment_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* A route's match of a path: where its parameters are, not yet copied. */
struct match {
	struct {
		const char *name, *value;
		size_t nlen, vlen;
	} params[RV_REQ_MAX_PARAMS];
	int n;
};

/* Does path match route r? Fills *m only; one trailing slash is allowed
 * (koa-router's non-strict matching). A ":name" segment takes 1-64 of
 * [A-Za-z0-9_-], and what the route's param_ok allows: a segment that
 * cannot name a resource is no match, so it is a 404, not a 405. */
static bool
route_match(const struct rv_route *r, const char *path, struct match *m)
{
	const char *p = r->pattern, *s = path;

	m->n = 0;
	while (*p != '\0') {
		if (*p == ':') {
			const char *pend = strchr(p, '/'), *send = strchr(s, '/');
			size_t plen = pend ? (size_t)(pend - p) : strlen(p);
			size_t slen = send ? (size_t)(send - s) : strlen(s);
			char v[65];

			if (!segment_ok(s, slen) || m->n == RV_REQ_MAX_PARAMS)
				return false;
			memcpy(v, s, slen);
			v[slen] = '\0';
			if (r->param_ok != NULL && !r->param_ok(v))
				return false;
			m->params[m->n].name = p + 1;
			m->params[m->n].nlen = plen - 1;
			m->params[m->n].value = s;
			m->params[m->n].vlen = slen;
			m->n++;
			p += plen;
			s += slen;
			continue;
		}
		if (*p != *s)
			return false;
		p++, s++;
	}
	return *s == '\0' || (s[0] == '/' && s[1] == '\0' && s != path + 1);
}

/* The chosen route's parameters, into the request (arena). */
static void
bind_route(struct rv_req *req, const struct rv_route *r, const struct match *m)
{
	int i;

	for (i = 0; i < m->n; i++) {
		req->params[i].name = rv_arena_strndup(req->arena, m->params[i].name,
						       m->params[i].nlen);
		req->params[i].value = rv_arena_strndup(req->arena, m->params[i].value,
							m->params[i].vlen);
	}
	req->nparams = m->n;
	req->pattern = r->pattern;
}

/* ---- one request ------------------------------------------------------ */

static bool
sane_header_value(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f)
			return false;
	return n > 0 && n <= max;
}

/* Logto answers any origin on /api/my-account and /api/verifications and
 * exposes every header (logto-spec 1.2 step 4). */
static void
add_cors(struct rv_req *req, struct rv_resp *resp)
{
	const char *origin = rv_req_header(req, "Origin");

	if (!req->conf->http_cors)
		return;
	if (origin != NULL && sane_header_value(origin, 256)) {
		rv_resp_header(resp, "Access-Control-Allow-Origin", "%s", origin);
		rv_resp_header(resp, "Vary", "Origin");
	} else {
		rv_resp_header(resp, "Access-Control-Allow-Origin", "*");
	}
	rv_resp_header(resp, "Access-Control-Expose-Headers", "*");
}

static void
error_response(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	struct rv_buf msg = RV_BUF_INIT;
	json_t *body;

	if (err->code == NULL)
		rv_err_set(err, RV_E_INTERNAL, "handler failed without saying why");
	if (err->status >= 500) {
		rv_log_warnx("%d %s: %s", err->status, err->code, err->msg);
		/* the detail stays in the log (STYLE.md 4.4) */
		err->details[0] = '\0';
		if (err->data != NULL)
			json_decref(err->data);
		err->data = NULL;
	} else {
		rv_log_info("%d %s: %s", err->status, err->code, err->msg);
	}
	rv_i18n_render(rv_req_lang(req), err, &msg);
	body = json_pack("{s:s, s:s}", "code", err->code, "message", msg.buf);
	if (err->data != NULL) {
		json_object_set(body, "data", err->data);
	}
	if (err->details[0] != '\0')
		json_object_set_new(body, "details", json_string(err->details));
	rv_resp_reset(resp);
	rv_resp_json(resp, err->status, body);
	rv_buf_addstr(&resp->headers, err->headers);
	rv_buf_release(&msg);
}

static void
allowed_methods(const struct rv_endpoint *ep, const struct rv_req *req,
		struct rv_buf *out)
{
	const struct rv_route *r;
	struct match m;

	for (r = ep->routes; r->method != NULL; r++) {
		if (!route_match(r, req->path, &m))
			continue;
		if (out->len > 0)
			rv_buf_addstr(out, ", ");
		rv_buf_addstr(out, r->method);
		if (strcmp(r->method, "GET") == 0)
			rv_buf_addstr(out, ", HEAD");
	}
	if (out->len > 0)
		rv_buf_addstr(out, ", OPTIONS");
}

static void
preflight(struct rv_req *req, struct rv_resp *resp, const char *allow)
{
	const char *want = rv_req_header(req, "Access-Control-Request-Headers");

	rv_resp_empty(resp, 204);
	rv_resp_header(resp, "Allow", "%s", allow);
	if (!req->conf->http_cors ||
	    rv_req_header(req, "Access-Control-Request-Method") == NULL)
		return;
	rv_resp_header(resp, "Access-Control-Allow-Methods", "%s", allow);
	if (want != NULL && sane_header_value(want, 512))
		rv_resp_header(resp, "Access-Control-Allow-Headers", "%s", want);
	rv_resp_header(resp, "Access-Control-Max-Age", "600");
}

void
rv_main_serve(const struct rv_endpoint *ep, struct rv_req *req,
	      struct rv_resp *resp, bool *head_r)
{
	const struct rv_route *r, *found = NULL;
	struct match m, fm;
	struct rv_err err;
	const char *want = req->method;

	rv_err_init(&err);
	*head_r = false;
	rv_log_set_request_id(req->id);
	if (strcmp(req->method, "HEAD") == 0) {
		*head_r = true;
		want = "GET";
	}
	if (req->outside) {
		rv_err_set(&err, RV_E_NOT_FOUND, "not below the base path");
		goto fail;
	}
	for (r = ep->routes; r->method != NULL; r++)
		if (route_match(r, req->path, &m)) {
			if (found == NULL || strcmp(r->method, want) == 0) {
				found = r;
				fm = m;
			}
			if (strcmp(r->method, want) == 0)
				break;
		}
	if (found == NULL) {
		rv_err_set(&err, RV_E_NOT_FOUND, "no route for '%.80s'",
			   req->path);
		goto fail;
	}
	bind_route(req, found, &fm);
	if (r->method == NULL) {
		struct rv_buf allow = RV_BUF_INIT;

		allowed_methods(ep, req, &allow);
		if (strcmp(req->method, "OPTIONS") == 0) {
			preflight(req, resp, allow.buf);
			rv_buf_release(&allow);
			goto done;
		}
		rv_err_set(&err, RV_E_METHOD, "%.16s not allowed on %s",
			   req->method, found->pattern);
		rv_err_var(&err, "methods", "%s", allow.buf);
		rv_err_header(&err, "Allow", "%s", allow.buf);
		rv_buf_release(&allow);
		goto fail;
	}
	if (ep->gate != NULL && ep->gate(req, resp, &err) < 0)
		goto fail;
	if ((r->flags & RV_ROUTE_JSON) &&
	    rv_req_read_body(req, true, &err) < 0)
		goto fail;
	if (r->handler(req, resp, &err) < 0)
		goto fail;
	if (resp->status == 0)
		rv_err_set(&err, RV_E_INTERNAL, "handler set no status");
	else
		goto done;
fail:
	error_response(req, resp, &err);
done:
	add_cors(req, resp);
	rv_err_release(&err);
}

/* ---- the two front ends ----------------------------------------------- */

static ssize_t
cgi_read(void *ctx, char *buf, size_t n)
{
	ssize_t got;

	(void)ctx;
	do
		got = read(0, buf, n);
	while (got < 0 && errno == EINTR);
	return got;
}

/*
 * The part of a CGI request body that nobody read (after a 413, a 404, a
 * 405...) is read and thrown away before the program exits: Apache's
 * mod_cgid writes the whole body before it reads the answer, and a closed
 * pipe makes it reset the connection instead. At most CONTENT_LENGTH bytes,
 * and no more than RV_CGI_DRAIN_MAX (web servers cap bodies far below).
 */
#define RV_CGI_DRAIN_MAX (16LL * 1024 * 1024)

static void
cgi_drain(void)
{
	const char *cl = getenv("CONTENT_LENGTH");
	long long left;
	char buf[16384];
	ssize_t got;

	if (cl == NULL || rv_parse_ll(cl, 1, 9223372036854775807LL, &left) < 0)
		return;
	if (left > RV_CGI_DRAIN_MAX)
		left = RV_CGI_DRAIN_MAX;
	while (left > 0 && (got = cgi_read(NULL, buf, sizeof(buf))) > 0)
		left -= got;
}

static int
cgi_write(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	while (len > 0) {
		ssize_t n = write(1, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t
fcgi_read(void *ctx, char *buf, size_t n)
{
	int want = n > 65536 ? 65536 : (int)n;

	return FCGX_GetStr(buf, want, ((FCGX_Request *)ctx)->in);
}

static int
fcgi_write(void *ctx, const char *data, size_t len)
{
	FCGX_Stream *out = ((FCGX_Request *)ctx)->out;

	while (len > 0) {
		int chunk = len > 65536 ? 65536 : (int)len;

		if (FCGX_PutStr(data, chunk, out) != chunk)
			return -1;
		data += chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The path for the log: a route with parameters as its pattern, since the
 * one that names a record (DELETE /api/verifications/:id) may be a live
 * record id, which must not reach a log (issue 14, F1). */
static const char *
log_path(const struct rv_req *req)
{
	return req->nparams > 0 ? req->pattern : req->path;
}

static int
serve_one(const struct rv_endpoint *ep, const struct rv_conf *conf,
	  struct rv_arena *arena, char **env, rv_req_read_fn *rd, void *rctx,
	  rv_resp_write_fn *wr, void *wctx)
{
	struct rv_req req;
	struct rv_resp resp;
	struct timespec t0;
	bool head;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rv_req_init(&req, arena, conf, env, rd, rctx);
	rv_resp_init(&resp);
	rv_main_serve(ep, &req, &resp, &head);
	rc = rv_resp_send(&resp, req.id, head, wr, wctx);
	rv_log_info("%.16s %.80s %d %.1fms", req.method, log_path(&req),
		    resp.status, ms_since(&t0));
	rv_log_set_request_id(NULL);
	rv_resp_release(&resp);
	rv_req_release(&req);
	rv_arena_reset(arena);
	return rc;
}

#define CGI_SPARE_S 60	/* a CGI request's time beyond <delivery timeout> */

/* Was the CGI request a read (GET, HEAD, OPTIONS)? */
static bool
cgi_read_only(void)
{
	const char *m = getenv("REQUEST_METHOD");

	return m != NULL && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
			     strcmp(m, "OPTIONS") == 0);
}

/* After the answer has gone out: maintenance that must not delay it. */
static void
after_request(void)
{
	purge_a_little();
}

/* ---- idle ---------------------------------------------------------------- */

/* a FastCGI worker that has had no request for this long gives back the
 * memory of its last ones (doc/performance.md, "Memory") */
#define IDLE_MS 2000

/* is fd readable within ms? (false on timeout, or a signal: the caller
 * looks at stopping) */
static bool
readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) > 0;
}

static void
go_idle(void)
{
	rv_run_idle();
#ifdef HAVE_MALLOC_TRIM
	malloc_trim(0);
#endif
}

/* ---- start-up ---------------------------------------------------------- */

static void
usage(const char *name)
{
	fprintf(stderr,
		"usage: %s [-dtV] [-c FILE] [-s ADDR]\n"
		"  -c FILE  configuration (default: $REVERIFY_CONFIG, else %s)\n"
		"  -d       log to stderr at debug level\n"
		"  -t       check the configuration and exit\n"
		"  -s ADDR  serve FastCGI on ADDR (a socket path or [host]:port)\n"
		"  -V       print the version and exit\n"
		"Run by a web server as CGI or FastCGI; see reverify(7).\n",
		name, RV_CONFIG_DEFAULT);
}

/* A start-up failure while a web server waits for a CGI answer still gets
 * a JSON 500, not "premature end of script headers". */
static int
startup_failed(bool cgi, const char *what)
{
	static const char body[] =
		"{\"code\":\"internal_error\",\"message\":\"Internal server error.\"}";
	char head[256];

	rv_log_warnx("%s", what);
	if (cgi && getenv("REQUEST_METHOD") != NULL) {
		snprintf(head, sizeof(head),
			 "Status: 500 Internal Server Error\r\n"
			 "Content-Type: application/json; charset=utf-8\r\n"
			 "Content-Length: %zu\r\nCache-Control: no-store\r\n\r\n",
			 sizeof(body) - 1);
		cgi_write(NULL, head, strlen(head));
		cgi_write(NULL, body, sizeof(body) - 1);
	}
	return 1;
}

int
rv_main(int argc, char **argv, const struct rv_endpoint *ep)
{
	const char *conf_path = NULL, *listen_addr = NULL;
	long long nfds, pid;
	bool debug = false, check_only = false, cgi, no_file;
	char *what = NULL;
	struct rv_conf conf;
	struct rv_err err;
	struct rv_arena arena = RV_ARENA_INIT;
	struct sigaction sa;
	int ch, listen_fd = 0, rc = 0;

	memset(&conf, 0, sizeof(conf));
	rv_err_init(&err);
	rv_ensure_std_fds();
	rv_json_alloc_init();	/* before any JSON is made */
	rv_log_init(argc > 0 ? argv[0] : ep->name);
	while ((ch = getopt(argc, argv, "c:dts:Vh")) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'd': debug = true; break;
		case 't': check_only = true; break;
		case 's': listen_addr = optarg; break;
		case 'V': printf("%s (%s) %s\n", ep->name, PACKAGE_NAME, PACKAGE_VERSION);
			  return 0;
		default: usage(ep->name);
			 return 2;
		}
	}
	if (optind != argc) {
		usage(ep->name);
		return 2;
	}
	/* systemd socket activation passes the socket as fd 3 */
	if (listen_addr == NULL &&
	    rv_parse_ll(getenv("LISTEN_FDS"), 1, INT_MAX, &nfds) == 0 &&
	    rv_parse_ll(getenv("LISTEN_PID"), 1, LLONG_MAX, &pid) == 0 &&
	    pid == (long long)getpid())
		listen_fd = 3;
	if (FCGX_Init() != 0)
		rv_fatalx("cannot initialise libfcgi");
	cgi = listen_addr == NULL && listen_fd == 0 && FCGX_IsCGI();

	conf_path = rv_conf_path(conf_path, &no_file);
	rv_xml_init();
	rv_err_init(&err);
	if (no_file) {
		/* no file where we would look by default: run on the
		 * built-in defaults rather than refuse to start */
		rv_conf_defaults(&conf);
		if (!check_only)
			rv_log_warnx("no configuration file '%s'; using the built-in defaults",
				     conf_path);
	} else if (rv_conf_load(conf_path, &conf, &err) < 0) {
		what = rv_xasprintf("configuration error: %s", err.msg);
		goto fail;
	}
	if (!debug && !check_only) {
		if (rv_log_open_conf(&conf) < 0) {
			what = rv_xstrdup("cannot open the log");
			goto fail;
		}
	} else if (debug) {
		rv_log_open(RV_LOG_STDERR, NULL, NULL, RV_LOG_LEVEL_DEBUG);
	}
	/* one request: what it may not need is loaded when it needs it */
	rv_setup_defer(cgi && !check_only);
	if (rv_i18n_init(conf.i18n_overrides, &err) < 0) {
		what = rv_xasprintf("message catalogs: %s", err.msg);
		goto fail;
	}
	if (setup_needs(ep->needs, &conf, &err) < 0 ||
	    (ep->setup != NULL && ep->setup(&conf, &err) < 0)) {
		what = rv_xasprintf("%s", err.msg);
		goto fail;
	}
	if (check_only) {
		printf("%s: configuration '%s' is valid\n", ep->name,
		       conf.path ? conf.path : "(built-in defaults)");
		goto out;
	}

	if (cgi) {
		if (getenv("REQUEST_METHOD") == NULL) {
			fprintf(stderr, "%s: not started by a web server: no REQUEST_METHOD "
				"for CGI and no FastCGI socket (see -s)\n", ep->name);
			rc = 2;
			goto out;
		}
		/* a CGI process never outlives its request by much: one that
		 * waits on a lock of a killed process (a region that recovery
		 * replaced) would wait for ever, and web servers leave such
		 * children behind (the FastCGI worker has its watchdog) */
		alarm((unsigned)conf.del_timeout + CGI_SPARE_S);
		if (serve_one(ep, &conf, &arena, environ, cgi_read, NULL,
			      cgi_write, NULL) < 0)
			rc = 1;
		close(1);	/* the web server has the whole answer now */
		cgi_drain();
		/* a CGI read writes nothing, a purge neither (issue 17): a
		 * shared host's disk sees no write for a GET; writes purge */
		if (!cgi_read_only())
			after_request();
		goto out;
	}

	if (listen_addr != NULL) {
		/* FCGX_OpenSocket takes "path" or ":port"/"host:port" */
		umask(0117);
		if ((listen_fd = FCGX_OpenSocket(listen_addr, 64)) < 0) {
			what = rv_xasprintf("cannot listen on '%s'", listen_addr);
			goto fail;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: accept() must see EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	rv_log_info("serving FastCGI (%s)", ep->name);
	if (set_up & (RV_NEED_STORE | RV_NEED_PROBE))
		rv_store_watchdog();
	{
		FCGX_Request fr;
		bool busy = false;	/* served since the last idle */

		FCGX_InitRequest(&fr, listen_fd, 0);
		while (!stopping) {
			/* after IDLE_MS without a request, give back what
			 * the last ones kept, then wait as long as it takes
			 * (not while the server keeps our connection open:
			 * its next request comes on that one) */
			if (busy && fr.ipcFd < 0 && !readable(listen_fd, IDLE_MS)) {
				if (stopping)
					break;
				go_idle();
				busy = false;
			}
			if (FCGX_Accept_r(&fr) < 0)
				break;
			serve_one(ep, &conf, &arena, fr.envp, fcgi_read, &fr,
				  fcgi_write, &fr);
			FCGX_Finish_r(&fr);
			after_request();
			busy = true;
		}
		FCGX_Free(&fr, 1);
	}
	rv_log_info("stopping");
	goto out;
fail:
	rc = startup_failed(cgi, what);
out:
	if (ep->teardown != NULL)
		ep->teardown();
	teardown_needs();
	free(what);
	rv_err_release(&err);
	rv_arena_release(&arena);
	rv_conf_release(&conf);
	rv_i18n_release();
	rv_log_close();
	return rc;
}
