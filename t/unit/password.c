/* unit/password: rv-password.c and its families (rv-pw-*.c) against the
 * reference vectors of t/fixtures/passwords/vectors.txt */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-password.h"
#include "rv-pw.h"
#include "rv-util.h"
#include "tap.h"

#define MAX_VECTORS 128

struct vector {
	int line;
	char *scheme;
	char *password;
	char *hash;
};

static struct vector vectors[MAX_VECTORS];
static int nvectors;

/* Reads SCHEME<TAB>PASSWORD<TAB>HASH lines; '#' lines and blank lines are
 * comments. */
static int
load_vectors(const char *path)
{
	char line[4096];
	FILE *fp;
	int lineno = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *t1, *t2, *nl;

		lineno++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((t1 = strchr(line, '\t')) == NULL ||
		    (t2 = strchr(t1 + 1, '\t')) == NULL || nvectors == MAX_VECTORS) {
			diag("%s:%d: not SCHEME<TAB>PASSWORD<TAB>HASH", path, lineno);
			fclose(fp);
			return -1;
		}
		*t1 = *t2 = '\0';
		vectors[nvectors].line = lineno;
		vectors[nvectors].scheme = rv_xstrdup(line);
		vectors[nvectors].password = rv_xstrdup(t1 + 1);
		vectors[nvectors].hash = rv_xstrdup(t2 + 1);
		nvectors++;
	}
	fclose(fp);
	return 0;
}

/* rv_password_verify with a fresh err; a -1 must come with a 500 */
static int
verify(const char *pw, size_t len, const char *hash, const struct rv_conf *conf,
       char *msg_r, size_t msgsize)
{
	struct rv_err err;
	int rc;

	rv_err_init(&err);
	rc = rv_password_verify(pw, len, hash, conf, &err);
	if (rc < 0 && (err.status != 500 || err.code == NULL ||
		       strcmp(err.code, "internal_error") != 0))
		rc = -2;
	if (msg_r != NULL)
		rv_strlcpy(msg_r, err.msg, msgsize);
	rv_err_release(&err);
	return rc;
}

static int
verify_str(const char *pw, const char *hash, const struct rv_conf *conf)
{
	return verify(pw, strlen(pw), hash, conf, NULL, 0);
}

/* a malformed or hostile hash: -1 with a message, whatever the password */
static void
bad(const struct rv_conf *conf, const char *hash, const char *title)
{
	char msg[256];
	int rc = verify("password", 8, hash, conf, msg, sizeof(msg));

	if (!ok(rc == -1 && msg[0] != '\0', "refused: %s", title))
		diag("rc %d msg '%s'", rc, msg);
	else
		diag("  %s", msg);
}

/* a malformed hash that its family answers like a wrong password (0) instead
 * of refusing it (-1): never a match, never a crash */
static void
no_match(const struct rv_conf *conf, const char *hash, const char *title)
{
	char msg[256];
	int rc = verify("password", 8, hash, conf, msg, sizeof(msg));

	if (!ok(rc == -1 || rc == 0, "does not verify: %s", title))
		diag("rc %d msg '%s'", rc, msg);
	else if (rc == 0)
		diag("  answered 0, not -1: malformed, but not reported");
}

