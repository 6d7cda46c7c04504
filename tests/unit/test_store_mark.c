/*
 * Unit tests for the store's commit token, the mark (store_watch_token(),
 * STORE_WATCH_COMMIT, shared/store/watch.c): the mark must change after
 * every commit, whoever makes it (this thread, another thread, another
 * connection, another process), and be 0 where it cannot be known.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "store/store.h"
#include "test_util.h"


static int
issue(struct store *st, const char *serial)
{
	struct tu_cert	c = { .serial = serial };
	struct err	e = {0};

	return tu_cert_issue(st, &c, &e);
}

/* Runs sql on a connection of its own, as another program would. */
static int
exec_elsewhere(const char *path, const char *sql)
{
	sqlite3	*db = NULL;
	int	 rc;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 10000);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return rc;
}

static int
file_exists(const char *path, const char *suffix)
{
	char		name[128];
	struct stat	sb;

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	return stat(name, &sb) == 0;
}

static void
mark_is_nonzero_and_unchanged_by_reads(void **state)
{
	struct tu_store		*f = *state;
	struct cert_row		 r = {0};
	enum cert_status	 cs;
	int64_t			 at;
	int			 reason;
	uint64_t		 m;
	struct err		 e = {0};

	assert_int_equal(issue(f->st, "0A"), 0);
	m = store_watch_token(f->st, STORE_WATCH_COMMIT);
	assert_true(m != 0);
	assert_int_equal(store_cert_count(f->st, -1, &e), 1);
	assert_int_equal(store_cert_status(f->st, "0A", &cs, &at, &reason,
	    &e), 1);
	assert_int_equal(store_cert_get(f->st, "0A", &r, &e), 0);
	cert_row_clear(&r);
	assert_true(store_watch_token(f->st, STORE_WATCH_COMMIT) == m);
	assert_true(store_watch_token(f->st, STORE_WATCH_COMMIT) == m);
}

static void
mark_changes_with_each_commit_through_the_store(void **state)
{
	struct tu_store	*f = *state;
	uint64_t	 m0, m1, m2, m3;
	struct err	 e = {0};

	m0 = store_watch_token(f->st, STORE_WATCH_COMMIT);
	assert_int_equal(issue(f->st, "1A"), 0);
	m1 = store_watch_token(f->st, STORE_WATCH_COMMIT);
	assert_int_equal(store_cert_set_status(f->st, "1A", CERT_REVOKED,
	    REASON_KEY_COMPROMISE, "test", 0, NULL, &e), 0);
	m2 = store_watch_token(f->st, STORE_WATCH_COMMIT);
	assert_int_equal(store_meta_set(f->st, "k", "v", &e), 0);
	m3 = store_watch_token(f->st, STORE_WATCH_COMMIT);
	assert_true(m0 != 0 && m1 != 0 && m2 != 0 && m3 != 0);
	assert_true(m1 != m0);
	assert_true(m2 != m1);
	assert_true(m3 != m2);
}

static void *
issue_thread(void *arg)
{
	return (void *)(intptr_t)issue(arg, "2A");
}

static void
mark_changes_after_a_commit_from_another_thread(void **state)
{
	struct tu_store	*f = *state;
	pthread_t	 t;
	void		*rc;
	uint64_t	 m;

	m = store_watch_token(f->st, STORE_WATCH_COMMIT);
	assert_true(m != 0);
	assert_int_equal(pthread_create(&t, NULL, issue_thread, f->st), 0);
	pthread_join(t, &rc);
	assert_int_equal((intptr_t)rc, 0);
	assert_true(store_watch_token(f->st, STORE_WATCH_COMMIT) != m);
}

