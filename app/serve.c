#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcgiapp.h>

#include "app.h"
#include "arena.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "serve.h"
#include "stmts.h"

#define SERVE_BACKLOG		1024
#define SERVE_BACKOFF_MIN_MS	100
#define SERVE_BACKOFF_MAX_MS	5000
#define SERVE_YOUNG_MS		1000	/* dying younger counts as a crash */
#define SERVE_STOP_TIMEOUT_S	30
#define SERVE_IO_TIMEOUT_S	30	/* nginx's fastcgi_read_timeout */

#define SERVE_READY_TIMEOUT_MS	10000	/* a silent new worker counts as ready */
#define SERVE_SIG_READY		SIGRTMIN	/* worker -> master: accepting */
#define SERVE_ENV_MASTER	"WADESK_SERVE_MASTER"

/*
 * A worker's place.  There are twice WADESK_WORKERS of them: during a
 * reload (SIGHUP) the new generation starts next to the old one, and an old
 * worker is told to stop only once a new one accepts connections.
 */
struct slot {
	pid_t		pid;
	long		gen;		/* its generation; -1: a free slot */
	int		ready;		/* the worker said it accepts */
	int		retiring;	/* sent SIGTERM by a reload */
	long long	started_ms;
	long long	restart_ms;	/* when an empty slot may be refilled */
	int		crashes;	/* young deaths in a row */
};

static volatile sig_atomic_t	worker_stop;

static int		serve_listen(const char *);
static pid_t		serve_spawn(const char *, int);
static void		serve_reap(struct slot *, long, long, int);
static void		serve_reload(struct slot *, long, long, long long);
static void		worker_ready(void);
static void		worker_on_signal(int);
static int		worker_wait(int, const sigset_t *);
static void		worker_timeouts(int);
static void		worker_finish(FCGX_Request *);
static void		worker_handle(FCGX_Request *, struct arena *,
			    struct db *, const struct settings *);

/*
 * A unix socket path (anything with a '/') or host:port.  A unix socket is
 * created without permissions for others (umask) and then given
 * WADESK_SOCKET_GROUP (nginx's group, when set) and WADESK_SOCKET_MODE
 * (default 0660): only its owner and that group may connect.  Over TCP,
 * libfcgi accepts connections only from the addresses listed in
 * FCGI_WEB_SERVER_ADDRS when that is set (see README "Scaling out").
 */
static int
serve_listen(const char *where)
{
	struct stat	 st;
	struct group	*gr;
	mode_t		 mode, old;
	const char	*m, *g;
	char		*end;
	int		 fd, unix_socket;

	unix_socket = strchr(where, '/') != NULL;
	m = getenv("WADESK_SOCKET_MODE");
	mode = (mode_t)strtol(m && *m ? m : "0660", &end, 8);
	if (*end != '\0' || (mode & ~(mode_t)0777) != 0 ||
	    (mode & S_IWOTH) != 0) {
		log_kv(LOG_FATAL, "WADESK_SOCKET_MODE must be an octal mode "
		    "that others cannot write, e.g. 0660", NULL);
		return -1;
	}
	if (unix_socket && stat(where, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    unlink(where) == -1) {
		log_kv(LOG_FATAL, "cannot remove old socket", "path", where,
		    "cause", strerror(errno), NULL);
		return -1;
	}
	old = umask(S_IXUSR | S_IXGRP | S_IRWXO);
	fd = FCGX_OpenSocket(where, SERVE_BACKLOG);
	umask(old);
	if (fd < 0) {
		log_kv(LOG_FATAL, "cannot open FastCGI socket", "socket", where,
		    "cause", strerror(errno), NULL);
		return -1;
	}
	if (!unix_socket)
		return fd;
	if ((g = getenv("WADESK_SOCKET_GROUP")) != NULL && *g != '\0') {
		if ((gr = getgrnam(g)) == NULL) {
			log_kv(LOG_FATAL, "WADESK_SOCKET_GROUP: no such group",
			    "group", g, NULL);
			close(fd);
			return -1;
		}
		if (chown(where, (uid_t)-1, gr->gr_gid) == -1) {
			log_kv(LOG_FATAL, "cannot give the socket its group",
			    "path", where, "cause", strerror(errno), NULL);
			close(fd);
			return -1;
		}
	}
	if (chmod(where, mode) == -1) {
		log_kv(LOG_FATAL, "cannot chmod socket", "path", where,
		    "cause", strerror(errno), NULL);
		close(fd);
		return -1;
	}
	return fd;
}

static pid_t
serve_spawn(const char *self, int lfd)
{
	sigset_t	 none;
	pid_t		 pid;
	char		 master[24];
	char		*argv[] = { (char *)(uintptr_t)"wadesk",
			    (char *)(uintptr_t)"serve",
			    (char *)(uintptr_t)"--worker", NULL };

	if ((pid = fork()) == -1) {
		log_kv(LOG_ERROR, "fork failed", "cause", strerror(errno),
		    NULL);
		return -1;
	}
	if (pid > 0)
		return pid;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	snprintf(master, sizeof(master), "%ld", (long)getppid());
	if (setenv(SERVE_ENV_MASTER, master, 1) == -1)
		_exit(127);
	if (dup2(lfd, 0) == -1)
		_exit(127);
	if (lfd != 0)
		close(lfd);
	/*
	 * libpq links libldap, which links GnuTLS, whose constructor sets
	 * itself up at load time in every process; a worker never uses it
	 * (libldap initialises it itself if it ever needs it).  Skipping that
	 * keeps about 0.6 MiB out of each worker's RSS.
	 */
	if (setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0) == -1)
		_exit(127);
	execv(self, argv);
	log_kv(LOG_FATAL, "exec failed", "path", self, "cause",
	    strerror(errno), NULL);
	_exit(127);
}

