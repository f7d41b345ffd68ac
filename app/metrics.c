#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "metrics.h"
#include "model_message.h"
#include "routes.h"
#include "stmts.h"

#define METRICS_CLASSES	5	/* 1xx..5xx */
#define METRICS_HASH_SLOTS	64

static const double metrics_bounds_ms[] = {
	1, 2.5, 5, 10, 25, 50, 100, 250, 1000, 5000
};
#define METRICS_BUCKETS	(sizeof(metrics_bounds_ms) / sizeof(double))

struct metrics_shm {
	uint64_t	requests[ROUTE__MAX + 1][METRICS_CLASSES];
	uint64_t	buckets[METRICS_BUCKETS];
	uint64_t	count;
	uint64_t	sum_us;
	uint64_t	worker_exits;
	uint64_t	worker_crashes;
	int32_t		hashing[METRICS_HASH_SLOTS];	/* pid or 0 */
};

static struct metrics_shm	*shm;
static int			 hash_slot = -1;	/* ours, or -1 */

static void	metrics_add(uint64_t *, uint64_t);

static void
metrics_add(uint64_t *p, uint64_t v)
{
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

int
metrics_create(void)
{
	char	num[16];
	int	fd;

	if ((fd = memfd_create("wadesk-metrics", 0)) == -1)
		return -1;
	if (ftruncate(fd, sizeof(struct metrics_shm)) == -1) {
		close(fd);
		return -1;
	}
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (shm == MAP_FAILED) {
		shm = NULL;
		close(fd);
		return -1;
	}
	snprintf(num, sizeof(num), "%d", fd);
	return setenv("WADESK_METRICS_FD", num, 1);
}

void
metrics_attach(void)
{
	const char	*v;
	void		*p;
	int		 fd;

	if ((v = getenv("WADESK_METRICS_FD")) == NULL || (fd = atoi(v)) <= 2)
		return;
	p = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);
	if (p != MAP_FAILED)
		shm = p;
	close(fd);
}

