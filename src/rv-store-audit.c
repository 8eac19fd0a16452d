/* rv-store-audit.c: the audit hash chain: append, head, walk, check, prune */
#include "config.h"
#include "rv-store.h"
#include "rv-store-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv-buf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-json.h"
#include "rv-log.h"
#include "rv-util.h"

/* ---- audit ------------------------------------------------------------------ */

/*
 * The chain lives above the backends: a backend keeps entries by sequence
 * number and the head (audit_head, locked for an append). The entry 0
 * (never a sequence number) is the prune anchor: the sequence number and
 * hash of the last entry pruned, so that the chain goes on verifying from
 * there.
 */
#define AUDIT_MAC "hmac-sha256"
#define AUDIT_PRUNE_CHUNK 100	/* deletions per transaction, as PURGE_CHUNK */

/*
 * The hash of an entry covers its canonical form (sorted keys, compact)
 * without "hash"; the entry holds the hash of the one before as "prev".
 * An entry with "mac":"hmac-sha256" is hashed with HMAC-SHA256 under the
 * audit key (key non-NULL), one without it with plain SHA-256 (entries
 * written before 0.2, or without a key). "mac" is covered by the hash.
 */
static void
entry_hash(json_t *entry, const unsigned char *key, char out[65])
{
	/* a new entry has no "hash" yet: only a stored one needs a copy */
	json_t *copy = json_object_get(entry, "hash") != NULL ?
		       json_deep_copy(entry) : json_incref(entry);
	struct rv_buf s = RV_BUF_INIT;
	unsigned char h[32];

	json_object_del(copy, "hash");
	/* json_dumps(JSON_COMPACT | JSON_SORT_KEYS)'s bytes (t/unit/json) */
	rv_json_dump_sorted(copy, &s);
	if (key != NULL)
		rv_hmac_sha256(key, KEY_LEN, s.buf, s.len, NULL, 0, h);
	else
		rv_sha256(s.buf, s.len, h);
	rv_hex(h, sizeof(h), out);
	rv_buf_release(&s);
	json_decref(copy);
}

int
rv_store_audit(struct rv_txn *txn, const char *event, const char *user,
	       json_t *fields, struct rv_err *err)
{
	struct rv_store *st = txn->st;
	char prev[65], hash[65], *doc;
	long long seq;
	size_t len;
	const char *fk;
	json_t *entry, *fv;
	int rc;

	if (txn->fault != RV_FAULT_NONE ||
	    st->be->audit_head(txn, true, &seq, prev, err) < 0)
		return -1;
	seq++;
	entry = json_object();
	json_object_set_new(entry, "v", json_integer(FORMAT_VERSION));
	json_object_set_new(entry, "seq", json_integer(seq));
	json_object_set_new(entry, "ts", json_integer(rv_store_now()));
	set_str(entry, "event", event);
	set_str(entry, "user", user);
	if (st->audit_keyed)
		set_str(entry, "mac", AUDIT_MAC);
	if (fields != NULL)
		json_object_foreach(fields, fk, fv)
			if (json_object_get(entry, fk) == NULL)
				json_object_set(entry, fk, fv);
	set_str(entry, "prev", prev);
	entry_hash(entry, st->audit_keyed ? st->audit_key : NULL, hash);
	set_str(entry, "hash", hash);
	doc = rv_store_dump_json(entry, &len);
	rc = st->be->audit_append(txn, seq, hash, doc, len, err);
	if (rc == 0) {
		txn->wrote |= RV_T_AUDIT;
		rv_log_info("audit: %s", doc);
	}
	free(doc);
	json_decref(entry);
	return rc;
}

int
rv_store_audit_copy(struct rv_txn *txn, long long seq, json_t *entry,
		    struct rv_err *err)
{
	struct rv_store *st = txn->st;
	const char *hash = jstr(entry, "hash");
	size_t len;
	char *doc;
	int rc;

	if (txn->fault != RV_FAULT_NONE)
		return -1;
	if (hash == NULL || strlen(hash) != 64 || seq < 0)
		return rv_err_set(err, RV_E_INTERNAL, "audit entry %lld: no hash", seq);
	doc = rv_store_dump_json(entry, &len);
	rc = seq == 0 ? st->be->audit_anchor(txn, doc, len, err) :
			st->be->audit_append(txn, seq, hash, doc, len, err);
	free(doc);
	if (rc == 0)
		txn->wrote |= RV_T_AUDIT;
	return rc;
}

bool
rv_store_audit_keyed(const struct rv_store *st)
{
	return st->audit_keyed;
}

struct audit_head {
	long long seq;
	char hash[65];
};

static int
audit_head_body(struct rv_store *st, struct rv_txn *txn, void *vctx,
		struct rv_err *err)
{
	struct audit_head *h = vctx;