/*
 * Collects dead workers.  A worker of the current generation is respawned
 * (after a back-off when it died young); one of an older generation (a
 * reload retired it, or it died meanwhile) leaves its slot free.
 */
static void
serve_reap(struct slot *slots, long n, long gen, int stopping)
{
	long long	 now, age, delay;
	pid_t		 pid;
	long		 i;
	int		 status;
	char		 code[16], pidbuf[16];

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n && slots[i].pid != pid; i++)
			;
		if (i == n)
			continue;
		now = clock_ms();
		age = now - slots[i].started_ms;
		snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)pid);
		if (WIFSIGNALED(status))
			snprintf(code, sizeof(code), "\"signal %d\"",
			    WTERMSIG(status));
		else
			snprintf(code, sizeof(code), "%d", WEXITSTATUS(status));
		slots[i].pid = 0;
		slots[i].ready = 0;
		if (stopping || slots[i].gen != gen) {
			log_kv(LOG_INFO, stopping ? "worker stopped" :
			    "worker retired", "#worker", pidbuf, "#exit", code,
			    NULL);
			if (!stopping && !slots[i].retiring)
				metrics_worker_exit(WIFSIGNALED(status));
			slots[i].gen = -1;
			slots[i].retiring = 0;
			continue;
		}
		metrics_worker_exit(WIFSIGNALED(status) &&
		    WTERMSIG(status) != SIGTERM);
		if (age < SERVE_YOUNG_MS)
			slots[i].crashes++;
		else
			slots[i].crashes = 0;
		delay = 0;
		if (slots[i].crashes > 0) {
			delay = (long long)SERVE_BACKOFF_MIN_MS <<
			    (slots[i].crashes > 6 ? 6 : slots[i].crashes - 1);
			if (delay > SERVE_BACKOFF_MAX_MS)
				delay = SERVE_BACKOFF_MAX_MS;
		}
		slots[i].restart_ms = now + delay;
		log_kv(LOG_WARN, "worker exited; respawning", "#worker", pidbuf,
		    "#exit", code, NULL);
	}
}

/*
 * The rolling part of a reload, run after every event: gives the current
 * generation its `workers` slots (as old workers leave), and tells old
 * workers to stop as new ones become ready, so that as many workers accept
 * as before at every moment.  An old worker that is not ready yet serves
 * nothing and stops at once.  When the new binary cannot start, its slots
 * crash-loop with the usual back-off and the old workers keep serving.
 */
