/* The sync socket's messages, and the terminal's master passed with SCM_RIGHTS. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "runtime/sync.h"

static int pair[2];

static int open_pair(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair);
}

static int close_pair(void **state)
{
	(void)state;
	close(pair[0]);
	close(pair[1]);
	return 0;
}

/* the number of open fds of this process */
static int count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void test_text_message_arrives_with_its_arg_and_no_fd(void **state)
{
	struct rt_sync_msg m;

	(void)state;
	assert_int_equal(rt_sync_send(pair[1], RT_MSG_LOG, 3, "hello"), 0);
	assert_int_equal(rt_sync_recv(pair[0], &m), 1);
	assert_int_equal(m.type, RT_MSG_LOG);
	assert_int_equal(m.arg, 3);
	assert_string_equal(m.text, "hello");
	assert_int_equal(m.fd, -1);
}

static void test_console_fd_arrives_as_the_same_file_with_cloexec(void **state)
{
	struct rt_sync_msg m;
	struct stat a, b;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(rt_sync_send_fd(pair[1], RT_MSG_CONSOLE, 0, fd), 0);
	assert_int_equal(rt_sync_recv(pair[0], &m), 1);
	assert_int_equal(m.type, RT_MSG_CONSOLE);
	assert_true(m.fd >= 0 && m.fd != fd);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(fstat(m.fd, &b), 0);
	assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	assert_true(fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
	close(m.fd);
	close(fd);
}

static void test_fd_on_another_type_is_closed_and_refused(void **state)
{
	struct rt_sync_msg m;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int before;

	(void)state;
	assert_int_equal(rt_sync_send_fd(pair[1], RT_MSG_READY, 0, fd), 0);
	close(fd);
	before = count_fds();
	assert_int_equal(rt_sync_recv(pair[0], &m), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(m.fd, -1);
	assert_int_equal(count_fds(), before);
}

static void test_console_without_fd_is_refused(void **state)
{
	struct rt_sync_msg m;

	(void)state;
	assert_int_equal(rt_sync_send(pair[1], RT_MSG_CONSOLE, 0, NULL), 0);
	assert_int_equal(rt_sync_recv(pair[0], &m), -1);
	assert_int_equal(errno, EBADMSG);
}

static void test_expect_closes_an_unexpected_console_fd(void **state)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int before;

	(void)state;
	assert_int_equal(rt_sync_send_fd(pair[1], RT_MSG_CONSOLE, 0, fd), 0);
	close(fd);
	before = count_fds();
	assert_int_equal(rt_sync_expect(pair[0], RT_MSG_GO, NULL), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(count_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_text_message_arrives_with_its_arg_and_no_fd,
					    open_pair, close_pair),
	    cmocka_unit_test_setup_teardown(test_console_fd_arrives_as_the_same_file_with_cloexec,
					    open_pair, close_pair),
	    cmocka_unit_test_setup_teardown(test_fd_on_another_type_is_closed_and_refused,
					    open_pair, close_pair),
	    cmocka_unit_test_setup_teardown(test_console_without_fd_is_refused, open_pair,
					    close_pair),
	    cmocka_unit_test_setup_teardown(test_expect_closes_an_unexpected_console_fd, open_pair,
					    close_pair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