	return st->be->audit_head(txn, false, &h->seq, h->hash, err);
}

int
rv_store_audit_head(struct rv_store *st, long long *seq_r, char hash[65],
		    struct rv_err *err)
{
	struct audit_head h;

	if (rv_store_txn(st, audit_head_body, &h, err) < 0)
		return -1;
	*seq_r = h.seq;
	memcpy(hash, h.hash, 65);
	return 0;
}

struct audit_walk {
	int (*fn)(json_t *entry, void *ctx);
	void *ctx;
	long long from;		/* 0: the anchor first, when there is one */
	int result;		/* what fn returned to stop the walk */
};

struct audit_walk_doc {
	struct audit_walk *w;
	struct rv_err *err;
};

static int
audit_walk_doc(long long seq, const char *doc, size_t len, void *vctx)
{
	struct audit_walk_doc *d = vctx;
	json_t *j;
	int rc;

	if (rv_store_load_json(doc, len, &j, d->err) < 0)
		return -1;
	json_object_set_new(j, "_key", json_integer(seq));
	rc = d->w->fn(j, d->w->ctx);
	json_decref(j);
	return rc;
}

static int
audit_walk_body(struct rv_store *st, struct rv_txn *txn, void *vctx,
		struct rv_err *err)
{
	struct audit_walk *w = vctx;
	struct audit_walk_doc d = { w, err };
	int rc;

	rc = st->be->audit_each(txn, w->from, false, audit_walk_doc, &d, err);
	if (rc < 0)
		return -1;
	/* a stop asked by fn is not a failure of the transaction */
	w->result = rc;
	return 0;
}

static int
audit_walk(struct rv_store *st, long long from,
	   int (*fn)(json_t *entry, void *ctx), void *ctx, struct rv_err *err)
{
	struct audit_walk w = { fn, ctx, from, 0 };

	if (rv_store_txn(st, audit_walk_body, &w, err) < 0)
		return -1;
	return w.result;
}

int
rv_store_audit_each(struct rv_store *st, long long from,
		    int (*fn)(json_t *entry, void *ctx), void *ctx,
		    struct rv_err *err)
{
	return audit_walk(st, from < 0 ? 0 : from, fn, ctx, err);
}

#define CHECK_BROKEN 1
#define CHECK_NOKEY 2

struct audit_check {
	struct rv_audit_check *c;
	const unsigned char *key;	/* NULL: no audit key loaded */
	long long expect, last_key, covered;
	long long cutoff;		/* prune: entries older than this (ms) */
	bool seen_keyed, cut_done;
	char prev[65];
	char why[192];
};

static void
check_reset(struct audit_check *ac)
{
	struct rv_audit_check *c = ac->c;

	c->count = c->keyed = c->unkeyed = 0;
	c->bad_seq = c->first_seq = c->last_seq = 0;
	c->anchor_seq = c->anchor_ts = c->cut_seq = 0;
	c->head_found = false;
	memset(c->last_hash, '0', 64);
	c->last_hash[64] = '\0';
	c->anchor_hash[0] = c->cut_hash[0] = '\0';
	ac->expect = 1;
	ac->last_key = -1;
	ac->covered = 0;
	ac->seen_keyed = ac->cut_done = false;
	memset(ac->prev, '0', 64);
	ac->prev[64] = '\0';
	ac->why[0] = '\0';
}

static int
check_broken(struct audit_check *ac, long long seq, const char *why)
{
	ac->c->bad_seq = seq;
	snprintf(ac->why, sizeof(ac->why), "entry %lld: %s", seq, why);
	return CHECK_BROKEN;
}

