/* The epoll loop. Timers are a sorted doubly linked list with a sentinel (a shim has a handful);
 * the first deadline bounds epoll_wait's timeout. */
#include "ttrpc/loop.h"
#include "ttrpc/util.h"

#include <errno.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 64

struct ttrpc_loop {
	int epfd;
	bool stop;
	struct ttrpc_timer timers; /* sentinel: timers.next is the earliest */
	/* the batch being dispatched, so that ttrpc_loop_del can drop events still pending in it */
	struct epoll_event *batch;
	int batch_n;
};

uint64_t ttrpc_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int ttrpc_loop_new(struct ttrpc_loop **out)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct ttrpc_loop *l = ttrpc_xzalloc(sizeof(*l));
	l->epfd = fd;
	l->timers.prev = l->timers.next = &l->timers;
	*out = l;
	return 0;
}

void ttrpc_loop_free(struct ttrpc_loop *l)
{
	if (!l)
		return;
	/* Unlink what is left so that ttrpc_timer_armed() is false on each. */
	while (l->timers.next != &l->timers) {
		struct ttrpc_timer *t = l->timers.next;
		l->timers.next = t->next;
		t->prev = t->next = NULL;
	}
	close(l->epfd);
	free(l);
}

static int loop_ctl(struct ttrpc_loop *l, int op, struct ttrpc_source *s, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = s};
	if (epoll_ctl(l->epfd, op, s->fd, &ev) < 0)
		return -errno;
	return 0;
}

int ttrpc_loop_add(struct ttrpc_loop *l, struct ttrpc_source *s, uint32_t events)
{
	return loop_ctl(l, EPOLL_CTL_ADD, s, events);
}

int ttrpc_loop_mod(struct ttrpc_loop *l, struct ttrpc_source *s, uint32_t events)
{
	return loop_ctl(l, EPOLL_CTL_MOD, s, events);
}

void ttrpc_loop_del(struct ttrpc_loop *l, struct ttrpc_source *s)
{
	if (s->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	for (int i = 0; i < l->batch_n; i++)
		if (l->batch[i].data.ptr == s)
			l->batch[i].data.ptr = NULL;
}

static void timer_unlink(struct ttrpc_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->prev = t->next = NULL;
}

void ttrpc_timer_arm(struct ttrpc_loop *l, struct ttrpc_timer *t, uint64_t ms)
{
	if (t->next)
		timer_unlink(t);
	uint64_t now = ttrpc_now_ns();
	uint64_t delta = ms > UINT64_MAX / 1000000ull ? UINT64_MAX : ms * 1000000ull;
	t->deadline_ns = delta > UINT64_MAX - now ? UINT64_MAX : now + delta;
	/* Insert after the last timer due no later than t: equal deadlines keep arming order. */
	struct ttrpc_timer *pos = l->timers.prev;
	while (pos != &l->timers && pos->deadline_ns > t->deadline_ns)
		pos = pos->prev;
	t->prev = pos;
	t->next = pos->next;
	pos->next->prev = t;
	pos->next = t;
}

void ttrpc_timer_cancel(struct ttrpc_loop *l, struct ttrpc_timer *t)
{
	(void)l;
	if (t->next)
		timer_unlink(t);
}

bool ttrpc_timer_armed(const struct ttrpc_timer *t)
{
	return t->next != NULL;
}

/* epoll_wait's timeout: the caller's bound, shortened to the first deadline (rounded up, so that
 * we do not wake up just before it and spin). */
static int loop_timeout(struct ttrpc_loop *l, int max_wait_ms)
{
	if (l->timers.next == &l->timers)
		return max_wait_ms;
	uint64_t now = ttrpc_now_ns(), dl = l->timers.next->deadline_ns;
	if (dl <= now)
		return 0;
	uint64_t ms = (dl - now + 999999) / 1000000;
	if (ms > INT_MAX)
		ms = INT_MAX;
	if (max_wait_ms >= 0 && (uint64_t)max_wait_ms < ms)
		return max_wait_ms;
	return (int)ms;
}

static int loop_fire_timers(struct ttrpc_loop *l)
{
	/* Detach the due timers first: one that re-arms itself for 0 ms fires on the next round,
	 * not in an endless loop here. Cancelling one still on the local list unlinks it from
	 * there. */
	struct ttrpc_timer due = {.prev = &due, .next = &due};
	uint64_t now = ttrpc_now_ns();
	while (l->timers.next != &l->timers && l->timers.next->deadline_ns <= now) {
		struct ttrpc_timer *t = l->timers.next;
		timer_unlink(t);
		t->prev = due.prev;
		t->next = &due;
		due.prev->next = t;
		due.prev = t;
	}
	int n = 0;
	while (due.next != &due) {
		struct ttrpc_timer *t = due.next;
		timer_unlink(t);
		n++;
		t->cb(t);
	}
	return n;
}

int ttrpc_loop_run_once(struct ttrpc_loop *l, int max_wait_ms)
{
	struct epoll_event evs[LOOP_BATCH];
	int n = epoll_wait(l->epfd, evs, LOOP_BATCH, loop_timeout(l, max_wait_ms));
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	int ran = 0;
	l->batch = evs;
	l->batch_n = n;
	for (int i = 0; i < n; i++) {
		struct ttrpc_source *s = evs[i].data.ptr;
		if (!s)
			continue; /* deleted by an earlier callback of this batch */
		ran++;
		s->cb(s, evs[i].events);
	}
	l->batch = NULL;
	l->batch_n = 0;
	return ran + loop_fire_timers(l);
}

int ttrpc_loop_run(struct ttrpc_loop *l)
{
	int r = 0;
	while (!l->stop) {
		r = ttrpc_loop_run_once(l, -1);
		if (r < 0)
			break;
		r = 0;
	}
	l->stop = false;
	return r;
}

void ttrpc_loop_stop(struct ttrpc_loop *l)
{
	l->stop = true;
}