static void
test_vectors(const struct rv_conf *conf)
{
	char *buf;
	int i;

	for (i = 0; i < nvectors; i++) {
		const struct vector *v = &vectors[i];
		const struct rv_pw_scheme *s = rv_password_scheme(v->hash);
		size_t len = strlen(v->password), n, last, full;
		char msg[256];
		int rc, worst;

		ok(s != NULL && strcmp(s->name, v->scheme) == 0,
		   "line %d: %.24s... is of family %s", v->line, v->hash, v->scheme);
		rc = verify(v->password, len, v->hash, conf, msg, sizeof(msg));
		if (!is_int(rc, 1, "line %d: %s %.16s... verifies its password",
			    v->line, v->scheme, v->hash))
			diag("%s", msg);
		is_int(verify_str("wrong password", v->hash, conf), 0,
		       "line %d: a wrong password does not verify", v->line);
		buf = rv_xmalloc(len + 3);
		memcpy(buf, v->password, len);
		buf[0] ^= 1;
		is_int(verify(buf, len, v->hash, conf, NULL, 0), 0,
		       "line %d: the password with its first byte changed does not verify",
		       v->line);
		buf[0] ^= 1;
		buf[len] = '\n';
		is_int(verify(buf, len + 1, v->hash, conf, NULL, 0), 0,
		       "line %d: the password with a trailing newline does not verify",
		       v->line);
		buf[len] = '\0';
		buf[len + 1] = 'x';
		is_int(verify(buf, len + 2, v->hash, conf, NULL, 0), 0,
		       "line %d: the password, a NUL and more does not verify", v->line);
		free(buf);
		is_int(verify("", 0, v->hash, conf, NULL, 0), 0,
		       "line %d: the empty password does not verify", v->line);
		/*
		 * Prefixes of the hash: never a match, never a crash. Every cut
		 * up to the last '$', then 1, 2, 3 and half of the last field
		 * (each cut there costs a whole hash, and yescrypt is slow).
		 */
		buf = rv_xstrdup(v->hash);
		last = (size_t)(strrchr(v->hash, '$') - v->hash) + 1;
		full = strlen(v->hash);
		worst = 0;
		for (n = full; n-- > 0;) {
			size_t cut = full - n;

			if (n >= last && cut > 3 && n != last + (full - last) / 2)
				continue;
			if (strspn(v->hash + n, "=") == cut)
				continue;	/* only padding cut, which is optional */
			buf[n] = '\0';
			rc = verify(v->password, len, buf, conf, NULL, 0);
			if (rc == 1 || rc == -2) {
				diag("'%s' gives %d", buf, rc);
				worst = 1;
			}
		}
		free(buf);
		ok(worst <= 0, "line %d: no truncation of the hash verifies", v->line);
	}
}

/* the vector on this line's hash */
static const char *
vector_hash(const char *prefix)
{
	int i;

	for (i = 0; i < nvectors; i++)
		if (strncmp(vectors[i].hash, prefix, strlen(prefix)) == 0)
			return vectors[i].hash;
	diag("no vector starts with '%s'", prefix);
	return "";
}