static void
serve_reload(struct slot *slots, long n, long gen, long long now)
{
	long	i, want, have = 0, ready = 0, keep;

	want = n / 2;
	for (i = 0; i < n; i++) {
		if (slots[i].gen != gen)
			continue;
		have++;
		if (slots[i].pid > 0 && !slots[i].ready &&
		    now - slots[i].started_ms >= SERVE_READY_TIMEOUT_MS)
			slots[i].ready = 1;
		if (slots[i].pid > 0 && slots[i].ready)
			ready++;
	}
	for (i = 0; i < n && have < want; i++) {
		if (slots[i].gen != -1)
			continue;
		memset(&slots[i], 0, sizeof(slots[i]));
		slots[i].gen = gen;
		slots[i].restart_ms = now;
		have++;
	}
	keep = want - ready;
	for (i = 0; i < n; i++) {
		if (slots[i].gen == gen || slots[i].gen == -1 ||
		    slots[i].pid <= 0 || slots[i].retiring)
			continue;
		if (slots[i].ready && keep > 0) {
			keep--;
			continue;
		}
		kill(slots[i].pid, SIGTERM);
		slots[i].retiring = 1;
	}
}

int
serve_master(const struct settings *s)
{
	struct slot	*slots;
	sigset_t	 set;
	siginfo_t	 info;
	struct timespec	 ts;
	char		 self[4096], num[16];
	long long	 now, wait_ms, deadline = 0;
	long		 i, alive, nslots, old, ready, gen = 0;
	ssize_t		 n;
	int		 lfd, sig, stopping = 0, reloading = 0;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		log_kv(LOG_FATAL, "cannot find own executable", NULL);
		return 1;
	}
	self[n] = '\0';
	/* A rebuilt binary replaces the file; exec the path, not the inode. */
	if ((n = (ssize_t)strlen(self)) > 10 &&
	    strcmp(self + n - 10, " (deleted)") == 0)
		self[n - 10] = '\0';
	if ((lfd = serve_listen(s->socket)) == -1)
		return 1;
	if (metrics_create() == -1)
		log_kv(LOG_WARN, "metrics segment unavailable; /metrics will "
		    "show database figures only", NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SERVE_SIG_READY);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	nslots = 2 * s->workers;
	slots = calloc((size_t)nslots, sizeof(*slots));
	if (slots == NULL)
		return 1;
	for (i = 0; i < nslots; i++)
		slots[i].gen = -1;
	snprintf(num, sizeof(num), "%ld", s->workers);
	log_kv(LOG_INFO, "serving", "socket", s->socket, "#workers", num,
	    NULL);
	for (;;) {
		now = clock_ms();
		if (!stopping)
			serve_reload(slots, nslots, gen, now);
		wait_ms = 1000;
		alive = old = ready = 0;
		for (i = 0; i < nslots; i++) {
			if (slots[i].pid == 0 && slots[i].gen == gen &&
			    !stopping) {
				if (slots[i].restart_ms <= now) {
					slots[i].pid = serve_spawn(self, lfd);
					slots[i].started_ms = now;
					slots[i].ready = 0;
					if (slots[i].pid == -1) {
						slots[i].pid = 0;
						slots[i].restart_ms = now +
						    SERVE_BACKOFF_MAX_MS;
					}
				} else if (slots[i].restart_ms - now < wait_ms)
					wait_ms = slots[i].restart_ms - now;
			}
			if (slots[i].pid > 0)
				alive++;
			if (slots[i].pid > 0 && slots[i].gen != gen)
				old++;
			if (slots[i].pid > 0 && slots[i].gen == gen &&
			    slots[i].ready)
				ready++;
		}
		if (reloading && old == 0 && ready == s->workers) {
			log_kv(LOG_INFO, "reload done: every worker is new",
			    NULL);
			reloading = 0;
		}
		if (stopping && alive == 0)
			break;
		if (stopping && now >= deadline) {
			log_kv(LOG_WARN, "workers did not stop in time; killing",
			    NULL);
			for (i = 0; i < nslots; i++)
				if (slots[i].pid > 0)
					kill(slots[i].pid, SIGKILL);
			deadline = now + 1000000;
		}
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (wait_ms % 1000) * 1000000L;
		sig = sigtimedwait(&set, &info, &ts);
		if (sig == SIGCHLD)
			serve_reap(slots, nslots, gen, stopping);
		else if (sig == SERVE_SIG_READY) {
			for (i = 0; i < nslots; i++)
				if (slots[i].pid > 0 &&
				    slots[i].pid == info.si_pid)
					slots[i].ready = 1;
		} else if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
			log_kv(LOG_INFO, "stopping: letting workers finish",
			    NULL);
			stopping = 1;
			deadline = clock_ms() + SERVE_STOP_TIMEOUT_S * 1000;
			for (i = 0; i < nslots; i++)
				if (slots[i].pid > 0)
					kill(slots[i].pid, SIGTERM);
		} else if (sig == SIGHUP && !stopping) {
			/*
			 * A new generation: its workers start next to the old
			 * ones (serve_reload); old slots waiting for a respawn
			 * are given up.
			 */
			gen++;
			reloading = 1;
			for (i = 0; i < nslots; i++)
				if (slots[i].pid == 0)
					slots[i].gen = -1;
			log_kv(LOG_INFO, "SIGHUP: starting new workers; each old "
			    "one stops when a new one accepts", NULL);
		}
	}
	close(lfd);
	if (strchr(s->socket, '/') != NULL)
		unlink(s->socket);
	free(slots);
	log_kv(LOG_INFO, "stopped", NULL);
	return 0;
}

