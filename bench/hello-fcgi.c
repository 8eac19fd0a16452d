/* hello-fcgi.c: the bench's ceiling: a bare FCGX_Accept_r loop that
 * answers a fixed JSON body, with none of rv_main (no config, store,
 * token check or routing); as CGI (not started by a FastCGI server) it
 * answers one request and exits, the ceiling of CGI mode */
#include "config.h"

#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char answer[] =
	"Status: 200 OK\r\n"
	"Content-Type: application/json; charset=utf-8\r\n"
	"Cache-Control: no-store\r\n"
	"\r\n"
	"{\"hello\":\"world\"}\n";

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

int
main(void)
{
	FCGX_Request r;
	struct sigaction sa;

	if (FCGX_Init() != 0)
		return 1;
	if (FCGX_IsCGI()) {
		fputs(answer, stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	/* as rv_main does: SIGTERM ends the loop (accept() sees EINTR), so
	 * that the bench's callgrind runs end with an exit */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	FCGX_InitRequest(&r, 0, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!stopping && FCGX_Accept_r(&r) >= 0) {
		FCGX_PutStr(answer, (int)sizeof(answer) - 1, r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
