#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "log.h"

volatile sig_atomic_t	child_stop;

static void
child_on_signal(int sig)
{
	(void)sig;
	child_stop = 1;
}

/*
 * Forks c: its pid, or -1 (logged).  The stop signals stay blocked across
 * the fork until the child has its own handler, so that none is lost.
 */
static pid_t
child_spawn(const struct child *c, const struct settings *s)
{
	struct sigaction	sa;
	sigset_t		stops, old;
	pid_t			pid, parent = getpid();

	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigprocmask(SIG_BLOCK, &stops, &old);
	if ((pid = fork()) != 0) {
		if (pid == -1)
			log_kv(LOG_ERROR, "cannot fork a dispatcher's process",
			    "process", c->what, "cause", strerror(errno),
			    NULL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return pid;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = child_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Ends with its dispatcher, even one killed with SIGKILL. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	_exit(c->main(s));
}

void
child_start(struct child *c, const struct settings *s)
{
	c->died_at = 0;
	if ((c->pid = child_spawn(c, s)) == -1)
		c->died_at = time(NULL);
}

void
child_watch(struct child *c, const struct settings *s, int stop)
{
	int	st;
	pid_t	w;

	if (c->pid > 0) {
		if (stop) {
			(void)kill(c->pid, SIGTERM);
			while (waitpid(c->pid, &st, 0) == -1 && errno == EINTR)
				;
			c->pid = -1;
			return;
		}
		if ((w = waitpid(c->pid, &st, WNOHANG)) == 0 ||
		    (w == -1 && errno == EINTR))
			return;
		log_kv(LOG_ERROR, "a dispatcher's process exited; starting "
		    "another", "process", c->what, NULL);
		c->pid = -1;
		c->died_at = time(NULL);
	}
	if (stop || time(NULL) - c->died_at < 1)
		return;
	if ((c->pid = child_spawn(c, s)) == -1)
		c->died_at = time(NULL);
}