/*
 * Runs only while the worker waits in epoll_pwait() (SIGTERM and SIGINT are
 * blocked everywhere else), so it interrupts nothing but that wait.  It does
 * not call FCGX_ShutdownPending(): libfcgi's accept then closes a connection
 * it has just accepted when a signal lands while it waits for the first
 * bytes, and loops for ever on the closed descriptor.
 */
static void
worker_on_signal(int sig)
{
	(void)sig;
	worker_stop = 1;
}

/*
 * Tells the master that this worker accepts connections from now on (a
 * reload stops an old worker for each new one that does).  Only when the
 * parent is the master that started us: a worker whose master died is
 * inherited by another process, which must not get the signal.
 */
static void
worker_ready(void)
{
	const char	*m;

	if ((m = getenv(SERVE_ENV_MASTER)) != NULL &&
	    strtol(m, NULL, 10) == (long)getppid() &&
	    kill(getppid(), SERVE_SIG_READY) == -1)
		log_kv(LOG_WARN, "cannot tell the master this worker is ready",
		    "cause", strerror(errno), NULL);
}

/*
 * Waits until the listening socket (fd 0) has a connection to take, or a
 * stop signal came.  Returns 0 when there may be a connection, -1 when the
 * worker is to stop.  The socket joins the worker's epoll instance efd for
 * the wait only, with EPOLLEXCLUSIVE: the kernel wakes one waiting worker
 * per connection, the first in the socket's queue, and a worker joins that
 * queue at its end each time it waits, so the one idle longest takes the
 * next connection, as with a blocking accept().  The socket is non-blocking
 * (serve_worker): when another worker takes the connection first,
 * FCGX_Accept_r() returns -EAGAIN instead of blocking where no signal could
 * reach it.
 */
static int
worker_wait(int efd, const sigset_t *waitmask)
{
	struct epoll_event	ev;
	int			rc = -1;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	if (epoll_ctl(efd, EPOLL_CTL_ADD, 0, &ev) == -1) {
		log_kv(LOG_ERROR, "cannot watch the FastCGI socket", "cause",
		    strerror(errno), NULL);
		return -1;
	}
	while (!worker_stop) {
		if (epoll_pwait(efd, &ev, 1, -1, waitmask) > 0) {
			rc = 0;
			break;
		}
		if (errno != EINTR) {
			log_kv(LOG_ERROR, "waiting for a connection failed",
			    "cause", strerror(errno), NULL);
			break;
		}
	}
	if (epoll_ctl(efd, EPOLL_CTL_DEL, 0, &ev) == -1) {
		log_kv(LOG_ERROR, "cannot stop watching the FastCGI socket",
		    "cause", strerror(errno), NULL);
		rc = -1;
	}
	return rc;
}

static void
worker_handle(FCGX_Request *fr, struct arena *arena, struct db *db,
    const struct settings *s)
{
	struct req	r;
	struct app	a;
	char		status[8], ms[32];

	req_init(&r, fr, arena);
	log_context(r.request_id, r.remote);
	memset(&a, 0, sizeof(a));
	a.req = &r;
	a.db = db;
	a.cfg = s;
	a.route = "-";
	routes_dispatch(&a);
	if (r.status == 0)
		req_error(&r, 500, "internal_error",
		    "an internal error occurred", NULL);
	snprintf(status, sizeof(status), "%d", r.status);
	snprintf(ms, sizeof(ms), "%.3f", req_elapsed_ms(&r));
	metrics_request(a.route_id, r.status, req_elapsed_ms(&r));
	log_kv(r.status >= 500 ? LOG_ERROR : LOG_INFO, "request",
	    "method", r.method, "route", a.route, "#status", status,
	    "#duration_ms", ms, NULL);
	req_cleanup(&r);
	log_context(NULL, NULL);
}

