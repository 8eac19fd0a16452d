/* conf-xsd.c: prints conf/reverify.xsd, generated from the key table */
#include "config.h"

#include <stdio.h>

#include "rv-buf.h"
#include "rv-conf.h"

int
main(void)
{
	struct rv_buf out = RV_BUF_INIT;

	rv_conf_xsd(&out);
	fwrite(out.buf, 1, out.len, stdout);
	rv_buf_release(&out);
	return 0;
}
