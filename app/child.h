#ifndef CHILD_H
#define CHILD_H

#include <signal.h>
#include <sys/types.h>
#include <time.h>

struct settings;

/*
 * A process the dispatcher forks and keeps alive: the event delivery
 * (app/events.c) and the search indexer (app/indexer.c).  In the child,
 * main runs with the settings and its return is the exit status; the
 * child ends with its parent.
 */
struct child {
	const char	*what;		/* for the log */
	int		(*main)(const struct settings *);
	pid_t		 pid;
	time_t		 died_at;
};

/* In a child: set by SIGTERM or SIGINT, when main should return. */
extern volatile sig_atomic_t	child_stop;

/* Forks it the first time. */
void	child_start(struct child *, const struct settings *);
/*
 * Starts it again (after a second) when it exited; with stop set, asks it
 * to stop (SIGTERM) and waits for it.
 */
void	child_watch(struct child *, const struct settings *, int);

#endif