static void
test_hostile(const struct rv_conf *conf)
{
	/* a valid PHC salt and SHA-256 hash to build on */
	static const char salt[] = "c2l4dGVlbi1ieXRlLXNsdA";
	static const char dk[] = "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8";
	char *h, big[2001];
	int i;

	ok(verify_str("password", "$pbkdf2-sha256$i=1000,l=32$c2l4dGVlbi1ieXRlLXNsdA$"
		      "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", conf) == 1,
	   "the PHC vector built on verifies");

	/* PHC */
	bad(conf, "$pbkdf2-sha256$i=999999999,l=32$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC i=999999999 (over the cap)");
	bad(conf, "$pbkdf2-sha256$i=99999999999,l=32$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC i= of 11 digits");
	bad(conf, "$pbkdf2-sha256$i=0,l=32$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC i=0");
	bad(conf, "$pbkdf2-sha256$i=-1000,l=32$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC negative i=");
	bad(conf, "$pbkdf2-sha256$i=01000,l=32$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC i= with a leading zero");
	bad(conf, "$pbkdf2-sha256$i=1e3,l=32$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC non-numeric i=");
	bad(conf, "$pbkdf2-sha256$i=,l=32$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC empty i=");
	bad(conf, "$pbkdf2-sha256$l=32,i=1000$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC l= before i=");
	bad(conf, "$pbkdf2-sha256$i=1000,l=31$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC l= not the hash length");
	bad(conf, "$pbkdf2-sha256$i=1000,l=32,x=1$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC unknown parameter");
	bad(conf, "$pbkdf2-sha384$i=1000$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC unknown digest sha384");
	bad(conf, "$pbkdf2-sha1$i=1000$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC $pbkdf2-sha1$ (not an ident)");
	bad(conf, "$pbkdf2-sha256$i=1000,l=32$c2l4dGVl*i1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC salt with a bad character");
	bad(conf, "$pbkdf2-sha256$i=1000,l=32$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc9", "PHC hash with non-zero spare bits");
	bad(conf, "$pbkdf2-sha256$i=1000,l=32$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3.KT09l2LaTQMHuO3VmnJWzc8", "PHC hash in passlib's alphabet");
	bad(conf, "$pbkdf2-sha256$i=1000,l=32$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8==", "PHC hash with one '=' too many");
	bad(conf, "$pbkdf2-sha256$i=1000,l=32$c2l4dGVlbi1ieXRlLXNsdA=$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8", "PHC salt with short padding");
	bad(conf, "$pbkdf2-sha256$i=1000,l=32$c2l4dGVlbi1ieXRlLXNsdA$TJM5uxj0qoByRVx84N3/KT",
	    "PHC hash of 16 bytes and a half");
	bad(conf, "$pbkdf2-sha256$i=1000,l=15$c2l4dGVlbi1ieXRlLXNsdA$TJM5uxj0qoByRVx84N3/",
	    "PHC hash of 15 bytes");
	bad(conf, "$pbkdf2-sha256$i=1000$c2l4dGVlbi1ieXRlLXNsdA$TJM5uxj0qoByRVx84N3/KT09l2LaTQMH",
	    "PHC without l= and a hash shorter than SHA-256's");
	bad(conf, "$pbkdf2-sha256$i=1000$$TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8",
	    "PHC empty salt");
	bad(conf, "$pbkdf2-sha256$i=1000$c2l4dGVlbi1ieXRlLXNsdA$", "PHC empty hash");
	bad(conf, "$pbkdf2-sha256$i=1000$c2l4dGVlbi1ieXRlLXNsdA", "PHC no hash");
	bad(conf, "$pbkdf2-sha256$i=1000,l=32$c2l4dGVlbi1ieXRlLXNsdA$"
	    "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8$", "PHC a sixth field");
	h = rv_xasprintf("$pbkdf2-sha512$i=1000$%s$"
			 "TJM5uxj0qoByRVx84N3/KT09l2LaTQMHuO3VmnJWzc8TJM5uxj0qoByRVx84N3/"
			 "KT09l2LaTQMHuO3VmnJWzc8TJM5uxj", salt);
	bad(conf, h, "PHC hash of 66 bytes");
	free(h);
	memset(big, 'A', 344);	/* 258 bytes */
	big[344] = '\0';
	h = rv_xasprintf("$pbkdf2-sha256$i=1000$%s$%s", big, dk);
	bad(conf, h, "PHC salt of 258 bytes");
	free(h);
	memset(big, 'A', 340);	/* 255 bytes: well formed, wrong */
	big[340] = '\0';
	h = rv_xasprintf("$pbkdf2-sha256$i=1000$%s$%s", big, dk);
	is_int(verify_str("password", h, conf), 0, "PHC salt of 255 bytes is allowed");
	free(h);

	/* passlib */
	bad(conf, "$pbkdf2-sha256$29000$N6YU+sh5j9H6v5fSGkMoxQ$"
	    "/n07Dsrjt3.Y7dLlWDCzUCrsCYGad3/P26VsHdW8K1Q", "passlib salt with a '+'");
	bad(conf, "$pbkdf2-sha256$29000$N6YUQsh5j9H6v5fSGkMoxQ==$"
	    "/n07Dsrjt3.Y7dLlWDCzUCrsCYGad3/P26VsHdW8K1Q", "passlib salt with padding");
	bad(conf, "$pbkdf2-sha256$29000$N6YUQsh5j9H6v5fSGkMoxQ$"
	    "/n07Dsrjt3.Y7dLlWDCzUCrsCYGad3/P26VsHdW8", "passlib hash shorter than SHA-256");
	bad(conf, "$pbkdf2$29000$N6YUQsh5j9H6v5fSGkMoxQ$"
	    "/n07Dsrjt3.Y7dLlWDCzUCrsCYGad3/P26VsHdW8K1Q", "passlib SHA-1 with a 32-byte hash");
	bad(conf, "$pbkdf2-sha256$x29000$N6YUQsh5j9H6v5fSGkMoxQ$"
	    "/n07Dsrjt3.Y7dLlWDCzUCrsCYGad3/P26VsHdW8K1Q", "passlib non-numeric rounds");
	bad(conf, "$pbkdf2-sha256$$N6YUQsh5j9H6v5fSGkMoxQ$"
	    "/n07Dsrjt3.Y7dLlWDCzUCrsCYGad3/P26VsHdW8K1Q", "passlib empty rounds");
	bad(conf, "$pbkdf2-sha256$999999999$N6YUQsh5j9H6v5fSGkMoxQ$"
	    "/n07Dsrjt3.Y7dLlWDCzUCrsCYGad3/P26VsHdW8K1Q", "passlib 999999999 rounds");

	/* Django */
	bad(conf, "pbkdf2_sha256$$$", "pbkdf2_sha256$$$");
	bad(conf, "pbkdf2_sha256$1000$$e/opBkNtzM0NR1NqgOu8FCZd0B6jkWLAOFHouqjEHJk=",
	    "Django empty salt");
	bad(conf, "pbkdf2_sha256$1000$21EqWFf0rEP5FI51yBoqE6$"
	    "e/opBkNtzM0NR1NqgOu8FCZd0B6jkWLAOFHouqjEHJk", "Django hash without its padding");
	bad(conf, "pbkdf2_sha256$1000$21EqWFf0rEP5FI51yBoqE6$e/opBkNtzM0NR1NqgOu8FA==",
	    "Django hash shorter than SHA-256's");
	bad(conf, "pbkdf2_sha256$abc$21EqWFf0rEP5FI51yBoqE6$"
	    "e/opBkNtzM0NR1NqgOu8FCZd0B6jkWLAOFHouqjEHJk=", "Django non-numeric iterations");
	bad(conf, "pbkdf2_sha256$1000000000000$21EqWFf0rEP5FI51yBoqE6$"
	    "e/opBkNtzM0NR1NqgOu8FCZd0B6jkWLAOFHouqjEHJk=", "Django 10^12 iterations");
	bad(conf, "pbkdf2_sha512$1000$21EqWFf0rEP5FI51yBoqE6$"
	    "e/opBkNtzM0NR1NqgOu8FCZd0B6jkWLAOFHouqjEHJk=", "Django pbkdf2_sha512 (not Django's)");
	bad(conf, "pbkdf2_sha256$1000$21EqWFf0rEP5FI51yBoqE6$"
	    "e/opBkNtzM0NR1NqgOu8FCZd0B6jkWLAOFHouqjEHJk=$", "Django a fifth field");
	bad(conf, "pbkdf2_sha256$1000$21EqWFf0rEP5FI51yBoqE6", "Django no hash");
	memset(big, 's', 257);
	big[257] = '\0';
	h = rv_xasprintf("pbkdf2_sha256$1000$%s$e/opBkNtzM0NR1NqgOu8FCZd0B6jkWLAOFHouqjEHJk=",
			 big);
	bad(conf, h, "Django salt of 257 bytes");
	free(h);

	/* Werkzeug */
	bad(conf, "pbkdf2:sha256$3Dbqu4gAlnFNEpCL$"
	    "6cfd205b3231a3b482ea3a624ab62ae3cd8d3d796bb920868ebae694e14819e6",
	    "Werkzeug without an iteration count (ambiguous)");
	bad(conf, "pbkdf2:sha256:$3Dbqu4gAlnFNEpCL$"
	    "6cfd205b3231a3b482ea3a624ab62ae3cd8d3d796bb920868ebae694e14819e6",
	    "Werkzeug empty iteration count");
	bad(conf, "pbkdf2:md5:1000$3Dbqu4gAlnFNEpCL$"
	    "6cfd205b3231a3b482ea3a624ab62ae3cd8d3d796bb920868ebae694e14819e6",
	    "Werkzeug md5");
	bad(conf, "pbkdf2:sha256:1000$3Dbqu4gAlnFNEpCL$"
	    "6CFD205B3231A3B482EA3A624AB62AE3CD8D3D796BB920868EBAE694E14819E6",
	    "Werkzeug uppercase hex");
	bad(conf, "pbkdf2:sha256:1000$3Dbqu4gAlnFNEpCL$"
	    "6cfd205b3231a3b482ea3a624ab62ae3cd8d3d796bb920868ebae694e14819e",
	    "Werkzeug odd hex length");
	bad(conf, "pbkdf2:sha256:1000$3Dbqu4gAlnFNEpCL$"
	    "6cfd205b3231a3b482ea3a624ab62ae3cd8d3d796bb920868ebae694e14819zz",
	    "Werkzeug non-hex hash");
	bad(conf, "pbkdf2:sha256:1000$$"
	    "6cfd205b3231a3b482ea3a624ab62ae3cd8d3d796bb920868ebae694e14819e6",
	    "Werkzeug empty salt");
	bad(conf, "pbkdf2:sha256:1000:7$3Dbqu4gAlnFNEpCL$"
	    "6cfd205b3231a3b482ea3a624ab62ae3cd8d3d796bb920868ebae694e14819e6",
	    "Werkzeug an extra method field");
	bad(conf, "pbkdf2:sha256:2147483648$3Dbqu4gAlnFNEpCL$"
	    "6cfd205b3231a3b482ea3a624ab62ae3cd8d3d796bb920868ebae694e14819e6",
	    "Werkzeug 2^31 iterations");
	bad(conf, "pbkdf2:sha256:1000$3Dbqu4gAlnFNEpCL$6cfd205b", "Werkzeug 4-byte hash");
	bad(conf, "pbkdf2:sha256:1000$3Dbqu4gAlnFNEpCL$6cfd205b3231a3b482ea3a624ab62ae3",
	    "Werkzeug hash shorter than SHA-256's");

	/* crypt(3) */
	bad(conf, "$2b$31$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
	    "bcrypt cost 31");
	bad(conf, "$2b$03$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
	    "bcrypt cost 3");
	bad(conf, "$2y$1x$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
	    "bcrypt non-numeric cost");
	bad(conf, "$2b$", "bcrypt truncated after the ident");
	bad(conf, "$2b$04$", "bcrypt no salt");
	bad(conf, "$2b$04$abc", "bcrypt short salt");
	bad(conf, "$6$rounds=999999999$saltsalt$"
	    "qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
	    "$6$rounds=999999999$");
	bad(conf, "$5$rounds=abc$saltstring$OH4IDuTlsuTYPdED1gsuiRMyTAwNlRWyA6Xr3I4/dQ5",
	    "$5$ non-numeric rounds");
	bad(conf, "$6$rounds=-1$saltsalt$x", "$6$ negative rounds");
	bad(conf, "$6$rounds=10$saltsalt$x", "$6$ rounds under 1000");
	bad(conf, "$y$", "yescrypt with no parameters");
	no_match(conf, "$y$j9T$", "yescrypt with no salt (crypt(3) takes an empty one)");

	/* argon2 */
	bad(conf, "$argon2id$v=19$m=4194304,t=2,p=1$YW5vdGhlcnNhbHQxMjM0NQ$"
	    "lrB8UJahoQZZO4kLuWSyiGZWewrI9B3ltu6g3OB1vw8", "argon2id m=4194304");
	bad(conf, "$argon2id$v=19$m=1024,t=1000,p=1$YW5vdGhlcnNhbHQxMjM0NQ$"
	    "lrB8UJahoQZZO4kLuWSyiGZWewrI9B3ltu6g3OB1vw8", "argon2id t=1000");
	bad(conf, "$argon2id$v=19$m=1024,t=2,p=0$YW5vdGhlcnNhbHQxMjM0NQ$"
	    "lrB8UJahoQZZO4kLuWSyiGZWewrI9B3ltu6g3OB1vw8", "argon2id p=0");
	bad(conf, "$argon2id$v=19$m=1024,t=2,p=255$YW5vdGhlcnNhbHQxMjM0NQ$"
	    "lrB8UJahoQZZO4kLuWSyiGZWewrI9B3ltu6g3OB1vw8", "argon2id p=255");
	bad(conf, "$argon2id$v=19$m=abc,t=2,p=1$YW5vdGhlcnNhbHQxMjM0NQ$"
	    "lrB8UJahoQZZO4kLuWSyiGZWewrI9B3ltu6g3OB1vw8", "argon2id non-numeric m");
	bad(conf, "$argon2id$v=19$m=1024,t=2,p=1$YW5vdGhlcnNhbHQxMjM0NQ$", "argon2id no hash");
	bad(conf, "$argon2id$v=19$m=1024,t=2,p=1$$lrB8UJahoQZZO4kLuWSyiGZWewrI9B3ltu6g3OB1vw8",
	    "argon2id empty salt");
	bad(conf, "$argon2id$v=19$m=1024,t=2,p=1$YW5vd!!!hlcnNhbHQxMjM0NQ$"
	    "lrB8UJahoQZZO4kLuWSyiGZWewrI9B3ltu6g3OB1vw8", "argon2id bad base64");
	no_match(conf, "$argon2id$v=99$m=1024,t=2,p=1$YW5vdGhlcnNhbHQxMjM0NQ$"
	    "lrB8UJahoQZZO4kLuWSyiGZWewrI9B3ltu6g3OB1vw8", "argon2id v=99");
	bad(conf, "$argon2id$", "argon2id with nothing after");

	/* neither family's, or too long for any */
	bad(conf, "", "the empty string");
	bad(conf, "password", "a plain text password");
	bad(conf, "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "LDAP {SSHA}");
	bad(conf, "$1$saltsalt$rJFmt0tvvGTnFO8rW3jBN.", "md5-crypt");
	bad(conf, "$pbkdf2", "$pbkdf2");
	ok(rv_password_scheme("$1$x$y") == NULL && rv_password_scheme("") == NULL &&
	   rv_password_scheme(NULL) == NULL, "unknown strings have no family");
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "$pbkdf2-sha256$i=1000$", 22);
	bad(conf, big, "a PHC string of 2000 characters");
	memcpy(big, "$argon2id$v=19$m=1024,t=2,p=1$", 30);
	bad(conf, big, "an argon2 string of 2000 characters");
	memcpy(big, "$6$rounds=1000$", 15);
	bad(conf, big, "a sha512-crypt string of 2000 characters");
	memset(big, '$', sizeof(big) - 1);
	bad(conf, big, "2000 dollars");
	{
		struct rv_err err;
		int rc;

		memcpy(big, "pbkdf2:sha256:1000$", 19);
		for (i = 19; i < 2000; i++)
			big[i] = i % 2 ? 'a' : '$';
		rv_err_init(&err);
		rc = rv_pw_pbkdf2.verify("password", 8, big, conf, &err);
		ok(rc == -1 && err.status == 500,
		   "the pbkdf2 family itself refuses 2000 characters");
		rv_err_release(&err);
	}
	ok(verify_str("password", "pbkdf2:sha256:1000$3Dbqu4gAlnFNEpCL$"
		      "6cfd205b3231a3b482ea3a624ab62ae3cd8d3d796bb920868ebae694e14819e6",
		      conf) >= 0, "Werkzeug hash built on is well formed");
}

