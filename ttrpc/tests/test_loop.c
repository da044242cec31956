/* The epoll loop: timers and sources. */
#include "helpers.h"

struct rec_timer {
	struct ttrpc_timer t;
	int id;
	int *log;
	int *n;
	struct ttrpc_loop *l;
	struct rec_timer *victim; /* cancelled by this one's callback */
};

static void rec_cb(struct ttrpc_timer *t)
{
	struct rec_timer *r = ttrpc_container_of(t, struct rec_timer, t);
	r->log[(*r->n)++] = r->id;
	if (r->victim)
		ttrpc_timer_cancel(r->l, &r->victim->t);
}

static struct ttrpc_loop *new_loop(void)
{
	struct ttrpc_loop *l;
	assert_int_equal(ttrpc_loop_new(&l), 0);
	return l;
}

static void test_timers_fire_in_deadline_order(void **state)
{
	struct ttrpc_loop *l = new_loop();
	int log[3], n = 0;
	struct rec_timer a = {.t.cb = rec_cb, .id = 1, .log = log, .n = &n};
	struct rec_timer b = a, c = a;
	b.id = 2;
	c.id = 3;
	ttrpc_timer_arm(l, &c.t, 30);
	ttrpc_timer_arm(l, &a.t, 10);
	ttrpc_timer_arm(l, &b.t, 20);
	RUN_UNTIL(l, n == 3);
	assert_int_equal(log[0], 1);
	assert_int_equal(log[1], 2);
	assert_int_equal(log[2], 3);
	assert_false(ttrpc_timer_armed(&a.t));
	ttrpc_loop_free(l);
}

static void test_timers_due_together_fire_in_arming_order(void **state)
{
	struct ttrpc_loop *l = new_loop();
	int log[3], n = 0;
	struct rec_timer a = {.t.cb = rec_cb, .id = 1, .log = log, .n = &n};
	struct rec_timer b = a, c = a;
	b.id = 2;
	c.id = 3;
	ttrpc_timer_arm(l, &a.t, 0);
	ttrpc_timer_arm(l, &b.t, 0);
	ttrpc_timer_arm(l, &c.t, 0);
	assert_int_equal(ttrpc_loop_run_once(l, 0), 3);
	assert_int_equal(log[0], 1);
	assert_int_equal(log[1], 2);
	assert_int_equal(log[2], 3);
	ttrpc_loop_free(l);
}

static void test_rearming_a_timer_moves_it(void **state)
{
	struct ttrpc_loop *l = new_loop();
	int log[2], n = 0;
	struct rec_timer a = {.t.cb = rec_cb, .id = 1, .log = log, .n = &n};
	struct rec_timer b = a;
	b.id = 2;
	ttrpc_timer_arm(l, &a.t, 5);
	ttrpc_timer_arm(l, &b.t, 20);
	ttrpc_timer_arm(l, &a.t, 40);
	RUN_UNTIL(l, n == 2);
	assert_int_equal(log[0], 2);
	assert_int_equal(log[1], 1);
	ttrpc_loop_free(l);
}

static void test_cancelled_timer_does_not_fire(void **state)
{
	struct ttrpc_loop *l = new_loop();
	int log[2], n = 0;
	struct rec_timer a = {.t.cb = rec_cb, .id = 1, .log = log, .n = &n};
	ttrpc_timer_arm(l, &a.t, 1);
	assert_true(ttrpc_timer_armed(&a.t));
	ttrpc_timer_cancel(l, &a.t);
	assert_false(ttrpc_timer_armed(&a.t));
	ttrpc_timer_cancel(l, &a.t); /* twice is fine */
	run_for(l, 20);
	assert_int_equal(n, 0);
	ttrpc_loop_free(l);
}

static void test_timer_cancelled_by_an_earlier_due_timer_does_not_fire(void **state)
{
	struct ttrpc_loop *l = new_loop();
	int log[2], n = 0;
	struct rec_timer b = {.t.cb = rec_cb, .id = 2, .log = log, .n = &n};
	struct rec_timer a = {.t.cb = rec_cb, .id = 1, .log = log, .n = &n, .l = l, .victim = &b};
	ttrpc_timer_arm(l, &a.t, 0);
	ttrpc_timer_arm(l, &b.t, 0);
	ttrpc_loop_run_once(l, 0);
	run_for(l, 10);
	assert_int_equal(n, 1);
	assert_int_equal(log[0], 1);
	ttrpc_loop_free(l);
}

struct self_arm {
	struct ttrpc_timer t;
	struct ttrpc_loop *l;
	int fired;
};

static void self_arm_cb(struct ttrpc_timer *t)
{
	struct self_arm *s = ttrpc_container_of(t, struct self_arm, t);
	s->fired++;
	ttrpc_timer_arm(s->l, t, 0);
}

static void test_timer_rearmed_from_its_callback_fires_on_the_next_round(void **state)
{
	struct ttrpc_loop *l = new_loop();
	struct self_arm s = {.t.cb = self_arm_cb, .l = l};
	ttrpc_timer_arm(l, &s.t, 0);
	assert_int_equal(ttrpc_loop_run_once(l, 0), 1);
	assert_int_equal(s.fired, 1);
	assert_int_equal(ttrpc_loop_run_once(l, 0), 1);
	assert_int_equal(s.fired, 2);
	ttrpc_timer_cancel(l, &s.t);
	ttrpc_loop_free(l);
}

