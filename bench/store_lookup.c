/*
 * store_lookup.c - serial lookups in a certificate store, timed: what the
 * OCSP responder (store_cert_status) and the RADIUS module
 * (store_cert_get, the whole row) do per query, against the bare SQLite
 * floor (one prepared SELECT by primary key on a plain connection, no
 * layer of ours) on the same file in the same run.
 *
 *   store_lookup --store FILE --serials FILE [--lookups N] [--seed S]
 *
 * FILE of serials: one hex serial first on each line (as bench/store.sh
 * writes them).  Lookups ask random serials of the list on one thread;
 * every one must be found.  Prints one line per way:
 *   way=NAME lookups=N us_per_lookup=U found=N
 * and exits 0 when every serial was found every way.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store/store.h"

struct list {
	char	(*serial)[SERIAL_HEX_MAX];
	size_t	 n;
};

static double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
load(const char *path, struct list *l)
{
	FILE	*f = fopen(path, "r");
	char	 line[256];
	size_t	 cap = 0;
	void	*p;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (line[0] == '\0' || strlen(line) >= SERIAL_HEX_MAX)
			continue;
		if (l->n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((p = realloc(l->serial, cap * sizeof(*l->serial))) ==
			    NULL) {
				fclose(f);
				return -1;
			}
			l->serial = p;
		}
		memcpy(l->serial[l->n++], line, strlen(line) + 1);
	}
	fclose(f);
	return l->n > 0 ? 0 : -1;
}

/* The lookup order: the same random serials for every way. */
static size_t *
order(size_t n, long lookups, unsigned seed)
{
	size_t	*o = malloc((size_t)lookups * sizeof(*o));
	long	 i;

	srand(seed);
	for (i = 0; o != NULL && i < lookups; i++)
		o[i] = ((size_t)rand() * ((size_t)RAND_MAX + 1) + (size_t)rand()) % n;
	return o;
}

static void
report(const char *way, long lookups, double us, long found)
{
	printf("way=%s lookups=%ld us_per_lookup=%.2f found=%ld\n", way, lookups,
	    us / lookups, found);
}

static long
by_status(struct store *st, const struct list *l, const size_t *o, long n)
{
	enum cert_status	s;
	int64_t			at;
	struct err		e = {0};
	long			i, found = 0;
	int			reason;

	for (i = 0; i < n; i++)
		found += store_cert_status(st, l->serial[o[i]], &s, &at, &reason,
		    &e) == 1;
	return found;
}

static long
by_row(struct store *st, const struct list *l, const size_t *o, long n)
{
	struct cert_row	row;
	struct err	e = {0};
	long		i, found = 0;

	for (i = 0; i < n; i++) {
		memset(&row, 0, sizeof(row));
		found += store_cert_get(st, l->serial[o[i]], &row, &e) == 0;
		cert_row_clear(&row);
	}
	return found;
}

/* The floor: plain SQLite, one prepared statement, default settings. */
static long
bare(const char *path, const struct list *l, const size_t *o, long n)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*s = NULL;
	long		 i, found = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT status, revoked_at, reason FROM"
	    " certificates WHERE serial = ?1", -1, &s, NULL) != SQLITE_OK)
		goto out;
	for (found = 0, i = 0; i < n; i++) {
		sqlite3_bind_text(s, 1, l->serial[o[i]], -1, SQLITE_STATIC);
		found += sqlite3_step(s) == SQLITE_ROW;
		sqlite3_reset(s);
	}
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return found;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "serials", required_argument, NULL, 'l' },
		{ "lookups", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*path = NULL, *serials = NULL;
	struct list	 l = {0};
	struct store	*st;
	struct err	 e = {0};
	size_t		*o;
	long		 n = 200000, f1, f2, f3;
	unsigned	 seed = 7;
	double		 t0, t1, t2, t3;
	int		 c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'l': serials = optarg; break;
		case 'n': n = atol(optarg); break;
		case 'r': seed = (unsigned)atoi(optarg); break;
		default: return 2;
		}
	}
	if (path == NULL || serials == NULL || n <= 0) {
		fprintf(stderr, "usage: store_lookup --store FILE --serials FILE"
		    " [--lookups N] [--seed S]\n");
		return 2;
	}
	if (load(serials, &l) == -1 || (o = order(l.n, n, seed)) == NULL) {
		fprintf(stderr, "store_lookup: cannot read %s\n", serials);
		return 1;
	}
	if ((st = store_open(path, STORE_RDONLY, &e)) == NULL) {
		fprintf(stderr, "store_lookup: %s\n", e.msg);
		return 1;
	}
	/* One untimed pass each warms the OS cache and the statements. */
	by_status(st, &l, o, n < 20000 ? n : 20000);
	bare(path, &l, o, n < 20000 ? n : 20000);
	t0 = now_us();
	f1 = by_status(st, &l, o, n);
	t1 = now_us();
	f2 = by_row(st, &l, o, n);
	t2 = now_us();
	f3 = bare(path, &l, o, n);
	t3 = now_us();
	report("store_cert_status", n, t1 - t0, f1);
	report("store_cert_get", n, t2 - t1, f2);
	report("bare_sqlite", n, t3 - t2, f3);
	store_close(st);
	free(o);
	free(l.serial);
	return f1 == n && f2 == n && f3 == n ? 0 : 1;
}