static void
test_caps(struct rv_conf *conf)
{
	struct rv_conf c = *conf;
	const char *passlib29000 = vector_hash("$pbkdf2-sha256$29000$");
	const char *wz1000 = vector_hash("pbkdf2:sha256:1000$");

	c.pw_max_pbkdf2_iterations = 1000;
	is_int(verify_str("pässwörd", passlib29000, &c), -1,
	       "max-pbkdf2-iterations 1000 refuses a 29000-round passlib vector");
	is_int(verify_str("password", wz1000, &c), 1,
	       "max-pbkdf2-iterations 1000 still verifies a 1000-round vector");
	c.pw_max_pbkdf2_iterations = 999;
	is_int(verify_str("password", wz1000, &c), -1, "and 999 refuses it");
	c = *conf;
	c.pw_max_bcrypt_cost = 4;
	is_int(verify_str("password", vector_hash("$2b$05$"), &c), -1,
	       "max-bcrypt-cost 4 refuses a cost-5 vector");
	is_int(verify_str("password", vector_hash("$2y$04$"), &c), 1,
	       "max-bcrypt-cost 4 still verifies a cost-4 vector");
	c = *conf;
	c.pw_max_crypt_rounds = 1999;
	is_int(verify_str("pässwörd", vector_hash("$6$rounds=2000$"), &c), -1,
	       "max-crypt-rounds 1999 refuses rounds=2000");
	is_int(verify_str("pässwörd", vector_hash("$5$rounds=1000$"), &c), 1,
	       "max-crypt-rounds 1999 still verifies rounds=1000");
	c = *conf;
	c.pw_max_argon2_memory = 1023;
	is_int(verify_str("correct horse battery staple",
			  vector_hash("$argon2id$v=19$m=1024,t=2,p=1$YW5v"), &c), -1,
	       "max-argon2-memory 1023 refuses m=1024");
	c = *conf;
	c.pw_max_argon2_time = 2;
	is_int(verify_str("password", vector_hash("$argon2i$v=19$m=4096,t=3"), &c), -1,
	       "max-argon2-time 2 refuses t=3");
}

