#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "log.h"

pid_t
child_fork(const char *what)
{
	pid_t	pid, parent = getpid();

	if ((pid = fork()) == -1) {
		log_kv(LOG_ERROR, "cannot fork a dispatcher's process",
		    "process", what, "cause", strerror(errno), NULL);
		return -1;
	}
	if (pid > 0)
		return pid;
	/* Not the dispatcher's handlers (the child sets its own). */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	/* Ends with its dispatcher, even one killed with SIGKILL. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	return 0;
}

void
child_start(struct child *c, const struct settings *s)
{
	c->died_at = 0;
	if ((c->pid = c->spawn(s)) == -1)
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
	if ((c->pid = c->spawn(s)) == -1)
		c->died_at = time(NULL);
}