int
metrics_hash_enter(int max)
{
	int32_t	 pid = (int32_t)getpid(), cur;
	int	 i;

	if (shm == NULL)
		return 0;
	if (max > METRICS_HASH_SLOTS)
		max = METRICS_HASH_SLOTS;
	for (i = 0; i < max; i++) {
		cur = __atomic_load_n(&shm->hashing[i], __ATOMIC_ACQUIRE);
		/* A slot held by a worker that died (killed mid-hash). */
		if (cur != 0 && kill((pid_t)cur, 0) == -1 && errno == ESRCH &&
		    __atomic_compare_exchange_n(&shm->hashing[i], &cur, 0, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			cur = 0;
		if (cur == 0 && __atomic_compare_exchange_n(&shm->hashing[i],
		    &cur, pid, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			hash_slot = i;
			return 0;
		}
	}
	return -1;
}

void
metrics_hash_leave(void)
{
	if (shm == NULL || hash_slot < 0)
		return;
	__atomic_store_n(&shm->hashing[hash_slot], 0, __ATOMIC_RELEASE);
	hash_slot = -1;
}

void
metrics_request(int route, int status, double ms)
{
	size_t	i;
	int	cls;

	if (shm == NULL)
		return;
	if (route < 0 || route > ROUTE__MAX)
		route = ROUTE__MAX;
	cls = status / 100 - 1;
	if (cls < 0 || cls >= METRICS_CLASSES)
		cls = METRICS_CLASSES - 1;
	metrics_add(&shm->requests[route][cls], 1);
	for (i = 0; i < METRICS_BUCKETS; i++)
		if (ms <= metrics_bounds_ms[i])
			metrics_add(&shm->buckets[i], 1);
	metrics_add(&shm->count, 1);
	metrics_add(&shm->sum_us, (uint64_t)(ms * 1000.0));
}

void
metrics_worker_exit(int crashed)
{
	if (shm == NULL)
		return;
	metrics_add(&shm->worker_exits, 1);
	if (crashed)
		metrics_add(&shm->worker_crashes, 1);
}

void
metrics_render(struct buf *b)
{
	size_t	r, c, i;
	uint64_t v;

	if (shm == NULL)
		return;
	buf_puts(b, "# HELP wadesk_http_requests_total Requests answered by "
	    "the workers, by route and status class.\n"
	    "# TYPE wadesk_http_requests_total counter\n");
	for (r = 0; r <= ROUTE__MAX; r++)
		for (c = 0; c < METRICS_CLASSES; c++) {
			v = __atomic_load_n(&shm->requests[r][c],
			    __ATOMIC_RELAXED);
			if (v == 0)
				continue;
			buf_printf(b, "wadesk_http_requests_total{route=\"%s\","
			    "code=\"%zuxx\"} %llu\n", r < ROUTE__MAX ?
			    routes[r].pattern : "unmatched", c + 1,
			    (unsigned long long)v);
		}
	buf_puts(b, "# HELP wadesk_http_request_duration_seconds Time in the "
	    "worker per request.\n"
	    "# TYPE wadesk_http_request_duration_seconds histogram\n");
	for (i = 0; i < METRICS_BUCKETS; i++)
		buf_printf(b, "wadesk_http_request_duration_seconds_bucket"
		    "{le=\"%g\"} %llu\n", metrics_bounds_ms[i] / 1000.0,
		    (unsigned long long)__atomic_load_n(&shm->buckets[i],
		    __ATOMIC_RELAXED));
	v = __atomic_load_n(&shm->count, __ATOMIC_RELAXED);
	buf_printf(b, "wadesk_http_request_duration_seconds_bucket"
	    "{le=\"+Inf\"} %llu\n", (unsigned long long)v);
	buf_printf(b, "wadesk_http_request_duration_seconds_count %llu\n",
	    (unsigned long long)v);
	buf_printf(b, "wadesk_http_request_duration_seconds_sum %.6f\n",
	    (double)__atomic_load_n(&shm->sum_us, __ATOMIC_RELAXED) / 1e6);
	buf_printf(b, "# HELP wadesk_worker_exits_total Workers that exited "
	    "(and were replaced).\n# TYPE wadesk_worker_exits_total counter\n"
	    "wadesk_worker_exits_total %llu\n"
	    "# HELP wadesk_worker_crashes_total Workers that died of a signal "
	    "or within a second of starting.\n"
	    "# TYPE wadesk_worker_crashes_total counter\n"
	    "wadesk_worker_crashes_total %llu\n",
	    (unsigned long long)__atomic_load_n(&shm->worker_exits,
	    __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&shm->worker_crashes,
	    __ATOMIC_RELAXED));
}

int
metrics_render_db(struct buf *b, struct db *db)
{
	PGresult	*res = NULL;
	const char	*p[2];
	struct buf	 st;
	char		 cap[24];
	long long	 n, est;
	int		 i, up;

	snprintf(cap, sizeof(cap), "%d", METRICS_COUNT_CAP);
	buf_init(&st);
	model_message_status_array(&st);
	p[0] = cap;
	p[1] = st.data;
	up = db_ensure(db) == DB_OK &&
	    db_exec(db, STMT_METRICS_CAPPED, 2, p, &res) == DB_OK;
	buf_cleanup(&st);
	buf_printf(b, "# HELP wadesk_database_up Whether this worker reached "
	    "PostgreSQL for this scrape.\n# TYPE wadesk_database_up gauge\n"
	    "wadesk_database_up %d\n", up);
	if (!up) {
		db_res_free(res);
		return 0;
	}
	buf_printf(b, "# HELP wadesk_messages Messages by direction and "
	    "status: exact up to %d, past that PostgreSQL's estimate.\n"
	    "# TYPE wadesk_messages gauge\n", METRICS_COUNT_CAP);
	for (i = 0; i < PQntuples(res); i++) {
		if (strcmp(PQgetvalue(res, i, 0), "m") != 0)
			continue;
		n = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		if (n >= METRICS_COUNT_CAP) {
			est = strtoll(PQgetvalue(res, i, 4), NULL, 10);
			n = est > METRICS_COUNT_CAP ? est : METRICS_COUNT_CAP;
		}
		buf_printf(b, "wadesk_messages{direction=\"%s\",status=\"%s\"} "
		    "%lld\n", PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), n);
	}
	buf_puts(b, "# HELP wadesk_messages_estimated 1 when wadesk_messages "
	    "of that direction and status is an estimate.\n"
	    "# TYPE wadesk_messages_estimated gauge\n");
	for (i = 0; i < PQntuples(res); i++) {
		if (strcmp(PQgetvalue(res, i, 0), "m") != 0)
			continue;
		n = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		buf_printf(b, "wadesk_messages_estimated{direction=\"%s\","
		    "status=\"%s\"} %d\n", PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), n >= METRICS_COUNT_CAP);
	}
	for (i = 0; i < PQntuples(res); i++) {
		if (strcmp(PQgetvalue(res, i, 0), "g") != 0)
			continue;
		buf_printf(b, "# TYPE %s gauge\n%s %s\n", PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 3));
	}
	db_res_free(res);
	return 1;
}
