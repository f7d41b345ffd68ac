#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "child.h"
#include "log.h"

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
