#ifndef CHILD_H
#define CHILD_H

#include <sys/types.h>
#include <time.h>

struct settings;

/*
 * A process the dispatcher forks and keeps alive: the event delivery
 * (app/events.c) and the search indexer (app/indexer.c).  spawn forks it
 * and returns its pid, or -1 when fork failed (logged); the child ends
 * with its parent.
 */
struct child {
	const char	*what;		/* for the log */
	pid_t		(*spawn)(const struct settings *);
	pid_t		 pid;
	time_t		 died_at;
};

/*
 * fork() for spawn: in the child (0) the signals are the defaults and it
 * gets SIGTERM when its parent dies; the parent gets the pid, or -1
 * (logged).
 */
pid_t	child_fork(const char *);
/* Forks it the first time. */
void	child_start(struct child *, const struct settings *);
/*
 * Starts it again (after a second) when it exited; with stop set, asks it
 * to stop (SIGTERM) and waits for it.
 */
void	child_watch(struct child *, const struct settings *, int);

#endif