static void
test_new(struct rv_conf *conf)
{
	static const struct {
		int scheme;
		const char *name, *prefix;
	} sc[] = {
		{ RV_PW_ARGON2ID, "argon2id", "$argon2id$v=19$m=19456,t=2,p=1$" },
		{ RV_PW_BCRYPT, "bcrypt", "$2b$10$" },
		{ RV_PW_PBKDF2_SHA256, "pbkdf2-sha256", "$pbkdf2-sha256$i=20000,l=32$" },
	};
	char *h[3], *again;
	struct rv_err err;
	size_t i, j;

	conf->pw_pbkdf2_iterations = 20000;
	for (i = 0; i < 3; i++) {
		conf->pw_scheme = sc[i].scheme;
		rv_err_init(&err);
		h[i] = NULL;
		if (!ok(rv_password_hash("pässwörd", strlen("pässwörd"), conf, &h[i],
					 &err) == 0 && h[i] != NULL,
			"%s: a new hash", sc[i].name)) {
			diag("%s", err.msg);
			h[i] = rv_xstrdup("");
		}
		rv_err_release(&err);
		ok(strncmp(h[i], sc[i].prefix, strlen(sc[i].prefix)) == 0,
		   "%s: it starts %s", sc[i].name, sc[i].prefix);
		is_int(verify_str("pässwörd", h[i], conf), 1, "%s: it verifies", sc[i].name);
		is_int(verify_str("passwörd", h[i], conf), 0,
		       "%s: a wrong password does not", sc[i].name);
		ok(!rv_password_needs_rehash(h[i], conf),
		   "%s: a fresh hash needs no rehash", sc[i].name);
		rv_err_init(&err);
		again = NULL;
		if (rv_password_hash("pässwörd", strlen("pässwörd"), conf, &again, &err) < 0)
			again = rv_xstrdup("");
		ok(strcmp(again, h[i]) != 0, "%s: salts are random", sc[i].name);
		free(again);
		rv_err_release(&err);
		rv_password_decoy(conf);
		rv_password_decoy(conf);
		ok(1, "%s: rv_password_decoy runs", sc[i].name);
	}
	/* the PHC string exactly: 16-byte salt, 32-byte hash, no padding */
	ok(strlen(h[2]) == strlen("$pbkdf2-sha256$i=20000,l=32$") + 22 + 1 + 43 &&
	   strchr(h[2], '=') == strstr(h[2], "i=") + 1 &&
	   strrchr(h[2], '=') == strstr(h[2], "l=") + 1 /* no padding */,
	   "pbkdf2-sha256: PHC form, unpadded base64");
	for (i = 0; i < 3; i++) {
		conf->pw_scheme = sc[i].scheme;
		for (j = 0; j < 3; j++)
			if (j != i)
				ok(rv_password_needs_rehash(h[j], conf),
				   "scheme %s: a %s hash needs a rehash", sc[i].name, sc[j].name);
		ok(rv_password_needs_rehash(vector_hash("pbkdf2_sha256$"), conf),
		   "scheme %s: a Django hash needs a rehash", sc[i].name);
		ok(rv_password_needs_rehash("not a hash", conf),
		   "scheme %s: an unknown string needs a rehash", sc[i].name);
	}

	/* weaker and stronger parameters than the configuration */
	conf->pw_scheme = RV_PW_ARGON2ID;
	conf->pw_argon2_memory = 32768;
	ok(rv_password_needs_rehash(h[0], conf), "argon2id: m=19456 < 32768 needs a rehash");
	conf->pw_argon2_memory = 8192;
	ok(!rv_password_needs_rehash(h[0], conf), "argon2id: m=19456 > 8192 does not");
	conf->pw_argon2_time = 3;
	ok(rv_password_needs_rehash(h[0], conf), "argon2id: t=2 < 3 needs a rehash");
	conf->pw_argon2_time = 1;
	ok(!rv_password_needs_rehash(h[0], conf), "argon2id: t=2 > 1 does not");
	ok(rv_password_needs_rehash(vector_hash("$argon2i$v=19$"), conf),
	   "argon2id: an argon2i hash needs a rehash");
	conf->pw_scheme = RV_PW_BCRYPT;
	conf->pw_bcrypt_cost = 11;
	ok(rv_password_needs_rehash(h[1], conf), "bcrypt: cost 10 < 11 needs a rehash");
	conf->pw_bcrypt_cost = 9;
	ok(!rv_password_needs_rehash(h[1], conf), "bcrypt: cost 10 > 9 does not");
	ok(rv_password_needs_rehash(vector_hash("$2y$"), conf),
	   "bcrypt: a $2y$ hash needs a rehash");
	conf->pw_scheme = RV_PW_PBKDF2_SHA256;
	conf->pw_pbkdf2_iterations = 30000;
	ok(rv_password_needs_rehash(h[2], conf),
	   "pbkdf2-sha256: 20000 < 30000 iterations needs a rehash");
	conf->pw_pbkdf2_iterations = 10000;
	ok(!rv_password_needs_rehash(h[2], conf),
	   "pbkdf2-sha256: 20000 > 10000 iterations does not");
	conf->pw_pbkdf2_iterations = 1000;
	ok(!rv_password_needs_rehash(vector_hash("$pbkdf2-sha256$i=1000,l=32$"), conf),
	   "pbkdf2-sha256: the hashlib PHC vector at i=1000 is current");
	ok(rv_password_needs_rehash(vector_hash("$pbkdf2-sha256$1000$"), conf),
	   "pbkdf2-sha256: the passlib form needs a rehash");
	ok(rv_password_needs_rehash(vector_hash("pbkdf2:sha256:1000$"), conf),
	   "pbkdf2-sha256: the Werkzeug form needs a rehash");
	ok(rv_password_needs_rehash(vector_hash("$pbkdf2-sha512$i=2000$"), conf),
	   "pbkdf2-sha256: a PHC sha512 hash needs a rehash");

	/* PBKDF2 takes any bytes: a NUL is part of the password */
	rv_err_init(&err);
	again = NULL;
	if (rv_password_hash("a\0b", 3, conf, &again, &err) < 0)
		again = rv_xstrdup("");
	ok(verify("a\0b", 3, again, conf, NULL, 0) == 1 &&
	   verify("a\0c", 3, again, conf, NULL, 0) == 0 &&
	   verify("a", 1, again, conf, NULL, 0) == 0,
	   "pbkdf2-sha256: a password with a NUL round-trips whole");
	free(again);
	rv_err_release(&err);
	for (i = 0; i < 3; i++)
		free(h[i]);
}