static int
audit_check_entry(json_t *e, void *vctx)
{
	struct audit_check *ac = vctx;
	struct rv_audit_check *c = ac->c;
	const char *hash = jstr(e, "hash"), *prev = jstr(e, "prev");
	const char *mac = jstr(e, "mac"), *event = jstr(e, "event");
	long long key = jint(e, "_key");
	char want[65];

	if (key <= ac->last_key)	/* the walk was retried: start again */
		check_reset(ac);
	ac->last_key = key;
	json_object_del(e, "_key");
	if (key == 0) {
		/* the prune anchor: the chain goes on from the entry it names */
		if (hash == NULL || strlen(hash) != 64 || jint(e, "seq") < 1)
			return check_broken(ac, 0, "corrupt prune anchor");
		c->anchor_seq = jint(e, "seq");
		c->anchor_ts = jint(e, "ts");
		rv_strlcpy(c->anchor_hash, hash, sizeof(c->anchor_hash));
		rv_strlcpy(ac->prev, hash, sizeof(ac->prev));
		rv_strlcpy(c->last_hash, hash, sizeof(c->last_hash));
		c->last_seq = c->anchor_seq;
		ac->expect = c->anchor_seq + 1;
		return 0;
	}
	if (key != ac->expect || jint(e, "seq") != key)
		return check_broken(ac, ac->expect, "sequence gap or mismatch");
	if (prev == NULL || strcmp(prev, ac->prev) != 0) {
		char why[80];

		if (c->anchor_seq > 0 && key == c->anchor_seq + 1)
			rv_strlcpy(why, "prev does not match the prune anchor", sizeof(why));
		else
			snprintf(why, sizeof(why), "prev does not match the hash of entry %lld",
				 key - 1);
		return check_broken(ac, key, why);
	}
	if (mac == NULL) {
		/* a chain that was keyed stays keyed: an unkeyed entry after a
		 * keyed one was rewritten, or written without the key */
		if (ac->seen_keyed)
			return check_broken(ac, key, "not keyed, after keyed entries");
		entry_hash(e, NULL, want);
		c->unkeyed++;
	} else if (strcmp(mac, AUDIT_MAC) == 0) {
		if (ac->key == NULL) {
			c->bad_seq = key;
			snprintf(ac->why, sizeof(ac->why),
				 "entry %lld is keyed, but no audit key is loaded "
				 "(<audit key>)", key);
			return CHECK_NOKEY;
		}
		entry_hash(e, ac->key, want);
		ac->seen_keyed = true;
		c->keyed++;
	} else {
		return check_broken(ac, key, "unknown mac");
	}
	if (hash == NULL || strcmp(hash, want) != 0)
		return check_broken(ac, key, "content does not match its hash");
	if (event != NULL && strcmp(event, "audit.pruned") == 0 &&
	    jint(e, "anchorSeq") > ac->covered)
		ac->covered = jint(e, "anchorSeq");
	if (c->head_seq == key) {
		if (strcmp(hash, c->head_hash) != 0)
			return check_broken(ac, key, "does not match the expected head");
		c->head_found = true;
	}
	if (ac->cutoff > 0 && !ac->cut_done) {
		if (jint(e, "ts") < ac->cutoff) {
			c->cut_seq = key;
			rv_strlcpy(c->cut_hash, hash, sizeof(c->cut_hash));
		} else {
			ac->cut_done = true;
		}
	}
	if (c->first_seq == 0)
		c->first_seq = key;
	c->last_seq = key;
	rv_strlcpy(c->last_hash, hash, sizeof(c->last_hash));
	rv_strlcpy(ac->prev, hash, sizeof(ac->prev));
	c->count++;
	ac->expect++;
	return 0;
}

static int
audit_check(struct rv_store *st, struct rv_audit_check *c, long long cutoff,
	    struct rv_err *err)
{
	struct audit_check ac;
	int rc;

	memset(&ac, 0, sizeof(ac));
	ac.c = c;
	ac.key = st->audit_keyed ? st->audit_key : NULL;
	ac.cutoff = cutoff;
	check_reset(&ac);
	if ((rc = audit_walk(st, 0, audit_check_entry, &ac, err)) < 0)
		return -1;
	if (rc == CHECK_NOKEY)
		return rv_err_set(err, RV_E_INTERNAL, "cannot check the audit chain: %s",
				  ac.why);
	if (rc == 0 && c->anchor_seq > ac.covered)
		rc = check_broken(&ac, c->anchor_seq,
				  "the prune anchor is not covered by an audit.pruned entry");
	if (rc == 0 && c->head_seq > 0 && !c->head_found) {
		if (c->head_seq > c->last_seq) {
			char why[120];

			snprintf(why, sizeof(why),
				 "missing: the chain ends at entry %lld, before the "
				 "expected head %lld", c->last_seq, c->head_seq);
			rc = check_broken(&ac, c->last_seq + 1, why);
		} else if (c->head_seq == c->anchor_seq) {
			if (strcmp(c->head_hash, c->anchor_hash) != 0)
				rc = check_broken(&ac, c->head_seq,
						  "does not match the expected head");
			else
				c->head_found = true;
		} else {
			return rv_err_set(err, RV_E_INTERNAL,
					  "cannot check the expected head %lld: it was "
					  "pruned (the chain starts after entry %lld)",
					  c->head_seq, c->anchor_seq);
		}
	}
	if (rc == CHECK_BROKEN) {
		rv_err_set(err, RV_E_INTERNAL, "audit chain broken: %s", ac.why);
		return 0;
	}
	return 1;
}

int
rv_store_audit_check(struct rv_store *st, struct rv_audit_check *c,
		     struct rv_err *err)
{
	return audit_check(st, c, 0, err);
}

int
rv_store_audit_verify(struct rv_store *st, long long *count_r,
		      long long *bad_seq_r, struct rv_err *err)
{
	struct rv_audit_check c;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = audit_check(st, &c, 0, err);
	*count_r = c.count;
	*bad_seq_r = c.bad_seq;
	return rc;
}

