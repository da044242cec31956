/* The D-Bus client against a real private dbus-daemon (started per test group, killed after):
 * Hello, ListNames, an error reply, and every signature the systemd driver sends, echoed through
 * the daemon (which validates each message and drops a connection that sends a malformed one)
 * to a second connection of ours. Plus the connect/timeout failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/dbus.h"
#include "runtime/util.h"

static char dir[] = "/tmp/wren-dbus-test.XXXXXX";
static char sock[128];
static pid_t daemon_pid;

static int start_daemon(void **state)
{
	char addr[160];

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/bus", dir);
	snprintf(addr, sizeof(addr), "--address=unix:path=%s", sock);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		execlp("dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile", addr,
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		struct stat st;

		if (stat(sock, &st) == 0)
			return 0;
		usleep(10000);
	}
	return -1;
}

static int stop_daemon(void **state)
{
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
	}
	unlink(sock);
	rmdir(dir);
	return 0;
}

static struct rt_dbus *connect_bus(void)
{
	struct wren_err *err = NULL;
	struct rt_dbus *bus = NULL;

	if (rt_dbus_open(sock, true, 2000, &bus, &err) < 0)
		fail_msg("connect: %s", err->msg);
	return bus;
}

static struct rt_dbus_msg *bus_call(const char *member, const char *sig)
{
	return rt_dbus_call_new("org.freedesktop.DBus", "/org/freedesktop/DBus",
				"org.freedesktop.DBus", member, sig);
}

static void test_hello_gives_a_unique_name(void **state)
{
	struct rt_dbus *bus = connect_bus();

	assert_non_null(rt_dbus_unique_name(bus));
	assert_int_equal(rt_dbus_unique_name(bus)[0], ':');
	rt_dbus_close(bus);
}

static void test_list_names_has_the_bus_and_us(void **state)
{
	struct rt_dbus *bus = connect_bus();
	struct wren_err *err = NULL;
	struct rt_dbus_reply *r = NULL;
	struct rt_dbus_iter it, a;
	bool saw_bus = false, saw_us = false;

	assert_int_equal(rt_dbus_call(bus, bus_call("ListNames", ""), &r, &err), 0);
	assert_string_equal(r->sig, "as");
	rt_dbus_iter_init(&it, r);
	assert_int_equal(rt_dbus_enter_array(&it, &a), 0);
	while (a.pos < a.len) {
		const char *s;

		a.sig = "s";
		assert_int_equal(rt_dbus_get_str(&a, &s), 0);
		saw_bus |= !strcmp(s, "org.freedesktop.DBus");
		saw_us |= !strcmp(s, rt_dbus_unique_name(bus));
	}
	assert_true(saw_bus);
	assert_true(saw_us);
	rt_dbus_reply_free(r);
	rt_dbus_close(bus);
}

static void test_get_name_owner_of_an_unknown_name_is_not_found(void **state)
{
	struct rt_dbus *bus = connect_bus();
	struct wren_err *err = NULL;
	struct rt_dbus_msg *m = bus_call("GetNameOwner", "s");

	rt_dbus_put_str(m, "org.wren.Nobody");
	assert_int_equal(rt_dbus_call(bus, m, NULL, &err), -1);
	assert_int_equal(err->code, WREN_E_NOT_FOUND);
	assert_non_null(strstr(err->msg, "org.freedesktop.DBus.Error.NameHasNoOwner"));
	assert_non_null(strstr(err->msg, "GetNameOwner"));
	wren_err_free(err);
	/* the connection is still good after an error */
	m = bus_call("GetNameOwner", "s");
	rt_dbus_put_str(m, "org.freedesktop.DBus");
	assert_int_equal(rt_dbus_call(bus, m, NULL, &err), 0);
	rt_dbus_close(bus);
}

/* Every property kind StartTransientUnit gets, then an aux array with one entry. */
#define SIG "ssa(sv)a(sa(sv))"
static const uint32_t pids[] = {1, 4242};
static const uint64_t nums[] = {7, UINT64_MAX};
static const char *const strs[] = {"a", "", "ccc"};
static const uint8_t bytes[] = {0, 1, 255};

