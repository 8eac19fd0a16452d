/* hello-fcgi.c: the bench's ceiling: a bare FCGX_Accept_r loop that
 * answers a fixed JSON body, with none of rv_main (no config, store,
 * token check or routing); as CGI (not started by a FastCGI server) it
 * answers one request and exits, the ceiling of CGI mode */
#include "config.h"

#include <fcgiapp.h>
#include <stdio.h>

static const char answer[] =
	"Status: 200 OK\r\n"
	"Content-Type: application/json; charset=utf-8\r\n"
	"Cache-Control: no-store\r\n"
	"\r\n"
	"{\"hello\":\"world\"}\n";

int
main(void)
{
	FCGX_Request r;

	if (FCGX_Init() != 0)
		return 1;
	if (FCGX_IsCGI()) {
		fputs(answer, stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	FCGX_InitRequest(&r, 0, 0);
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutStr(answer, (int)sizeof(answer) - 1, r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