/* ---- audit prune ---- */

struct prune_audit {
	long long upto;		/* delete entries up to this sequence number */
	long max, done;
};

struct prune_gather {
	long long upto;
	long max, n;
	long long seqs[AUDIT_PRUNE_CHUNK];
	char hash[65];		/* of the last gathered */
	struct rv_err *err;
};

static int
prune_gather(long long seq, const char *doc, size_t len, void *vctx)
{
	struct prune_gather *g = vctx;
	json_t *j;

	if (seq < 1 || seq > g->upto || g->n >= g->max)
		return 1;	/* done */
	if (rv_store_load_json(doc, len, &j, g->err) < 0)
		return -1;
	copy_str(g->hash, sizeof(g->hash), jstr(j, "hash"));
	json_decref(j);
	g->seqs[g->n++] = seq;
	return 0;
}

/* Deletes at most p->max entries from the start of the chain, up to
 * p->upto, and moves the anchor to the last one, in one transaction. */
static int
prune_audit_body(struct rv_store *st, struct rv_txn *txn, void *vctx,
		 struct rv_err *err)
{
	struct prune_audit *p = vctx;
	struct prune_gather g;
	json_t *anchor;
	char *doc;
	size_t len;
	long i;
	int rc;

	p->done = 0;
	memset(&g, 0, sizeof(g));
	g.upto = p->upto;
	g.max = p->max < AUDIT_PRUNE_CHUNK ? p->max : AUDIT_PRUNE_CHUNK;
	g.err = err;
	if (st->be->audit_each(txn, 1, true, prune_gather, &g, err) < 0)
		return -1;
	for (i = 0; i < g.n; i++)
		if (st->be->audit_del(txn, g.seqs[i], err) < 0)
			return -1;
	if (g.n == 0)
		return 0;
	anchor = json_object();
	json_object_set_new(anchor, "v", json_integer(FORMAT_VERSION));
	json_object_set_new(anchor, "anchor", json_true());
	json_object_set_new(anchor, "seq", json_integer(g.seqs[g.n - 1]));
	set_str(anchor, "hash", g.hash);
	json_object_set_new(anchor, "ts", json_integer(rv_store_now()));
	doc = rv_store_dump_json(anchor, &len);
	rc = st->be->audit_anchor(txn, doc, len, err);
	free(doc);
	json_decref(anchor);
	if (rc < 0)
		return -1;
	txn->wrote |= RV_T_AUDIT;
	p->done = g.n;
	return 0;
}

struct prune_note {
	long long count, upto, before;
	const char *hash;
};

static int
prune_note_body(struct rv_store *st, struct rv_txn *txn, void *vctx,
		struct rv_err *err)
{
	struct prune_note *n = vctx;
	json_t *f = json_pack("{s:I, s:I, s:s, s:I}", "count", (json_int_t)n->count,
			      "anchorSeq", (json_int_t)n->upto, "anchorHash", n->hash,
			      "before", (json_int_t)n->before);
	int rc;

	RV_ASSERT(f != NULL);
	rc = rv_store_audit(txn, "audit.pruned", NULL, f, err);
	json_decref(f);
	return rc;
}

int
rv_store_audit_prune(struct rv_store *st, long long before_ms,
		     void (*progress)(long long done, long long total, void *ctx),
		     void *ctx, long long *pruned_r, struct rv_err *err)
{
	struct rv_audit_check c;
	struct prune_note note;
	struct prune_audit p;
	long long total = 0;
	int rc;

	*pruned_r = 0;
	memset(&c, 0, sizeof(c));
	/* entries that do not verify are evidence: never delete them */
	if ((rc = audit_check(st, &c, before_ms > 0 ? before_ms : 1, err)) < 0)
		return -1;
	if (rc == 0) {
		char why[sizeof(err->msg)];

		rv_strlcpy(why, err->msg, sizeof(why));
		return rv_err_set(err, RV_E_INTERNAL, "%s: not pruning", why);
	}
	if (c.cut_seq == 0)
		return 0;
	/* the prune is in the chain before anything goes, with the anchor
	 * it will leave: an anchor up to there is then covered */
	note.count = c.cut_seq - c.first_seq + 1;
	note.upto = c.cut_seq;
	note.before = before_ms;
	note.hash = c.cut_hash;
	if (rv_store_txn(st, prune_note_body, &note, err) < 0)
		return -1;
	p.upto = c.cut_seq;
	do {
		p.max = AUDIT_PRUNE_CHUNK;
		if (rv_store_txn(st, prune_audit_body, &p, err) < 0) {
			*pruned_r = total;
			return -1;
		}
		total += p.done;
		if (progress != NULL && p.done > 0)
			progress(total, note.count, ctx);
	} while (p.done == p.max);
	*pruned_r = total;
	rv_store_idle(st);
	return 0;
}
