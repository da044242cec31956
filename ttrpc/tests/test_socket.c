/* Server and client together over a real unix socket in a temporary directory. */
#include "helpers.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#define SVC "test.v1.Svc"

struct fx {
	char dir[64];
	char path[128];
	char addr[160];
	int lfd;
};

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/ttrpc-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/s.sock", f->dir);
	snprintf(f->addr, sizeof(f->addr), "unix://%s", f->path);
	f->lfd = listen_unix(f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->lfd >= 0)
		close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

struct srv {
	struct ttrpc_call *wait;
	int n;
};

static void h_echo(struct ttrpc_call *c, void *ud)
{
	size_t n;
	const uint8_t *p = ttrpc_call_payload(c, &n);
	ttrpc_call_reply(c, p, n);
}

static void h_wait(struct ttrpc_call *c, void *ud)
{
	((struct srv *)ud)->wait = c;
}

static void h_release(struct ttrpc_call *c, void *ud)
{
	struct srv *s = ud;
	if (s->wait)
		ttrpc_call_reply(s->wait, (const uint8_t *)"released", 8);
	s->wait = NULL;
	ttrpc_call_reply_error(c, TTRPC_NOT_FOUND, "nothing: not found");
}

static struct ttrpc_server *new_server(struct ttrpc_loop *l, int lfd, struct srv *s)
{
	struct ttrpc_server *srv;
	assert_int_equal(ttrpc_server_new(l, lfd, &srv), 0);
	ttrpc_server_register(srv, SVC, "Echo", h_echo, s);
	ttrpc_server_register(srv, SVC, "Wait", h_wait, s);
	ttrpc_server_register(srv, SVC, "Release", h_release, s);
	return srv;
}

struct got {
	int calls, code;
	char msg[64], payload[64];
};

static void cb(void *ud, int code, const char *msg, const uint8_t *payload, size_t len)
{
	struct got *g = ud;
	g->calls++;
	g->code = code;
	snprintf(g->msg, sizeof(g->msg), "%s", msg);
	snprintf(g->payload, sizeof(g->payload), "%.*s", (int)len, (const char *)payload);
}

static void test_client_and_server_talk_over_a_unix_socket(void **state)
{
	struct fx *f = *state;
	struct ttrpc_loop *l;
	struct srv s = {0};
	assert_int_equal(ttrpc_loop_new(&l), 0);
	struct ttrpc_server *srv = new_server(l, f->lfd, &s); /* peer check on: we are the peer */
	f->lfd = -1;
	struct ttrpc_client *c;
	assert_int_equal(ttrpc_client_dial(l, f->addr, &c), 0);
	struct got w = {0}, e = {0}, r = {0};
	assert_int_equal(ttrpc_client_call(c, SVC, "Wait", NULL, 0, 0, NULL, 0, cb, &w), 0);
	assert_int_equal(
	    ttrpc_client_call(c, SVC, "Echo", (const uint8_t *)"hi", 2, 0, NULL, 0, cb, &e), 0);
	RUN_UNTIL(l, e.calls == 1);
	assert_string_equal(e.payload, "hi");
	assert_int_equal(w.calls, 0);
	assert_int_equal(ttrpc_server_n_conns(srv), 1);
	assert_int_equal(ttrpc_client_call(c, SVC, "Release", NULL, 0, 0, NULL, 0, cb, &r), 0);
	RUN_UNTIL(l, w.calls == 1 && r.calls == 1);
	assert_string_equal(w.payload, "released");
	assert_int_equal(r.code, TTRPC_NOT_FOUND);
	assert_string_equal(r.msg, "nothing: not found");
	ttrpc_client_free(c);
	RUN_UNTIL(l, ttrpc_server_n_conns(srv) == 0);
	ttrpc_server_free(srv);
	ttrpc_loop_free(l);
}

static void test_client_dial_accepts_a_bare_path(void **state)
{
	struct fx *f = *state;
	struct ttrpc_loop *l;
	struct srv s = {0};
	assert_int_equal(ttrpc_loop_new(&l), 0);
	struct ttrpc_server *srv = new_server(l, f->lfd, &s);
	f->lfd = -1;
	struct ttrpc_client *c;
	assert_int_equal(ttrpc_client_dial(l, f->path, &c), 0);
	struct got e = {0};
	assert_int_equal(
	    ttrpc_client_call(c, SVC, "Echo", (const uint8_t *)"p", 1, 0, NULL, 0, cb, &e), 0);
	RUN_UNTIL(l, e.calls == 1);
	assert_string_equal(e.payload, "p");
	ttrpc_client_free(c);
	ttrpc_server_free(srv);
	ttrpc_loop_free(l);
}

static void test_client_dial_fails_for_a_missing_socket(void **state)
{
	struct fx *f = *state;
	struct ttrpc_loop *l;
	struct ttrpc_client *c;
	char addr[200];
	assert_int_equal(ttrpc_loop_new(&l), 0);
	snprintf(addr, sizeof(addr), "unix://%s/nope.sock", f->dir);
	assert_int_equal(ttrpc_client_dial(l, addr, &c), -ENOENT);
	assert_int_equal(ttrpc_client_dial(l, "", &c), -EINVAL);
	ttrpc_loop_free(l);
}

/* The server in a child process, so that the blocking helper can be used in this one. */
static pid_t spawn_server(struct fx *f)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ttrpc_loop *l;
		struct srv s = {0};
		if (ttrpc_loop_new(&l) < 0)
			_exit(1);
		new_server(l, f->lfd, &s);
		ttrpc_loop_run(l);
		_exit(0);
	}
	close(f->lfd);
	f->lfd = -1;
	return pid;
}

