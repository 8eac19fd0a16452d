/* rv-main.h: the one main loop every program uses, and its route table */
#ifndef RV_MAIN_H
#define RV_MAIN_H

#include <stdbool.h>

struct rv_conf;
struct rv_err;
struct rv_req;
struct rv_resp;

/*
 * A handler answers one request: it fills resp and returns 0, or fills err
 * and returns -1; rv_main turns err into the JSON error. It never writes
 * output itself.
 */
typedef int rv_handler_fn(struct rv_req *req, struct rv_resp *resp,
			  struct rv_err *err);

#define RV_ROUTE_JSON	0x1	/* takes a JSON object body */

struct rv_route {
	const char *method;	/* "GET", "POST", "PATCH", "DELETE"; NULL ends */
	const char *pattern;	/* "/api/verifications/:id"; a ":name" segment
				   matches 1-64 of [A-Za-z0-9_-] */
	rv_handler_fn *handler;
	unsigned flags;
	/* What a ":name" value may be beyond 1-64 of [A-Za-z0-9_-]; a value
	 * it refuses is no match (404, not 405). NULL: any such value. */
	bool (*param_ok)(const char *value);
};

/* What a program needs; rv_main sets up exactly that, once, and tears
 * it down at the end (cgit's want_repo). */
#define RV_NEED_AUTH	  0x1	/* callers: the JWKS in jwt mode (rv_auth_setup) */
#define RV_NEED_STORE	  0x2	/* the store (rv_main_store), purged a little
				   after each request; one that is missing at
				   start is retried per request (503), one that
				   is unsafe stops the program */
#define RV_NEED_PROBE	  0x4	/* the store as a probe (status): any failure
				   to open it is a 503, never a stop */
#define RV_NEED_TEMPLATES 0x8	/* message templates (codes, notices) */
#define RV_NEED_PWPOLICY  0x10	/* the new-password policy and its pwned list */

struct rv_endpoint {
	const char *name;		/* program name, for logs and usage */
	const struct rv_route *routes;
	unsigned needs;			/* RV_NEED_* */
	/* Called once after the config is loaded and the needs are set up,
	 * before serving, for what only this program has; may be NULL. -1
	 * with err stops the program (fatal). */
	int (*setup)(const struct rv_conf *conf, struct rv_err *err);
	/* Called once before the program exits; may be NULL. */
	void (*teardown)(void);
	/* Called for every routed request before its body is read and parsed,
	 * so that authentication errors come first, as in Logto (logto-spec
	 * 1.2: auth at step 6, the body guard at step 10); may be NULL. */
	rv_handler_fn *gate;
};

/*
 * The whole program (STYLE.md 4.3): makes sure fds 0-2 are open, reads
 * -c FILE / REVERIFY_CONFIG / the compiled-in default, loads and checks the
 * configuration and catalogs once, then serves one request as CGI (when not
 * started by a FastCGI server) or loops on FCGX_Accept_r until SIGTERM.
 * Options: -c FILE, -d (debug log on stderr), -t (check the configuration
 * and exit), -s ADDR (listen on a FastCGI socket: a path or [host]:port),
 * -V, -h. Returns the exit status.
 */
int rv_main(int argc, char **argv, const struct rv_endpoint *ep);

/* The store of the process (RV_NEED_STORE or RV_NEED_PROBE), opened now
 * if it could not be at start-up; NULL with err = 503
 * service.unavailable while it cannot be opened (the why is logged). */
struct rv_store *rv_main_store(struct rv_err *err);
/* For unit tests, which drive the library without rv_main: st (opened by
 * the caller, who closes it; NULL forgets it) becomes the process's store,
 * opened again from conf when it is NULL. */
void rv_main_set_store(struct rv_store *st, const struct rv_conf *conf);

/*
 * Serves one request whose req was set up by the caller: works out the
 * route, checks the method, reads the body, calls the handler, turns an
 * error into the JSON error, and adds the headers every response carries.
 * *head_r tells whether to send the body. For rv_main and for tests.
 */
void rv_main_serve(const struct rv_endpoint *ep, struct rv_req *req,
		   struct rv_resp *resp, bool *head_r);

#endif