static void
mark_changes_after_a_commit_by_another_connection(void **state)
{
	struct tu_store		*f = *state;
	enum cert_status	 cs;
	int64_t			 at;
	int			 reason;
	uint64_t		 m;
	struct err		 e = {0};

	assert_int_equal(issue(f->st, "3A"), 0);
	m = store_watch_token(f->st, STORE_WATCH_COMMIT);
	assert_int_equal(store_cert_status(f->st, "3A", &cs, &at, &reason,
	    &e), 1);
	assert_int_equal(cs, CERT_VALID);
	assert_int_equal(exec_elsewhere(f->path, "UPDATE certificates SET"
	    " status = 'revoked', revoked_at = 5, reason = 1"
	    " WHERE serial = '3A'"), SQLITE_OK);
	assert_true(store_watch_token(f->st, STORE_WATCH_COMMIT) != m);
	assert_int_equal(store_cert_status(f->st, "3A", &cs, &at, &reason,
	    &e), 1);
	assert_int_equal(cs, CERT_REVOKED);
}

/*
 * The child is forked before this process opens the store, so that it
 * inherits no SQLite connection state (SQLite forbids using that across
 * fork()); it writes when told to through the pipe.
 */
static void
mark_changes_after_a_commit_by_another_process(void **state)
{
	struct tu_store	 f = {0};
	int		 go[2], status;
	char		 c = 0;
	pid_t		 pid;
	uint64_t	 m;
	struct err	 e = {0};

	(void)state;
	tu_dir_make(f.dir, "test_store_mark");
	snprintf(f.path, sizeof(f.path), "%s/store.db", f.dir);
	assert_int_equal(pipe(go), 0);
	if ((pid = fork()) == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(exec_elsewhere(f.path, "INSERT INTO meta (key, value)"
		    " VALUES ('child', 'was here')") == SQLITE_OK ? 0 : 1);
	}
	assert_true(pid > 0);
	close(go[0]);
	f.st = store_open(f.path, STORE_CREATE, &e);
	assert_non_null(f.st);
	m = store_watch_token(f.st, STORE_WATCH_COMMIT);
	assert_true(m != 0);
	assert_int_equal(write(go[1], &c, 1), 1);
	close(go[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(store_watch_token(f.st, STORE_WATCH_COMMIT) != m);
	tu_store_close(&f);
}

static void
mark_is_zero_for_a_memory_store(void **state)
{
	struct store	*st;
	struct err	 e = {0};

	(void)state;
	st = store_open(":memory:", STORE_CREATE, &e);
	assert_non_null(st);
	assert_true(store_watch_token(st, STORE_WATCH_COMMIT) == 0);
	assert_true(store_watch_token(st, STORE_WATCH_COMMIT) == 0);
	store_close(st);
}

static void
mark_is_zero_for_a_store_not_in_wal_mode(void **state)
{
	struct tu_store	*f = *state;
	struct store	*ro;
	struct err	 e = {0};

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(exec_elsewhere(f->path, "PRAGMA journal_mode = DELETE"),
	    SQLITE_OK);
	assert_false(file_exists(f->path, "-shm"));
	ro = store_open(f->path, STORE_RDONLY, &e);
	assert_non_null(ro);
	assert_true(store_watch_token(ro, STORE_WATCH_COMMIT) == 0);
	/* Looking did not create shared memory for a rollback journal. */
	assert_false(file_exists(f->path, "-shm"));
	store_close(ro);
}

static void
read_only_store_sees_a_writers_commit(void **state)
{
	struct tu_store		*f = *state;
	struct store		*ro;
	enum cert_status	 cs;
	int64_t			 at;
	int			 reason;
	uint64_t		 m;
	struct err		 e = {0};

	ro = store_open(f->path, STORE_RDONLY, &e);
	assert_non_null(ro);
	m = store_watch_token(ro, STORE_WATCH_COMMIT);
	assert_true(m != 0);
	assert_int_equal(store_cert_status(ro, "4A", &cs, &at, &reason, &e), 0);
	assert_true(store_watch_token(ro, STORE_WATCH_COMMIT) == m);
	assert_int_equal(issue(f->st, "4A"), 0);
	assert_true(store_watch_token(ro, STORE_WATCH_COMMIT) != m);
	assert_true(store_watch_token(ro, STORE_WATCH_COMMIT) ==
	    store_watch_token(f->st, STORE_WATCH_COMMIT));
	assert_int_equal(store_cert_status(ro, "4A", &cs, &at, &reason, &e), 1);
	store_close(ro);
}

#define READERS	4
#define WRITES	50

struct race {
	struct store		*st;
	pthread_barrier_t	 start;		/* readers' first calls */
	pthread_barrier_t	 ready;		/* readers + writer */
	int			 stop;		/* atomic */
	uint64_t		 first[READERS];
	int			 changed[READERS];
	int			 failures;	/* the writer's */
};

struct reader {
	struct race	*race;
	int		 id;
};

static void *
mark_reader(void *arg)
{
	struct reader	*r = arg;
	struct race	*race = r->race;
	uint64_t	 m0, m;
	int		 last = 0;

	/* Every reader's first call at once: the lazy set-up races. */
	pthread_barrier_wait(&race->start);
	m0 = race->first[r->id] = store_watch_token(race->st,
	    STORE_WATCH_COMMIT);
	pthread_barrier_wait(&race->ready);
	while (!last) {
		last = __atomic_load_n(&race->stop, __ATOMIC_ACQUIRE);
		m = store_watch_token(race->st, STORE_WATCH_COMMIT);
		if (m != 0 && m != m0)
			race->changed[r->id] = 1;
	}
	return NULL;
}

static void *
mark_writer(void *arg)
{
	struct race	*race = arg;
	char		 serial[16];
	int		 i;

	pthread_barrier_wait(&race->ready);
	for (i = 0; i < WRITES; i++) {
		snprintf(serial, sizeof(serial), "5%04X", i);
		if (issue(race->st, serial) != 0)
			race->failures++;
	}
	__atomic_store_n(&race->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
concurrent_marks_while_a_writer_commits(void **state)
{
	struct tu_store	*f = *state;
	struct race	 race = { .st = f->st };
	struct reader	 r[READERS];
	pthread_t	 t[READERS + 1];
	int		 i;

	pthread_barrier_init(&race.start, NULL, READERS);
	pthread_barrier_init(&race.ready, NULL, READERS + 1);
	for (i = 0; i < READERS; i++) {
		r[i].race = &race;
		r[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, mark_reader,
		    &r[i]), 0);
	}
	assert_int_equal(pthread_create(&t[READERS], NULL, mark_writer,
	    &race), 0);
	for (i = 0; i <= READERS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&race.start);
	pthread_barrier_destroy(&race.ready);
	assert_int_equal(race.failures, 0);
	for (i = 0; i < READERS; i++) {
		assert_true(race.first[i] != 0);
		assert_true(race.first[i] == race.first[0]);
		assert_true(race.changed[i]);
	}
}

static int
checkpoint_elsewhere(const char *path)
{
	sqlite3	*db = NULL;
	int	 rc, log = -1, done = -1;

	/* A read first: a new connection has not opened the WAL yet. */
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 10000);
		rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master",
		    NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_wal_checkpoint_v2(db, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
	sqlite3_close(db);
	/* TRUNCATE leaves an empty WAL, which SQLite then starts again. */
	return rc == SQLITE_OK && log == 0 ? 0 : -1;
}

static void
mark_changes_after_a_checkpoint_and_a_commit(void **state)
{
	struct tu_store	*f = *state;
	uint64_t	 m;

	assert_int_equal(issue(f->st, "6A"), 0);
	assert_true(store_watch_token(f->st, STORE_WATCH_COMMIT) != 0);
	assert_int_equal(checkpoint_elsewhere(f->path), 0);
	m = store_watch_token(f->st, STORE_WATCH_COMMIT);
	assert_true(m != 0);
	assert_int_equal(issue(f->st, "6B"), 0);
	assert_true(store_watch_token(f->st, STORE_WATCH_COMMIT) != m);

	/* The same when the first commit after it comes from elsewhere. */
	assert_int_equal(checkpoint_elsewhere(f->path), 0);
	m = store_watch_token(f->st, STORE_WATCH_COMMIT);
	assert_int_equal(exec_elsewhere(f->path, "INSERT INTO meta (key, value)"
	    " VALUES ('after', 'checkpoint')"), SQLITE_OK);
	assert_true(store_watch_token(f->st, STORE_WATCH_COMMIT) != m);
}

/*
 * What a writer that died between its two copies of the WAL-index header
 * leaves: copy 1 differs from copy 2.  Done by a child so that no file
 * descriptor of this process is closed on the -shm file, which would drop
 * SQLite's POSIX locks on it.
 */
static void
tear_wal_index_header(const char *path)
{
	char		 name[128];
	uint32_t	*w;
	int		 fd, status;
	pid_t		 pid;

	snprintf(name, sizeof(name), "%s-shm", path);
	if ((pid = fork()) == 0) {
		if ((fd = open(name, O_RDWR)) == -1 ||
		    (w = mmap(NULL, 96, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    0)) == MAP_FAILED)
			_exit(1);
		w[2] += 1000;		/* copy 1's iChange */
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * SQLite rebuilds a torn header from the WAL and restarts its commit
 * counter at 0: the marks after that must not repeat earlier ones, or a
 * reader would take data older than a commit for current.
 */
static void
mark_does_not_repeat_after_a_wal_index_recovery(void **state)
{
	struct tu_store	*f = *state;
	uint64_t	 seen[32], m;
	char		 serial[16];
	int		 i, j;

	for (i = 0; i < 32; i++) {
		snprintf(serial, sizeof(serial), "8%04X", i);
		assert_int_equal(issue(f->st, serial), 0);
		seen[i] = store_watch_token(f->st, STORE_WATCH_COMMIT);
	}
	tear_wal_index_header(f->path);
	assert_true(store_watch_token(f->st, STORE_WATCH_COMMIT) == 0);
	/* The next read finds the header torn and recovers it. */
	assert_int_equal(store_cert_count(f->st, -1, NULL), 32);
	for (i = 0; i < 32; i++) {
		m = store_watch_token(f->st, STORE_WATCH_COMMIT);
		assert_true(m != 0);
		for (j = 0; j < 32; j++)
			assert_true(m != seen[j]);
		snprintf(serial, sizeof(serial), "9%04X", i);
		assert_int_equal(issue(f->st, serial), 0);
	}
}

static void
closing_the_store_still_removes_the_wal(void **state)
{
	struct tu_store	*f = *state;

	assert_int_equal(issue(f->st, "7A"), 0);
	assert_true(store_watch_token(f->st, STORE_WATCH_COMMIT) != 0);
	assert_true(file_exists(f->path, "-wal"));
	store_close(f->st);
	f->st = NULL;
	assert_false(file_exists(f->path, "-wal"));
	assert_false(file_exists(f->path, "-shm"));
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tu_store_setup, \
	    tu_store_teardown)
	const struct CMUnitTest tests[] = {
		T(mark_is_nonzero_and_unchanged_by_reads),
		T(mark_changes_with_each_commit_through_the_store),
		T(mark_changes_after_a_commit_from_another_thread),
		T(mark_changes_after_a_commit_by_another_connection),
		cmocka_unit_test(mark_changes_after_a_commit_by_another_process),
		cmocka_unit_test(mark_is_zero_for_a_memory_store),
		T(mark_is_zero_for_a_store_not_in_wal_mode),
		T(read_only_store_sees_a_writers_commit),
		T(concurrent_marks_while_a_writer_commits),
		T(mark_changes_after_a_checkpoint_and_a_commit),
		T(mark_does_not_repeat_after_a_wal_index_recovery),
		T(closing_the_store_still_removes_the_wal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