int
main(void)
{
	struct rv_conf conf;
	const char *top = getenv("top_srcdir");
	char *path;
	int i;

	path = rv_xasprintf("%s/t/fixtures/passwords/vectors.txt", top ? top : ".");
	if (load_vectors(path) < 0) {
		printf("Bail out! cannot read %s\n", path);
		free(path);
		return 1;
	}
	free(path);
	rv_conf_defaults(&conf);
	diag("%d reference vectors", nvectors);

	test_vectors(&conf);
	test_hostile(&conf);
	test_caps(&conf);
	test_new(&conf);

	for (i = 0; i < nvectors; i++) {
		free(vectors[i].scheme);
		free(vectors[i].password);
		free(vectors[i].hash);
	}
	rv_conf_release(&conf);
	/* caps added after review: yescrypt cost, argon2 version */
	{
		struct rv_conf yc;
		struct rv_err ye;

		rv_conf_defaults(&yc);
		rv_err_init(&ye);
		ok(rv_password_verify("password", 8,
				      "$y$j75$mNqjPFws42HxmP93csUuR0$h1ZpJiZrR12lgY82eiC07pkCQuT5mYYXySyo7Ir0k84",
				      &yc, &ye) == 1, "yescrypt at a low cost verifies");
		rv_err_release(&ye);
		ok(rv_password_verify("password", 8,
				      "$y$jFT$mNqjPFws42HxmP93csUuR0$h1ZpJiZrR12lgY82eiC07pkCQuT5mYYXySyo7Ir0k84",
				      &yc, &ye) == -1 && strstr(ye.msg, "over the cap") != NULL,
		   "yescrypt jFT (seconds and gigabytes) is refused before it runs");
		rv_err_release(&ye);
		ok(rv_password_verify("password", 8,
				      "$y$j9Z$mNqjPFws42HxmP93csUuR0$h1ZpJiZrR12lgY82eiC07pkCQuT5mYYXySyo7Ir0k84",
				      &yc, &ye) == -1, "yescrypt with a large r is refused");
		rv_err_release(&ye);
		ok(rv_password_verify("password", 8,
				      "$argon2id$v=99$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
				      &yc, &ye) == -1 && strstr(ye.msg, "version") != NULL,
		   "an unknown argon2 version is refused as malformed");
		rv_err_release(&ye);
		ok(rv_password_verify("x", 1, "$6$rounds=00009999999999$salt$hash", &yc, &ye) == -1,
		   "sha-crypt rounds with leading zeros are refused");
		rv_err_release(&ye);
		rv_conf_release(&yc);
	}
	return done_testing();
}
