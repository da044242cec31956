/* The one epoll loop everything in the daemon runs on: fd sources and one-shot timers.
 * Single-threaded; nothing here blocks except ttrpc_loop_run(_once) waiting for events. */
#ifndef TTRPC_LOOP_H
#define TTRPC_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#define ttrpc_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct ttrpc_loop;

/* Embed in your own struct and find it back with ttrpc_container_of. */
struct ttrpc_source {
	int fd;
	/* events: EPOLLIN/EPOLLOUT/EPOLLHUP/EPOLLERR bits */
	void (*cb)(struct ttrpc_source *s, uint32_t events);
};

/* Embed; one-shot. Zero-initialise it (or set cb and leave the rest zero) before the first arm. */
struct ttrpc_timer {
	void (*cb)(struct ttrpc_timer *t);
	/* private */
	uint64_t deadline_ns;
	struct ttrpc_timer *prev, *next; /* non-NULL while armed */
};

int ttrpc_loop_new(struct ttrpc_loop **out); /* -errno on failure */
/* Closes the epoll fd. Sources and timers still registered are forgotten, not touched. */
void ttrpc_loop_free(struct ttrpc_loop *l);

/* -errno on failure (epoll_ctl). */
int ttrpc_loop_add(struct ttrpc_loop *l, struct ttrpc_source *s, uint32_t events);
int ttrpc_loop_mod(struct ttrpc_loop *l, struct ttrpc_source *s, uint32_t events);
/* Safe from inside any callback, also for a source whose event is still pending in the batch
 * being dispatched: that event is dropped. The caller may free s right after. Does not close fd. */
void ttrpc_loop_del(struct ttrpc_loop *l, struct ttrpc_source *s);

/* Fires once, ms milliseconds from now (CLOCK_MONOTONIC). Re-arming an armed timer moves it.
 * Timers due at the same time fire in the order they were armed. */
void ttrpc_timer_arm(struct ttrpc_loop *l, struct ttrpc_timer *t, uint64_t ms);
void ttrpc_timer_cancel(struct ttrpc_loop *l, struct ttrpc_timer *t); /* no-op if not armed */
bool ttrpc_timer_armed(const struct ttrpc_timer *t);

/* One epoll_wait (at most max_wait_ms, -1 = until an event or the next timer), dispatch what it
 * returned, then fire the timers that are due. Returns the number of callbacks run, or -errno.
 * EINTR counts as 0 callbacks. */
int ttrpc_loop_run_once(struct ttrpc_loop *l, int max_wait_ms);
/* ttrpc_loop_run_once(l, -1) until ttrpc_loop_stop. 0, or -errno from epoll_wait. */
int ttrpc_loop_run(struct ttrpc_loop *l);
void ttrpc_loop_stop(struct ttrpc_loop *l);

/* CLOCK_MONOTONIC in nanoseconds, the loop's clock. */
uint64_t ttrpc_now_ns(void);

#endif
