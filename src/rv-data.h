/* rv-data.h: data files compiled into the programs (catalogs, templates) */
#ifndef RV_DATA_H
#define RV_DATA_H

#include <stddef.h>

/*
 * The shipped defaults under conf/ (locale/LANG.xml, templates/LANG.xml), built
 * into src/rv-data.c by build-aux/embed.awk, so that a program copied alone
 * into a cgi-bin/ still speaks every language. Admin overrides are read from
 * disk on top of these (rv-i18n.h).
 */
struct rv_data_file {
	const char *name;	/* "locale/en.xml" */
	const char *data;
	size_t len;
};

/* Terminated by an entry with name NULL. */
extern const struct rv_data_file rv_data_files[];

#endif
