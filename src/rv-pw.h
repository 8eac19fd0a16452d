/* rv-pw.h: the password scheme families (internal to rv-password.c) */
#ifndef RV_PW_H
#define RV_PW_H

#include "rv-password.h"

extern const struct rv_pw_scheme rv_pw_argon2;	/* rv-pw-argon2.c */
extern const struct rv_pw_scheme rv_pw_crypt;	/* rv-pw-crypt.c */
extern const struct rv_pw_scheme rv_pw_pbkdf2;	/* rv-pw-pbkdf2.c */

#endif