/*
 * Bounds the time a worker can spend on one read or write of the accepted
 * FastCGI connection.  nginx takes answers whole (see nginx.conf.in), but a
 * peer that stops reading or sending must not hold a worker for ever: a
 * write or read that cannot progress for SERVE_IO_TIMEOUT_S fails, libfcgi
 * marks the stream broken, and the worker closes it and takes the next
 * request.
 */
static void
worker_timeouts(int fd)
{
	struct timeval	tv;

	tv.tv_sec = SERVE_IO_TIMEOUT_S;
	tv.tv_usec = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		log_kv(LOG_WARN, "cannot set the FastCGI socket's timeouts",
		    "cause", strerror(errno), NULL);
}

/*
 * Ends the request.  libfcgi's own close shuts the socket down and then
 * waits for nginx to close its end (so that unread input cannot reset the
 * connection before nginx has read the answer): a round trip through nginx
 * during which this worker takes no new request.  Reading what is left of
 * the request first leaves nothing unread, so the socket is simply closed
 * (FCGX_Detach skips the wait).  nginx never sends more than a body of
 * REQ_MAX_BODY; past twice that, libfcgi's own close deals with the rest.
 */
static void
worker_finish(FCGX_Request *fr)
{
	char	trash[4096];
	size_t	read = 0;
	int	n;

	while (read < 2 * REQ_MAX_BODY &&
	    (n = FCGX_GetStr(trash, sizeof(trash), fr->in)) > 0)
		read += (size_t)n;
	if (FCGX_HasSeenEOF(fr->in) == EOF)
		FCGX_Detach(fr);
	FCGX_Finish_r(fr);
}

/*
 * The worker: one request at a time.  SIGTERM/SIGINT are blocked except
 * while it waits for a connection (worker_wait), so a stop signal never
 * interrupts accepting, reading or answering a request: the request in hand
 * is finished, then the worker exits.
 */
int
serve_worker(const struct settings *s)
{
	struct sigaction	 sa;
	sigset_t		 stop, waitmask;
	FCGX_Request		 fr;
	struct arena		 arena;
	struct db		 db;
	int			 efd, fl, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (FCGX_Init() != 0) {
		log_kv(LOG_FATAL, "FCGX_Init failed", NULL);
		return 1;
	}
	if (FCGX_InitRequest(&fr, 0, 0) != 0) {
		log_kv(LOG_FATAL, "FCGX_InitRequest failed", NULL);
		return 1;
	}
	if ((fl = fcntl(0, F_GETFL)) == -1 ||
	    fcntl(0, F_SETFL, fl | O_NONBLOCK) == -1) {
		log_kv(LOG_FATAL, "cannot make the FastCGI socket non-blocking",
		    "cause", strerror(errno), NULL);
		return 1;
	}
	if ((efd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_kv(LOG_FATAL, "cannot create an epoll instance", "cause",
		    strerror(errno), NULL);
		return 1;
	}
	metrics_attach();
	arena_init(&arena, 64 * 1024);
	db_init(&db, s->database_url, s->db_options, stmts_sql, stmts_generic,
	    STMT__MAX);
	db_set_deadline(&db, s->db_deadline_ms);
	worker_ready();
	while (worker_wait(efd, &waitmask) == 0) {
		if ((rc = FCGX_Accept_r(&fr)) < 0) {
			/* Another worker was first, or nginx went away. */
			if (rc == -EAGAIN || rc == -EWOULDBLOCK ||
			    rc == -ECONNABORTED || rc == -EINTR)
				continue;
			log_kv(LOG_ERROR, "accept failed", "cause",
			    strerror(-rc), NULL);
			sleep(1);
			continue;
		}
		worker_timeouts(fr.ipcFd);
		worker_handle(&fr, &arena, &db, s);
		worker_finish(&fr);
		arena_reset(&arena);
	}
	FCGX_Free(&fr, 1);
	close(efd);
	db_cleanup(&db);
	arena_cleanup(&arena);
	return 0;
}