static void build(struct rt_dbus_msg *m)
{
	size_t a, aux, inner;

	rt_dbus_put_str(m, "wren-x.scope");
	rt_dbus_put_str(m, "replace");
	a = rt_dbus_open_array(m, 8);
	rt_dbus_prop_str(m, "Slice", "system.slice");
	rt_dbus_prop_bool(m, "Delegate", true);
	rt_dbus_prop_u64(m, "MemoryMax", 64u << 20);
	rt_dbus_prop_au32(m, "PIDs", pids, 2);
	rt_dbus_prop_au64(m, "Nums", nums, 2);
	rt_dbus_prop_astr(m, "Strs", strs, 3);
	rt_dbus_prop_bytes(m, "Bytes", bytes, 3);
	rt_dbus_prop_au32(m, "Empty", NULL, 0);
	rt_dbus_close_array(m, a);
	aux = rt_dbus_open_array(m, 8);
	rt_dbus_open_struct(m);
	rt_dbus_put_str(m, "aux.service");
	inner = rt_dbus_open_array(m, 8);
	rt_dbus_prop_bool(m, "Off", false);
	rt_dbus_close_array(m, inner);
	rt_dbus_close_array(m, aux);
}

/* Read one (sv) and check its name and variant signature; *v is the value. */
static void prop(struct rt_dbus_iter *a, const char *name, const char *sig, struct rt_dbus_iter *v)
{
	const char *s;

	a->sig = "(sv)";
	assert_int_equal(rt_dbus_enter_struct(a), 0);
	assert_int_equal(rt_dbus_get_str(a, &s), 0);
	assert_string_equal(s, name);
	assert_int_equal(rt_dbus_enter_variant(a, v), 0);
	assert_string_equal(v->sig, sig);
	assert_int_equal(rt_dbus_leave_struct(a), 0);
}

static void check(const struct rt_dbus_reply *r)
{
	struct rt_dbus_iter it, a, v, e, aux, inner;
	const char *s;
	bool b;
	uint64_t t;
	uint32_t u;
	uint8_t y;

	assert_string_equal(r->sig, SIG);
	rt_dbus_iter_init(&it, r);
	assert_int_equal(rt_dbus_get_str(&it, &s), 0);
	assert_string_equal(s, "wren-x.scope");
	assert_int_equal(rt_dbus_get_str(&it, &s), 0);
	assert_string_equal(s, "replace");
	assert_int_equal(rt_dbus_enter_array(&it, &a), 0);
	prop(&a, "Slice", "s", &v);
	assert_int_equal(rt_dbus_get_str(&v, &s), 0);
	assert_string_equal(s, "system.slice");
	prop(&a, "Delegate", "b", &v);
	assert_int_equal(rt_dbus_get_bool(&v, &b), 0);
	assert_true(b);
	prop(&a, "MemoryMax", "t", &v);
	assert_int_equal(rt_dbus_get_u64(&v, &t), 0);
	assert_int_equal(t, 64u << 20);
	prop(&a, "PIDs", "au", &v);
	assert_int_equal(rt_dbus_enter_array(&v, &e), 0);
	for (int i = 0; i < 2; i++) {
		e.sig = "u";
		assert_int_equal(rt_dbus_get_u32(&e, &u), 0);
		assert_int_equal(u, pids[i]);
	}
	assert_int_equal(e.pos, e.len);
	prop(&a, "Nums", "at", &v);
	assert_int_equal(rt_dbus_enter_array(&v, &e), 0);
	for (int i = 0; i < 2; i++) {
		e.sig = "t";
		assert_int_equal(rt_dbus_get_u64(&e, &t), 0);
		assert_true(t == nums[i]);
	}
	prop(&a, "Strs", "as", &v);
	assert_int_equal(rt_dbus_enter_array(&v, &e), 0);
	for (int i = 0; i < 3; i++) {
		e.sig = "s";
		assert_int_equal(rt_dbus_get_str(&e, &s), 0);
		assert_string_equal(s, strs[i]);
	}
	prop(&a, "Bytes", "ay", &v);
	assert_int_equal(rt_dbus_enter_array(&v, &e), 0);
	for (int i = 0; i < 3; i++) {
		e.sig = "y";
		assert_int_equal(rt_dbus_get_byte(&e, &y), 0);
		assert_int_equal(y, bytes[i]);
	}
	prop(&a, "Empty", "au", &v);
	assert_int_equal(rt_dbus_enter_array(&v, &e), 0);
	assert_int_equal(e.pos, e.len);
	assert_int_equal(a.pos, a.len);
	assert_int_equal(rt_dbus_enter_array(&it, &aux), 0);
	assert_int_equal(rt_dbus_enter_struct(&aux), 0);
	assert_int_equal(rt_dbus_get_str(&aux, &s), 0);
	assert_string_equal(s, "aux.service");
	assert_int_equal(rt_dbus_enter_array(&aux, &inner), 0);
	prop(&inner, "Off", "b", &v);
	assert_int_equal(rt_dbus_get_bool(&v, &b), 0);
	assert_false(b);
	assert_int_equal(rt_dbus_leave_struct(&aux), 0);
	assert_int_equal(aux.pos, aux.len);
	assert_string_equal(it.sig, "");
	assert_int_equal(it.pos, it.len);
}