static void stop_server(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_call_sync_returns_the_response(void **state)
{
	struct fx *f = *state;
	pid_t pid = spawn_server(f);
	int code = -1;
	char *msg = NULL;
	uint8_t *resp = NULL;
	size_t len = 0;
	assert_int_equal(ttrpc_call_sync(f->addr, SVC, "Echo", (const uint8_t *)"sync", 4, 2000,
					 &code, &msg, &resp, &len),
			 0);
	assert_int_equal(code, 0);
	assert_string_equal(msg, "");
	assert_int_equal(len, 4);
	assert_memory_equal(resp, "sync", 4);
	free(msg);
	free(resp);
	assert_int_equal(
	    ttrpc_call_sync(f->addr, SVC, "Nope", NULL, 0, 2000, &code, &msg, &resp, &len), 0);
	assert_int_equal(code, TTRPC_UNIMPLEMENTED);
	assert_string_equal(msg, "method Nope");
	assert_null(resp);
	free(msg);
	stop_server(pid);
}

static void test_call_sync_gives_deadline_exceeded_when_no_answer_comes(void **state)
{
	struct fx *f = *state;
	pid_t pid = spawn_server(f);
	int code = -1;
	char *msg = NULL;
	uint8_t *resp = NULL;
	size_t len = 0;
	uint64_t t0 = ttrpc_now_ns();
	assert_int_equal(
	    ttrpc_call_sync(f->addr, SVC, "Wait", NULL, 0, 100, &code, &msg, &resp, &len), 0);
	assert_int_equal(code, TTRPC_DEADLINE_EXCEEDED);
	assert_true((ttrpc_now_ns() - t0) / 1000000 < 2000);
	free(msg);
	free(resp);
	stop_server(pid);
}

static void test_call_sync_fails_when_nobody_listens(void **state)
{
	struct fx *f = *state;
	int code;
	char *msg;
	uint8_t *resp;
	size_t len;
	close(f->lfd);
	f->lfd = -1;
	assert_int_equal(
	    ttrpc_call_sync(f->addr, SVC, "Echo", NULL, 0, 100, &code, &msg, &resp, &len),
	    -ECONNREFUSED);
}

/* Child: connect as another user, send a request; exit 0 if the server closes without answering. */
static void other_user_child(const char *path)
{
	if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		_exit(10);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		_exit(11);
	size_t n;
	uint8_t *req = pack_request(SVC, "Echo", "x", 1, &n);
	struct ttrpc_hdr h = {.length = (uint32_t)n, .stream_id = 1, .type = 1};
	uint8_t hdr[TTRPC_HDR_LEN];
	ttrpc_hdr_encode(hdr, &h);
	if (send(fd, hdr, sizeof(hdr), MSG_NOSIGNAL) < 0 || send(fd, req, n, MSG_NOSIGNAL) < 0) {
		/* the server may have closed already: that is the expected outcome */
	}
	uint8_t b[64];
	ssize_t r = read(fd, b, sizeof(b));
	_exit(r <= 0 ? 0 : 12);
}

static void test_server_closes_connections_from_another_user(void **state)
{
	struct fx *f = *state;
	if (geteuid() != 0)
		skip();
	chmod(f->dir, 0755);
	chmod(f->path, 0777);
	struct ttrpc_loop *l;
	struct srv s = {0};
	assert_int_equal(ttrpc_loop_new(&l), 0);
	struct ttrpc_server *srv = new_server(l, f->lfd, &s);
	f->lfd = -1;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		other_user_child(f->path);
	int st = -1;
	uint64_t end = ttrpc_now_ns() + (uint64_t)WAIT_MS * 1000000;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		assert_true(ttrpc_now_ns() < end);
		ttrpc_loop_run_once(l, 10);
	}
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(ttrpc_server_n_conns(srv), 0);
	ttrpc_server_free(srv);
	ttrpc_loop_free(l);
}

static void test_server_makes_an_inherited_blocking_listener_non_blocking(void **state)
{
	struct fx *f = *state;
	struct ttrpc_loop *l;
	struct srv s = {0};
	int fl = fcntl(f->lfd, F_GETFL);
	assert_int_equal(fcntl(f->lfd, F_SETFL, fl & ~O_NONBLOCK), 0);
	assert_int_equal(fcntl(f->lfd, F_SETFD, 0), 0);
	assert_int_equal(ttrpc_loop_new(&l), 0);
	int lfd = f->lfd;
	struct ttrpc_server *srv = new_server(l, lfd, &s);
	f->lfd = -1;
	assert_true(fcntl(lfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
	/* two connections: the accept loop must stop at EAGAIN instead of blocking */
	struct ttrpc_client *a, *b;
	assert_int_equal(ttrpc_client_dial(l, f->path, &a), 0);
	assert_int_equal(ttrpc_client_dial(l, f->path, &b), 0);
	RUN_UNTIL(l, ttrpc_server_n_conns(srv) == 2);
	ttrpc_client_free(a);
	ttrpc_client_free(b);
	ttrpc_server_free(srv);
	ttrpc_loop_free(l);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_client_and_server_talk_over_a_unix_socket),
	    T(test_client_dial_accepts_a_bare_path),
	    T(test_client_dial_fails_for_a_missing_socket),
	    T(test_call_sync_returns_the_response),
	    T(test_call_sync_gives_deadline_exceeded_when_no_answer_comes),
	    T(test_call_sync_fails_when_nobody_listens),
	    T(test_server_closes_connections_from_another_user),
	    T(test_server_makes_an_inherited_blocking_listener_non_blocking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