static void test_run_once_waits_no_longer_than_asked(void **state)
{
	struct ttrpc_loop *l = new_loop();
	uint64_t t0 = ttrpc_now_ns();
	assert_int_equal(ttrpc_loop_run_once(l, 20), 0);
	uint64_t ms = (ttrpc_now_ns() - t0) / 1000000;
	assert_true(ms >= 15 && ms < 1000);
	ttrpc_loop_free(l);
}

struct pipe_src {
	struct ttrpc_source s;
	struct ttrpc_loop *l;
	int calls;
	struct pipe_src *victim; /* deleted and freed by our callback */
	bool del_self;
};

static void pipe_cb(struct ttrpc_source *s, uint32_t events)
{
	struct pipe_src *p = ttrpc_container_of(s, struct pipe_src, s);
	p->calls++;
	if (p->victim) {
		ttrpc_loop_del(p->l, &p->victim->s);
		close(p->victim->s.fd);
		free(p->victim);
		p->victim = NULL;
	}
	if (p->del_self)
		ttrpc_loop_del(p->l, s);
}

static void
test_loop_del_from_a_callback_drops_the_pending_event_of_the_deleted_source(void **state)
{
	struct ttrpc_loop *l = new_loop();
	int a[2], b[2];
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(pipe2(b, O_CLOEXEC), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	struct pipe_src *pa = calloc(1, sizeof(*pa)), *pb = calloc(1, sizeof(*pb));
	pa->s = (struct ttrpc_source){.fd = a[0], .cb = pipe_cb};
	pb->s = (struct ttrpc_source){.fd = b[0], .cb = pipe_cb};
	pa->l = pb->l = l;
	/* Whichever runs first deletes and frees the other, whose event is in the same batch. */
	pa->victim = pb;
	pb->victim = pa;
	assert_int_equal(ttrpc_loop_add(l, &pa->s, EPOLLIN), 0);
	assert_int_equal(ttrpc_loop_add(l, &pb->s, EPOLLIN), 0);
	assert_int_equal(ttrpc_loop_run_once(l, 100), 1);
	struct pipe_src *survivor = pa->victim ? pb : pa;
	assert_int_equal(survivor->calls, 1);
	ttrpc_loop_del(l, &survivor->s);
	close(survivor->s.fd);
	free(survivor);
	close(a[1]);
	close(b[1]);
	ttrpc_loop_free(l);
}

static void test_loop_del_of_itself_from_its_callback_stops_its_events(void **state)
{
	struct ttrpc_loop *l = new_loop();
	int a[2];
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	struct pipe_src p = {.s = {.fd = a[0], .cb = pipe_cb}, .l = l, .del_self = true};
	assert_int_equal(ttrpc_loop_add(l, &p.s, EPOLLIN), 0);
	ttrpc_loop_run_once(l, 100);
	ttrpc_loop_run_once(l, 10);
	assert_int_equal(p.calls, 1);
	close(a[0]);
	close(a[1]);
	ttrpc_loop_free(l);
}

static void test_loop_mod_changes_the_events_asked_for(void **state)
{
	struct ttrpc_loop *l = new_loop();
	int a[2];
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	struct pipe_src p = {.s = {.fd = a[0], .cb = pipe_cb}, .l = l};
	assert_int_equal(ttrpc_loop_add(l, &p.s, 0), 0);
	ttrpc_loop_run_once(l, 10);
	assert_int_equal(p.calls, 0);
	assert_int_equal(ttrpc_loop_mod(l, &p.s, EPOLLIN), 0);
	ttrpc_loop_run_once(l, 10);
	assert_int_equal(p.calls, 1);
	ttrpc_loop_del(l, &p.s);
	close(a[0]);
	close(a[1]);
	ttrpc_loop_free(l);
}

struct stopper {
	struct ttrpc_timer t;
	struct ttrpc_loop *l;
};

static void stop_cb(struct ttrpc_timer *t)
{
	ttrpc_loop_stop(ttrpc_container_of(t, struct stopper, t)->l);
}

static void test_loop_run_returns_after_stop(void **state)
{
	struct ttrpc_loop *l = new_loop();
	struct stopper s = {.t.cb = stop_cb, .l = l};
	ttrpc_timer_arm(l, &s.t, 10);
	assert_int_equal(ttrpc_loop_run(l), 0);
	/* and can run again */
	ttrpc_timer_arm(l, &s.t, 1);
	assert_int_equal(ttrpc_loop_run(l), 0);
	ttrpc_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timers_fire_in_deadline_order),
	    cmocka_unit_test(test_timers_due_together_fire_in_arming_order),
	    cmocka_unit_test(test_rearming_a_timer_moves_it),
	    cmocka_unit_test(test_cancelled_timer_does_not_fire),
	    cmocka_unit_test(test_timer_cancelled_by_an_earlier_due_timer_does_not_fire),
	    cmocka_unit_test(test_timer_rearmed_from_its_callback_fires_on_the_next_round),
	    cmocka_unit_test(test_run_once_waits_no_longer_than_asked),
	    cmocka_unit_test(
		test_loop_del_from_a_callback_drops_the_pending_event_of_the_deleted_source),
	    cmocka_unit_test(test_loop_del_of_itself_from_its_callback_stops_its_events),
	    cmocka_unit_test(test_loop_mod_changes_the_events_asked_for),
	    cmocka_unit_test(test_loop_run_returns_after_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