static void test_every_signature_the_driver_sends_round_trips_through_the_daemon(void **state)
{
	struct rt_dbus *a = connect_bus(), *b = connect_bus();
	struct wren_err *err = NULL;
	struct rt_dbus_msg *m = rt_dbus_call_new(rt_dbus_unique_name(a), "/org/wren/Test",
						 "org.wren.Test", "Echo", SIG);
	struct rt_dbus_reply *got = NULL, *ret = NULL;
	struct rt_dbus_iter it;
	uint32_t serial;
	const char *s;

	build(m);
	assert_int_equal(rt_dbus_send(b, m, &serial, &err), 0);
	do { /* a's first messages may be the bus's NameAcquired signals */
		rt_dbus_reply_free(got);
		if (rt_dbus_read(a, &got, &err) < 0)
			fail_msg("read: %s", err->msg);
	} while (got->type != RT_DBUS_METHOD_CALL);
	assert_string_equal(got->member, "Echo");
	assert_string_equal(got->sender, rt_dbus_unique_name(b));
	check(got);
	/* answer with an object path, as StartTransientUnit does */
	m = rt_dbus_call_new(NULL, NULL, NULL, NULL, "o");
	rt_dbus_put_str(m, "/org/freedesktop/systemd1/job/42");
	assert_int_equal(rt_dbus_send_return(a, got, m, &err), 0);
	do {
		rt_dbus_reply_free(ret);
		assert_int_equal(rt_dbus_read(b, &ret, &err), 0);
	} while (ret->type != RT_DBUS_METHOD_RETURN || ret->reply_serial != serial);
	rt_dbus_iter_init(&it, ret);
	assert_int_equal(rt_dbus_get_str(&it, &s), 0);
	assert_string_equal(s, "/org/freedesktop/systemd1/job/42");
	rt_dbus_reply_free(got);
	rt_dbus_reply_free(ret);
	/* both connections are still accepted by the daemon (it drops a peer that sent garbage) */
	assert_int_equal(rt_dbus_call(a, bus_call("GetId", ""), NULL, &err), 0);
	assert_int_equal(rt_dbus_call(b, bus_call("GetId", ""), NULL, &err), 0);
	rt_dbus_close(a);
	rt_dbus_close(b);
}

static void test_reading_checks_the_signature(void **state)
{
	struct rt_dbus *bus = connect_bus();
	struct wren_err *err = NULL;
	struct rt_dbus_reply *r = NULL;
	struct rt_dbus_iter it;
	uint32_t u;

	assert_int_equal(rt_dbus_call(bus, bus_call("GetId", ""), &r, &err), 0);
	rt_dbus_iter_init(&it, r);
	assert_int_equal(rt_dbus_get_u32(&it, &u), -1); /* it is an "s" */
	rt_dbus_reply_free(r);
	rt_dbus_close(bus);
}

static void test_a_missing_socket_says_connect_and_the_path(void **state)
{
	struct wren_err *err = NULL;
	struct rt_dbus *bus = NULL;

	assert_int_equal(rt_dbus_open("/nonexistent/wren/bus", true, 500, &bus, &err), -1);
	assert_null(bus);
	assert_non_null(strstr(err->msg, "connect /nonexistent/wren/bus"));
	assert_int_equal(err->errnum, ENOENT);
	wren_err_free(err);
}

static void test_a_silent_peer_times_out(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct wren_err *err = NULL;
	struct rt_dbus *bus = NULL;
	struct timespec t0, t1;
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/silent", dir);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(rt_dbus_open(sa.sun_path, true, 200, &bus, &err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(err->errnum, ETIMEDOUT);
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	wren_err_free(err);
	close(l);
	unlink(sa.sun_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hello_gives_a_unique_name),
	    cmocka_unit_test(test_list_names_has_the_bus_and_us),
	    cmocka_unit_test(test_get_name_owner_of_an_unknown_name_is_not_found),
	    cmocka_unit_test(test_every_signature_the_driver_sends_round_trips_through_the_daemon),
	    cmocka_unit_test(test_reading_checks_the_signature),
	    cmocka_unit_test(test_a_missing_socket_says_connect_and_the_path),
	    cmocka_unit_test(test_a_silent_peer_times_out),
	};

	return cmocka_run_group_tests(tests, start_daemon, stop_daemon);
}
