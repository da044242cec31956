/* The runtime on real containers: a busybox rootfs in a temp dir, a config.json like containerd's
 * default spec, and a small poll loop standing in for the daemon's epoll. Needs root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/exec_child.h"
#include "runtime/process.h"
#include "runtime/runtime.h"
#include "runtime/util.h"
#include "runtime/tests/test_bundle.h"

/* ---- driving a container ----------------------------------------------------------------------
 */

struct run {
	struct bundle *b;
	struct rt_container *c;
	char *cg_path;
	int out[2]; /* the init's stdout/stderr pipe */
	char *output;
};

static int drive(struct rt_container *c, int want, struct wren_err **err)
{
	for (;;) {
		struct pollfd p = {.fd = rt_container_sync_fd(c), .events = POLLIN};
		int r;

		if (p.fd < 0)
			return wren_err_code(err, WREN_E_UNKNOWN,
					     "sync fd closed while waiting for %d", want);
		if (poll(&p, 1, 20000) <= 0)
			return wren_err_code(err, WREN_E_UNKNOWN, "timed out waiting for %d", want);
		r = rt_container_on_sync(c, err);
		if (r < 0 || r == want)
			return r;
	}
}

static int wait_status(int pidfd)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0)
		if (errno != EINTR)
			return -1;
	return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

static char *read_all_fd(int fd)
{
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap + 1);

	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == cap)
			buf = xrealloc(buf, (cap *= 2) + 1);
	}
	buf[n] = 0;
	return buf;
}

/* Create (up to CREATED). On failure returns -1 and the error; the child is reaped and the
 * container destroyed and freed. */
static int create(struct bundle *b, const char *id, struct run *run, struct wren_err **err)
{
	struct rt_create_opts o = {.id = id,
				   .bundle = b->dir,
				   .spec = b->spec,
				   .no_pivot_root = b->no_pivot,
				   .rootfs_tree = b->rootfs_tree};

	memset(run, 0, sizeof(*run));
	run->b = b;
	assert_int_equal(pipe2(run->out, O_CLOEXEC), 0);
	o.stdio[0] = -1;
	o.stdio[1] = run->out[1];
	o.stdio[2] = run->out[1];
	if (rt_container_create(&o, &run->c, err) < 0)
		goto fail;
	run->cg_path = xstrdup(rt_container_cgroup(run->c));
	b->live = run->c;
	if (drive(run->c, RT_SYNC_CREATED, err) < 0) {
		wait_status(rt_container_pidfd(run->c));
		rt_container_destroy(run->c, NULL);
		rt_container_free(run->c);
		run->c = NULL;
		b->live = NULL;
		goto fail;
	}
	return 0;
fail:
	if (run->cg_path)
		assert_false(bundle_cgroup_exists(run->cg_path));
	free(run->cg_path);
	run->cg_path = NULL;
	close(run->out[0]);
	close(run->out[1]);
	return -1;
}

/* Start, wait for the exit, collect output; returns the exit status. */
static int start_and_wait(struct run *run)
{
	struct wren_err *err = NULL;
	int st;

	assert_int_equal(rt_container_start(run->c, &err), 0);
	if (drive(run->c, RT_SYNC_STARTED, &err) < 0)
		fail_msg("start: %s", err->msg);
	close(run->out[1]);
	run->out[1] = -1;
	run->output = read_all_fd(run->out[0]);
	st = wait_status(rt_container_pidfd(run->c));
	return st;
}

static void finish(struct run *run)
{
	struct wren_err *err = NULL;

	if (run->c) {
		if (rt_container_destroy(run->c, &err) < 0)
			fail_msg("destroy: %s", err->msg);
		rt_container_free(run->c);
		run->b->live = NULL;
	}
	if (run->out[0] >= 0)
		close(run->out[0]);
	if (run->out[1] >= 0)
		close(run->out[1]);
	if (run->cg_path)
		assert_false(bundle_cgroup_exists(run->cg_path));
	free(run->cg_path);
	free(run->output);
}

/* A running container whose init sleeps, for tests of what happens beside it (execs). */
static void start_sleeper(struct bundle *b, const char *id, struct run *run)
{
	struct wren_err *err = NULL;

	bundle_config(b, "[\"sleep\",\"100\"]", NULL);
	if (create(b, id, run, &err) < 0 || rt_container_start(run->c, &err) < 0 ||
	    drive(run->c, RT_SYNC_STARTED, &err) != RT_SYNC_STARTED)
		fail_msg("start the sleeper: %s", err ? err->msg : "no error");
}

/* Kill it (137 from SIGKILL) and clean up. */
static void stop_sleeper(struct run *run)
{
	struct wren_err *err = NULL;

	assert_int_equal(rt_container_kill(run->c, SIGKILL, false, &err), 0);
	assert_int_equal(wait_status(rt_container_pidfd(run->c)), 137);
	finish(run);
}

/* Run args to completion; returns the status, output in run->output. */
static int run_to_end(struct bundle *b, const char *id, struct run *run)
{
	struct wren_err *err = NULL;

	if (create(b, id, run, &err) < 0)
		fail_msg("create: %s", err->msg);
	return start_and_wait(run);
}

/* ---- fixtures -------------------------------------------------------------------------------- */

static int setup(void **state)
{
	*state = bundle_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	struct bundle *b = *state;

	if (b->live) { /* a failed test: leave nothing behind for the next */
		rt_container_kill(b->live, SIGKILL, false, NULL);
		wait_status(rt_container_pidfd(b->live));
		rt_container_destroy(b->live, NULL);
		rt_container_free(b->live);
	}
	assert_false(bundle_has_mounts(b));
	bundle_free(b);
	return 0;
}

static char *test_id(const char *name)
{
	return xasprintf("%s-%d", name, (int)getpid());
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_echo_output_reaches_stdout(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("echo");

	bundle_config(b, "[\"echo\",\"hello\"]", NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "hello\n");
	finish(&run);
}

static void test_exit_code_is_returned(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("exit3");

	bundle_config(b, "[\"sh\",\"-c\",\"exit 3\"]", NULL);
	assert_int_equal(run_to_end(b, id, &run), 3);
	finish(&run);
}

static void test_hostname_is_set(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("hostname");

	bundle_config(b, "[\"hostname\"]", NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "wren-test\n");
	finish(&run);
}

/* This test program ignores SIGPIPE (main), as a daemon may: the container must not inherit it. */
static void test_signals_the_runtime_ignores_are_default_in_the_container(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("sigign");

	bundle_config(b, "[\"grep\",\"SigIgn\",\"/proc/self/status\"]", NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "SigIgn:\t0000000000000000\n");
	finish(&run);
}

static void test_init_is_pid_1(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("pid1");

	bundle_config(b, "[\"sh\",\"-c\",\"echo $$\"]", NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "1\n");
	finish(&run);
}

static void test_uid_and_gid_come_from_the_spec(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("user");

	bundle_config(b, "[\"sh\",\"-c\",\"echo $(id -u):$(id -g):$(id -G)\"]",
		      "\"user\":{\"uid\":1000,\"gid\":1000,\"additionalGids\":[5]}");
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "1000:1000:1000 5\n");
	finish(&run);
}

static void test_missing_binary_fails_at_create_with_runc_wording(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("nope");
	_cleanup_free_ char *cg = NULL;

	bundle_config(b, "[\"nope\"]", NULL);
	assert_int_equal(create(b, id, &run, &err), -1);
	assert_non_null(err);
	assert_string_equal(err->msg, "exec: \"nope\": executable file not found in $PATH");
	wren_err_free(err);
	cg = xasprintf("/wren/%s", id);
	assert_false(bundle_cgroup_exists(cg));
}

static void test_bad_mount_type_fails_naming_the_mount(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("badmount");
	_cleanup_free_ char *cg = NULL;

	bundle_config_mounts(b, "[\"true\"]", NULL,
			     "{\"destination\":\"/bad\",\"type\":\"nosuchfs\",\"source\":\"bad\"}");
	assert_int_equal(create(b, id, &run, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "mount \"bad\" to \"/bad\""));
	assert_non_null(strcasestr(err->msg, "no such device"));
	wren_err_free(err);
	cg = xasprintf("/wren/%s", id);
	assert_false(bundle_cgroup_exists(cg));
}

static void test_failed_create_leaves_no_child(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("nochild");
	siginfo_t si;

	bundle_config(b, "[\"/bin/nope\"]", NULL);
	assert_int_equal(create(b, id, &run, &err), -1);
	assert_non_null(strcasestr(err->msg, "no such file or directory"));
	wren_err_free(err);
	/* every child was reaped: nothing left to wait for */
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_kill_sigkill_gives_137(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("kill");

	start_sleeper(b, id, &run);
	assert_int_equal(rt_container_kill(run.c, SIGKILL, false, &err), 0);
	assert_int_equal(wait_status(rt_container_pidfd(run.c)), 137);
	/* a reaped init: the kill is reported as containerd words it */
	assert_int_equal(rt_container_kill(run.c, SIGKILL, false, &err), -1);
	assert_string_equal(err->msg, "process already finished: not found");
	assert_int_equal(err->code, WREN_E_NOT_FOUND);
	wren_err_free(err);
	finish(&run);
}

/* Start an exec whose stdout and stderr go to a pipe; *out_fd is the pipe's read end. */
static int exec_begin(struct rt_container *c, struct rt_process *p, struct rt_exec **e, int *out_fd,
		      struct wren_err **err)
{
	struct rt_exec_opts o = {.container = c, .process = p};
	int out[2];

	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	o.stdio[0] = -1;
	o.stdio[1] = out[1];
	o.stdio[2] = out[1];
	if (rt_exec_start(&o, e, err) < 0) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	close(out[1]);
	*out_fd = out[0];
	return 0;
}

/* Drive an exec from exec_begin to its end: its output and exit status, or -1 and the error of
 * a start that failed. Frees e and closes out_fd. */
static int exec_finish(struct rt_exec *e, int out_fd, char **output, struct wren_err **err)
{
	int r, st;

	do {
		struct pollfd pf = {.fd = rt_exec_sync_fd(e), .events = POLLIN};
		assert_true(poll(&pf, 1, 20000) > 0);
		r = rt_exec_on_sync(e, err);
	} while (r == RT_SYNC_PENDING);
	if (r < 0) {
		wait_status(rt_exec_pidfd(e));
		rt_exec_free(e);
		close(out_fd);
		return -1;
	}
	*output = read_all_fd(out_fd);
	close(out_fd);
	st = wait_status(rt_exec_pidfd(e));
	rt_exec_free(e);
	return st;
}

static int exec_run(struct rt_container *c, struct rt_process *p, char **output,
		    struct wren_err **err)
{
	struct rt_exec *e = NULL;
	int out_fd;

	*output = NULL;
	if (exec_begin(c, p, &e, &out_fd, err) < 0)
		return -1;
	return exec_finish(e, out_fd, output, err);
}

static void test_exec_joins_the_pid_namespace(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("exec");
	char *args[] = {"sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; exit 4", NULL};
	char *env[] = {"PATH=/bin", NULL};
	struct rt_process p = {.args = args, .n_args = 3, .env = env, .n_env = 1, .cwd = "/"};
	char *out = NULL;

	start_sleeper(b, id, &run);
	int st = exec_run(run.c, &p, &out, &err);
	if (st < 0)
		fail_msg("exec: %s", err->msg);
	assert_int_equal(st, 4);
	assert_string_equal(out, "sleep 100 \n");
	free(out);

	/* a missing binary fails the exec's start with runc's wording */
	char *args2[] = {"nope", NULL};
	p.args = args2;
	p.n_args = 1;
	assert_int_equal(exec_run(run.c, &p, &out, &err), -1);
	assert_string_equal(err->msg, "exec: \"nope\": executable file not found in $PATH");
	wren_err_free(err);
	err = NULL;

	stop_sleeper(&run);
}

static void test_readonly_root(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("roroot");

	b->readonly = true;
	bundle_config(b,
		      "[\"sh\",\"-c\",\"touch /x 2>/dev/null && echo rw || echo ro; touch /tmp/y "
		      "&& echo tmp-rw\"]",
		      NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "ro\ntmp-rw\n");
	finish(&run);
}

/* /proc/kcore is absent on this kernel: keys and timer_list stand for the masked files */
static void test_masked_and_readonly_paths(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("masked");

	bundle_config(b,
		      "[\"sh\",\"-c\",\"wc -c < /proc/keys; wc -c < /proc/timer_list; "
		      "ls /proc/acpi | wc -l; "
		      "(echo 1 > /proc/sys/kernel/panic) 2>/dev/null && echo rw || echo ro\"]",
		      NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "0\n0\n0\nro\n");
	finish(&run);
}

static void test_devices_and_mounts_exist(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("dev");

	bundle_config(
	    b,
	    "[\"sh\",\"-c\",\"test -c /dev/null && test -c /dev/urandom && "
	    "test -L /dev/ptmx && test -L /dev/fd && test -d /dev/pts && test -d /dev/shm "
	    "&& test -d /dev/mqueue && test -f /sys/kernel/uevent_seqnum && echo ok\"]",
	    NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "ok\n");
	finish(&run);
}

static void test_no_host_fds_leak(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("fds");
	int leak = open("/", O_RDONLY); /* deliberately not CLOEXEC */

	bundle_config(b, "[\"ls\",\"/proc/self/fd\"]", NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	close(leak);
	/* 0 1 2 and ls's own directory fd */
	assert_string_equal(run.output, "0\n1\n2\n3\n");
	finish(&run);
}

static void test_rootfs_mount_bind_ro_and_unmount(void **state)
{
	struct bundle *b = *state;
	struct wren_err *err = NULL;
	_cleanup_free_ char *target = xasprintf("%s/mnt", b->dir);
	const char *opts[] = {"rbind", "ro"};
	struct rt_mount m = {.type = "bind", .source = b->rootfs, .options = opts, .n_options = 2};

	assert_int_equal(mkdir(target, 0755), 0);
	assert_int_equal(rt_rootfs_mount(target, &m, 1, &err), 0);
	_cleanup_free_ char *f = xasprintf("%s/newfile", target);
	assert_int_equal(open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0644), -1);
	assert_int_equal(errno, EROFS);
	assert_true(bundle_has_mounts(b));
	assert_int_equal(rt_rootfs_unmount(target, &err), 0);
	assert_false(bundle_has_mounts(b));
	assert_int_equal(rt_rootfs_unmount(target, &err), 0);
}

static uint64_t mount_id(const char *path)
{
	struct statx stx;

	if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
		return 0;
	return stx.stx_mnt_id;
}

/* Mount points "/" in our mount table: one, unless something was mounted over the root. */
static int root_mounts(void)
{
	_cleanup_free_ char *text = NULL;
	int n = 0;

	if (read_file("/proc/self/mountinfo", 1 << 22, &text, NULL) < 0)
		return -1;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char mp[8];

		if (sscanf(line, "%*s %*s %*s %*s %7s", mp) == 1 && strcmp(mp, "/") == 0)
			n++;
	}
	return n;
}

/* In a child with a private mount namespace, so that a mount that escapes lands nowhere real:
 * 0 if the bind of src on <root> through target "evil" (-> "/") stayed inside <root>. */
static int mount_through_symlink(const char *root, const char *src)
{
	struct wren_err *err = NULL;
	const char *opts[] = {"rbind", "ro"};
	struct rt_mount m = {
	    .type = "bind", .source = src, .target = "evil", .options = opts, .n_options = 2};
	int roots = root_mounts();
	uint64_t before = mount_id(root);

	if (rt_rootfs_mount(root, &m, 1, &err) < 0)
		return 10;
	if (root_mounts() != roots)
		return 11; /* something went onto "/" */
	if (mount_id(root) == before)
		return 12; /* nothing went onto <root> */
	if (rt_rootfs_unmount(root, &err) < 0 || mount_id(root) != before)
		return 13;
	return 0;
}

/* A rootfs mount's target is resolved inside the rootfs: an absolute symlink planted there by an
 * image ("evil" -> "/") must land the mount on <rootfs>, never on the host's "/". */
static void test_rootfs_mount_target_stays_inside(void **state)
{
	struct bundle *b = *state;
	struct wren_err *err = NULL;
	_cleanup_free_ char *root = xasprintf("%s/mnt", b->dir);
	_cleanup_free_ char *link = xasprintf("%s/evil", root);
	const char *opts[] = {"rbind", "ro"};
	struct rt_mount m = {.type = "bind",
			     .source = b->rootfs,
			     .target = "no/such/dir",
			     .options = opts,
			     .n_options = 2};
	int status;
	pid_t pid;

	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(symlink("/", link), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			_exit(9);
		_exit(mount_through_symlink(root, b->rootfs));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* a target that does not exist is an error naming it, and nothing is mounted */
	assert_int_equal(rt_rootfs_mount(root, &m, 1, &err), -1);
	assert_non_null(strstr(err->msg, "resolve mount target no/such/dir"));
	wren_err_free(err);
	assert_false(bundle_has_mounts(b));
}

static void test_user_namespace_maps_root(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("userns");

	b->user_ns = true;
	bundle_config(b,
		      "[\"sh\",\"-c\",\"id -u; cat /proc/self/uid_map | tr -s ' '; test -c "
		      "/dev/null && echo dev-ok\"]",
		      NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "0\n 0 100000 65536\ndev-ok\n");
	finish(&run);
}

static void test_hooks_run_in_order(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("hooks");
	_cleanup_free_ char *hooks_dir = xasprintf("%s/hooks", b->dir);
	_cleanup_free_ char *log = xasprintf("%s/log", hooks_dir);
	_cleanup_free_ char *log_text = NULL;
	_cleanup_free_ char *mount = NULL, *top = NULL;
#define HOOK(kind, file)                                                                           \
	"\"" kind "\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo " kind " >> " file     \
	"\"]}]"

	assert_int_equal(mkdir(hooks_dir, 0755), 0);
	mount =
	    xasprintf("{\"destination\":\"/"
		      "hooks\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\",\"rw\"]}",
		      hooks_dir);
	top = xasprintf(
	    "\"hooks\":{" HOOK("prestart", "%s") "," HOOK("createRuntime", "%s") "," HOOK(
		"createContainer", "%s") "," HOOK("startContainer",
						  "/hooks/log") "," HOOK("poststart",
									 "%s") "," HOOK("poststop",
											"%s") "}",
	    log, log, log, log, log);
	b->top_extra = top;
	bundle_config_mounts(b, "[\"true\"]", NULL, mount);
	assert_int_equal(run_to_end(b, id, &run), 0);
	finish(&run);
	assert_int_equal(read_file(log, 4096, &log_text, NULL), 0);
	assert_string_equal(log_text, "prestart\ncreateRuntime\ncreateContainer\nstartContainer\n"
				      "poststart\npoststop\n");
#undef HOOK
}

static void test_failing_create_runtime_hook_fails_create(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("hookfail");

	b->top_extra = "\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/"
		       "sh\",\"args\":[\"sh\",\"-c\",\"exit 2\"]}]}";
	bundle_config(b, "[\"true\"]", NULL);
	assert_int_equal(create(b, id, &run, &err), -1);
	assert_non_null(strstr(err->msg, "createRuntime"));
	wren_err_free(err);
	_cleanup_free_ char *cg = xasprintf("/wren/%s", id);
	assert_false(bundle_cgroup_exists(cg));
}

static void test_no_pivot_root(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("nopivot");

	b->no_pivot = true;
	bundle_config(b, "[\"sh\",\"-c\",\"cat /etc/group | head -n1; echo $$\"]", NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "root:x:0:\n1\n");
	finish(&run);
}

static void test_sysctl_rlimit_and_oom_score_adj(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("sysctl");

	b->linux_extra = "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}";
	bundle_config(b,
		      "[\"sh\",\"-c\",\"cat /proc/sys/net/ipv4/ip_forward; ulimit -n; cat "
		      "/proc/self/oom_score_adj\"]",
		      "\"user\":{\"uid\":0,\"gid\":0},\"oomScoreAdj\":500");
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "1\n1024\n500\n");
	finish(&run);
}

/* v1 (this host): one bind per hierarchy; pure v2: the container's own cgroup dir */
static void test_cgroup_mount_shows_own_cgroup(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("cgmount");

	bundle_config_mounts(
	    b,
	    "[\"sh\",\"-c\",\"d=/sys/fs/cgroup; test -d $d/pids && d=$d/pids; "
	    "head -n1 $d/cgroup.procs; "
	    "test -d /sys/fs/cgroup/memory -o -f /sys/fs/cgroup/memory.max && echo mem; "
	    "(touch /sys/fs/cgroup/x) 2>/dev/null || echo ro\"]",
	    NULL,
	    "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
	    "\"options\":[\"ro\",\"nosuid\",\"noexec\",\"nodev\"]}");
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "1\nmem\nro\n");
	finish(&run);
}

static void test_pids_and_kill_all(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("killall");
	pid_t *pids = NULL;
	size_t n = 0;
	bool has_init = false;

	bundle_config(b, "[\"sh\",\"-c\",\"sleep 100 & sleep 100; true\"]", NULL);
	assert_int_equal(create(b, id, &run, &err), 0);
	assert_int_equal(rt_container_start(run.c, &err), 0);
	assert_int_equal(drive(run.c, RT_SYNC_STARTED, &err), RT_SYNC_STARTED);
	for (int i = 0; i < 100 && n < 3; i++) {
		free(pids);
		assert_int_equal(rt_container_pids(run.c, &pids, &n, &err), 0);
		usleep(20000);
	}
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		has_init |= pids[i] == rt_container_pid(run.c);
	free(pids);
	assert_true(has_init);
	assert_int_equal(rt_container_kill(run.c, SIGKILL, true, &err), 0);
	assert_int_equal(wait_status(rt_container_pidfd(run.c)), 137);
	finish(&run);
}

static void test_exec_as_user_in_cwd(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("execuser");
	char *args[] = {"sh", "-c", "id -u; id -g; pwd; echo $HOME", NULL};
	char *env[] = {"PATH=/bin", NULL};
	struct rt_process p = {.args = args,
			       .n_args = 3,
			       .env = env,
			       .n_env = 1,
			       .cwd = "/tmp",
			       .uid = 1000,
			       .gid = 1000};
	char *out = NULL;

	start_sleeper(b, id, &run);
	int st = exec_run(run.c, &p, &out, &err);
	if (st < 0)
		fail_msg("exec: %s", err->msg);
	assert_int_equal(st, 0);
	assert_string_equal(out, "1000\n1000\n/tmp\n/home/app\n");
	free(out);
	stop_sleeper(&run);
}

/* One exec's output (fails the test if it does not start or exits non-zero). */
static char *exec_out(struct rt_container *c, uid_t uid, char **env, size_t n_env, const char *sh)
{
	char *args[] = {"sh", "-c", (char *)sh, NULL};
	struct rt_process p = {.args = args,
			       .n_args = 3,
			       .env = env,
			       .n_env = n_env,
			       .cwd = "/",
			       .uid = uid,
			       .gid = uid};
	struct wren_err *err = NULL;
	char *out = NULL;
	int st = exec_run(c, &p, &out, &err);

	if (st < 0)
		fail_msg("exec: %s", err->msg);
	assert_int_equal(st, 0);
	return out;
}

/* process.apparmorProfile (and .selinuxLabel) go to the kernel from the init and from both kinds
 * of exec child. A profile it refuses (one it has not loaded; any, where AppArmor is not running,
 * as here) fails the process and names the profile: never a process run unconfined instead. Where
 * AppArmor runs, the profile "unconfined" is taken. */
static void test_lsm_labels_reach_the_kernel_in_init_and_exec(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("apparmor");
	_cleanup_free_ char *id2 = test_id("apparmorexec");
	static const char want[] = "apply apparmor profile \"wren-test-no-such-profile\": write "
				   "/proc/thread-self/attr/";
	char *args[] = {"cat", "/proc/self/attr/current", NULL};
	char *env[] = {"PATH=/bin", NULL};
	struct rt_process p = {.args = args,
			       .n_args = 2,
			       .env = env,
			       .n_env = 1,
			       .cwd = "/",
			       .apparmor_profile = "wren-test-no-such-profile"};
	bool apparmor = access("/sys/kernel/security/apparmor", F_OK) == 0;
	char *out = NULL;

	bundle_config(b, "[\"true\"]", NULL);
	b->spec->process->apparmor_profile = xstrdup(p.apparmor_profile);
	assert_int_equal(create(b, id, &run, &err), -1);
	if (strncmp(err->msg, want, strlen(want)) != 0)
		fail_msg("create: %s", err->msg);
	wren_err_free(err);
	err = NULL;
	/* an SELinux label the kernel does not take (no SELinux here; not a context where it is) */
	bundle_config(b, "[\"true\"]", NULL);
	b->spec->process->selinux_label = xstrdup("wren_u:wren_r:wren_t:s0");
	assert_int_equal(create(b, id, &run, &err), -1);
	assert_non_null(strstr(err->msg, "set selinux label \"wren_u:wren_r:wren_t:s0\": write "
					 "/proc/thread-self/attr/exec: "));
	wren_err_free(err);
	err = NULL;

	start_sleeper(b, id2, &run);
	for (int shared = 1; shared >= 0; shared--) {
		bool was = rt_exec_child_set_shared_vm(shared);

		p.apparmor_profile = "wren-test-no-such-profile";
		assert_int_equal(exec_run(run.c, &p, &out, &err), -1);
		if (strncmp(err->msg, want, strlen(want)) != 0)
			fail_msg("exec: %s", err->msg);
		wren_err_free(err);
		err = NULL;
		if (apparmor) {
			p.apparmor_profile = "unconfined";
			if (exec_run(run.c, &p, &out, &err) != 0)
				fail_msg("exec with the profile unconfined: %s",
					 err ? err->msg : "exit status");
			assert_non_null(strstr(out, "unconfined"));
			free(out);
		}
		rt_exec_child_set_shared_vm(was);
	}
	stop_sleeper(&run);
}

/* The exec child shares the daemon's memory and builds the environment, HOME and the seccomp
 * filter without libc's help (exec_child.c): the same results as a forked child, which is what it
 * falls back to (and what it is under the sanitizers). */
static void test_exec_env_home_and_seccomp_in_both_kinds_of_child(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("execenv");
	_cleanup_free_ char *pw = xasprintf("%s/etc/passwd", b->rootfs);
	_cleanup_free_ char *long_line = NULL;
	_cleanup_free_ char *passwd = NULL;
	char *env[] = {"PATH=/bin", "A=1", "B=2", "A=3", "B", NULL};
	char *env_home[] = {"PATH=/bin", "HOME=/set", NULL};
	char *out;

	/* a line longer than the child's buffer, a uid that is 4242 modulo 2^64 (not 4242), and
	 * a line without a newline at the end */
	long_line = xzalloc(9001);
	memset(long_line, 'g', 9000);
	passwd = xasprintf("long:x:7:7:%s:/long:/bin/sh\nroot:x:0:0:root:/root:/bin/sh\n"
			   "wrap:x:18446744073709555858:0::/wrapped:/bin/sh\n"
			   "app:x:1000:1000::/home/app:/bin/sh",
			   long_line);
	assert_int_equal(write_file(pw, passwd, strlen(passwd), true), 0);
	b->linux_extra =
	    "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
	    "[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}";
	start_sleeper(b, id, &run);
	for (int shared = 1; shared >= 0; shared--) {
		bool was = rt_exec_child_set_shared_vm(shared);

		/* a later entry replaces an earlier one in place, one without '=' removes it */
		out =
		    exec_out(run.c, 0, env, 5,
			     "echo \"$A|${B-unset}|$HOME\"; env | grep -c '^A='; mkdir /tmp/x 2>&1 "
			     "| grep -c 'not permitted'; grep Seccomp: /proc/self/status");
		assert_string_equal(out, "3|unset|/root\n1\n1\nSeccomp:\t2\n");
		free(out);
		out = exec_out(run.c, 1000, env, 5, "echo $HOME");
		assert_string_equal(out, "/home/app\n"); /* the last line, no newline */
		free(out);
		out = exec_out(run.c, 4242, env, 5, "echo $HOME");
		assert_string_equal(out, "/\n"); /* not in /etc/passwd */
		free(out);
		out = exec_out(run.c, 0, env_home, 2, "echo $HOME");
		assert_string_equal(out, "/set\n");
		free(out);
		rt_exec_child_set_shared_vm(was);
	}
	stop_sleeper(&run);
}

static int own_oom_score_adj(int *out)
{
	_cleanup_free_ char *s = NULL;

	if (read_file("/proc/self/oom_score_adj", 64, &s, NULL) < 0)
		return -1;
	*out = atoi(s);
	return 0;
}

/* The kernel keeps oom_score_adj the same in every process sharing an mm, unless the sharer is a
 * vfork child: an exec that asks for its own value must get it without the daemon (here: this
 * test process) getting it too, whichever kind of child it has. A CLONE_VM child that is not a
 * vfork fails this. */
static void test_exec_oom_score_adj_is_the_exec_s_alone(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("execoom");
	char *args[] = {"cat", "/proc/self/oom_score_adj", NULL};
	char *env[] = {"PATH=/bin", NULL};
	struct rt_process p = {.args = args, .n_args = 2, .env = env, .n_env = 1, .cwd = "/"};
	int before, after;
	char *out = NULL;

	start_sleeper(b, id, &run);
	assert_int_equal(own_oom_score_adj(&before), 0);
	for (int shared = 1; shared >= 0; shared--) {
		bool was = rt_exec_child_set_shared_vm(shared);

		p.has_oom_score_adj = true;
		p.oom_score_adj = before == 700 ? 600 : 700;
		assert_int_equal(exec_run(run.c, &p, &out, &err), 0);
		assert_int_equal(atoi(out), p.oom_score_adj);
		free(out);
		assert_int_equal(own_oom_score_adj(&after), 0);
		assert_int_equal(after, before);
		p.oom_score_adj = before;
		assert_int_equal(exec_run(run.c, &p, &out, &err), 0);
		assert_int_equal(atoi(out), before);
		free(out);
		assert_int_equal(own_oom_score_adj(&after), 0);
		assert_int_equal(after, before);
		rt_exec_child_set_shared_vm(was);
	}
	stop_sleeper(&run);
}

/* Entries of /proc/self/task (threads) or /proc/self/fd (open fds). */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

#define count_threads() count_entries("/proc/self/task")
#define count_fds()	count_entries("/proc/self/fd")

/* The exec's child is a vfork child, but the daemon does not wait for it: a helper thread clones
 * it. An exec into a frozen container (its child stops in the cgroup before execve, as one would
 * on a hung volume) leaves the caller free; the exec goes on once thawed, and the helper is gone
 * after it: one thread again. */
static void test_exec_start_returns_while_the_child_cannot_go_on(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("execfrz");
	char *args[] = {"echo", "thawed", NULL};
	char *env[] = {"PATH=/bin", NULL};
	struct rt_process p = {.args = args, .n_args = 2, .env = env, .n_env = 1, .cwd = "/"};
	struct rt_exec *e = NULL;
	int out_fd;
	char *text = NULL;

	start_sleeper(b, id, &run);
	assert_int_equal(count_threads(), 1);
	assert_int_equal(rt_container_freeze(run.c, true, &err), 0);
	assert_int_equal(exec_begin(run.c, &p, &e, &out_fd, &err), 0);
	/* the child is made but stays before its execve: the caller goes on */
	assert_true(rt_exec_pid(e) > 0);
	struct pollfd pf = {.fd = rt_exec_sync_fd(e), .events = POLLIN};
	assert_int_equal(poll(&pf, 1, 300), 0);
	assert_int_equal(rt_exec_on_sync(e, &err), RT_SYNC_PENDING);
	assert_int_equal(rt_container_freeze(run.c, false, &err), 0);
	if (exec_finish(e, out_fd, &text, &err) != 0)
		fail_msg("exec: %s", err ? err->msg : "non-zero exit");
	assert_string_equal(text, "thawed\n");
	free(text);
	assert_int_equal(count_threads(), 1);
	stop_sleeper(&run);
}

static void test_join_pid_and_net_namespaces_by_path(void **state)
{
	struct bundle *b = *state;
	struct bundle *b2 = bundle_new();
	struct run run, run2;
	_cleanup_free_ char *id = test_id("nsowner");
	_cleanup_free_ char *id2 = test_id("nsjoiner");
	_cleanup_free_ char *ns = NULL;

	start_sleeper(b, id, &run);

	pid_t owner = rt_container_pid(run.c);
	ns = xasprintf("[{\"type\":\"pid\",\"path\":\"/proc/%d/ns/pid\"},{\"type\":\"ipc\"},"
		       "{\"type\":\"uts\"},{\"type\":\"mount\"},"
		       "{\"type\":\"network\",\"path\":\"/proc/%d/ns/net\"}",
		       (int)owner, (int)owner);
	b2->namespaces = ns;
	bundle_config(b2,
		      "[\"sh\",\"-c\",\"cat /proc/1/cmdline | tr '\\\\0' ' '; echo; test $$ != 1 "
		      "&& echo not-init\"]",
		      NULL);
	int st = run_to_end(b2, id2, &run2);
	assert_int_equal(st, 0);
	assert_string_equal(run2.output, "sleep 100 \nnot-init\n");
	finish(&run2);
	assert_false(bundle_has_mounts(b2));
	bundle_free(b2);

	stop_sleeper(&run);
}

/* A filter the spec cannot give fails the create, loaded before the user switch (no
 * no_new_privs) or after start (no_new_privs: built at create, loaded last), as with runc. */
static void test_bad_seccomp_filter_fails_the_create(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("badseccomp");

	b->linux_extra = "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{"
			 "\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}";
	for (int nnp = 0; nnp <= 1; nnp++) {
		bundle_config(b, "[\"true\"]", NULL);
		b->spec->process->no_new_privileges = nnp;
		assert_int_equal(create(b, id, &run, &err), -1);
		assert_non_null(strstr(err->msg, "seccomp notify not supported"));
		wren_err_free(err);
		err = NULL;
	}
}

static void test_seccomp_filter_applies(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("seccomp");

	b->linux_extra =
	    "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
	    "[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}";
	bundle_config(b,
		      "[\"sh\",\"-c\",\"mkdir /tmp/d 2>&1 | grep -c 'not permitted'; grep Seccomp: "
		      "/proc/self/status\"]",
		      NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "1\nSeccomp:\t2\n");
	finish(&run);
}

struct log_capture {
	int n;
	char last[256];
};

static void capture_log(void *ud, enum rt_log_level level, const char *msg)
{
	struct log_capture *lc = ud;
	if (level == RT_LOG_DEBUG)
		lc->n++;
	snprintf(lc->last, sizeof(lc->last), "%s", msg);
}

static void test_child_log_lines_reach_the_callback(void **state)
{
	struct bundle *b = *state;
	struct log_capture lc = {0};
	struct rt_create_opts o = {
	    .bundle = b->dir, .stdio = {-1, -1, -1}, .log = capture_log, .log_ud = &lc};
	struct rt_container *c = NULL;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("log");

	bundle_config(b, "[\"true\"]", NULL);
	o.id = id;
	o.spec = b->spec;
	assert_int_equal(rt_container_create(&o, &c, &err), 0);
	b->live = c;
	assert_int_equal(drive(c, RT_SYNC_CREATED, &err), RT_SYNC_CREATED);
	assert_true(lc.n >= 3);
	assert_string_equal(lc.last, "init: ready to exec /bin/true");
	assert_int_equal(rt_container_start(c, &err), 0);
	assert_int_equal(drive(c, RT_SYNC_STARTED, &err), RT_SYNC_STARTED);
	assert_int_equal(rt_container_sync_fd(c), -1);
	assert_int_equal(wait_status(rt_container_pidfd(c)), 0);
	assert_int_equal(rt_container_destroy(c, &err), 0);
	assert_int_equal(rt_container_destroy(c, &err), 0); /* idempotent */
	rt_container_free(c);
	b->live = NULL;
}

static void test_free_kills_a_created_init(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("free");
	siginfo_t si;

	bundle_config(b, "[\"true\"]", NULL);
	assert_int_equal(create(b, id, &run, &err), 0);
	assert_int_equal(rt_container_destroy(run.c, &err), 0);
	rt_container_free(run.c);
	run.c = NULL;
	b->live = NULL;
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	finish(&run);
}

static void test_cgroup_namespace_roots_at_the_container(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("cgns");

	b->namespaces = "[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
			"{\"type\":\"mount\"},{\"type\":\"network\"},{\"type\":\"cgroup\"}";
	bundle_config_mounts(
	    b,
	    "[\"sh\",\"-c\",\"grep -c -v ':/$' /proc/self/cgroup; d=/sys/fs/cgroup; "
	    "test -d $d/pids && d=$d/pids; head -n1 $d/cgroup.procs\"]",
	    NULL,
	    "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
	    "\"options\":[\"ro\",\"nosuid\",\"noexec\",\"nodev\"]}");
	assert_int_equal(run_to_end(b, id, &run), 0);
	/* every hierarchy's path is "/" inside the namespace */
	assert_string_equal(run.output, "0\n1\n");
	finish(&run);
}

/* runc's way: the init makes its terminal in the container's devpts (/dev/pts/0 inside), binds it
 * onto /dev/console, owns it as its user, and hands the master over before it is created. */
static void test_terminal_is_made_in_the_container_and_its_master_handed_over(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("tty");
	struct rt_create_opts o = {.bundle = b->dir};
	char buf[512];
	size_t n = 0;
	int master;

	bundle_config(b,
		      "[\"sh\",\"-c\",\"test -t 0 && test -t 2 && echo is-a-tty; tty; "
		      "[ /dev/console -ef /dev/pts/0 ] && echo console-ok; ls -ln /dev/pts/0\"]",
		      "\"user\":{\"uid\":1000,\"gid\":1000},\"terminal\":true");
	memset(&run, 0, sizeof(run));
	run.b = b;
	run.out[0] = run.out[1] = -1;
	o.id = id;
	o.spec = b->spec;
	o.stdio[0] = o.stdio[1] = o.stdio[2] = -1;
	assert_int_equal(rt_container_create(&o, &run.c, &err), 0);
	b->live = run.c;
	run.cg_path = xstrdup(rt_container_cgroup(run.c));
	if (drive(run.c, RT_SYNC_CREATED, &err) < 0)
		fail_msg("create: %s", err->msg);
	master = rt_container_take_console(run.c);
	assert_true(master >= 0);
	assert_int_equal(rt_container_take_console(run.c), -1); /* taken once */
	assert_true(isatty(master));
	assert_int_equal(rt_container_start(run.c, &err), 0);
	assert_int_equal(drive(run.c, RT_SYNC_STARTED, &err), RT_SYNC_STARTED);
	assert_int_equal(wait_status(rt_container_pidfd(run.c)), 0);
	for (;;) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		ssize_t r;
		if (poll(&p, 1, 1000) <= 0)
			break;
		r = read(master, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	close(master);
	assert_non_null(strstr(buf, "is-a-tty"));
	assert_non_null(strstr(buf, "/dev/pts/0\r\n"));
	assert_non_null(strstr(buf, "console-ok"));
	if (!strstr(buf, "crw--w----") || !strstr(buf, " 1000 ") || !strstr(buf, " 5 "))
		fail_msg("owner or mode of /dev/pts/0: %s", buf);
	finish(&run);
}

/* containerd's overlay with many long lowerdirs: the data would not fit a page. */
static void test_rootfs_mount_overlay_compacts_long_lowerdirs(void **state)
{
	struct bundle *b = *state;
	struct wren_err *err = NULL;
	char longname[121];
	_cleanup_free_ char *base = NULL, *target = xasprintf("%s/ovl", b->dir);
	_cleanup_free_ char *lower = xstrdup("lowerdir=");
	_cleanup_free_ char *f = NULL, *text = NULL;

	memset(longname, 'l', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	base = xasprintf("%s/%s", b->dir, longname);
	assert_int_equal(mkdir(base, 0755), 0);
	for (int i = 0; i < 40; i++) {
		_cleanup_free_ char *d = xasprintf("%s/layer-%02d", base, i);
		assert_int_equal(mkdir(d, 0755), 0);
		char *l = xasprintf("%s%s%s", lower, i ? ":" : "", d);
		free(lower);
		lower = l;
	}
	_cleanup_free_ char *deep = xasprintf("%s/layer-39/from-the-bottom", base);
	assert_int_equal(write_file(deep, "yes", 3, true), 0);
	assert_true(strlen(lower) > 4096);
	assert_int_equal(mkdir(target, 0755), 0);
	const char *opts[] = {"index=off", lower};
	struct rt_mount m = {
	    .type = "overlay", .source = "overlay", .options = opts, .n_options = 2};
	if (rt_rootfs_mount(target, &m, 1, &err) < 0)
		fail_msg("mount: %s", err->msg);
	f = xasprintf("%s/from-the-bottom", target);
	assert_int_equal(read_file(f, 100, &text, NULL), 0);
	assert_string_equal(text, "yes");
	assert_int_equal(rt_rootfs_unmount(target, &err), 0);
	assert_false(bundle_has_mounts(b));
}

static void test_exec_into_a_user_namespace(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("execuserns");
	char *args[] = {"sh", "-c",
			"id -u; tr -s ' ' < /proc/self/uid_map; grep CapEff /proc/self/status",
			NULL};
	char *env[] = {"PATH=/bin", NULL};
	struct rt_process p = {.args = args, .n_args = 3, .env = env, .n_env = 1, .cwd = "/"};
	char *out = NULL;

	b->user_ns = true;
	start_sleeper(b, id, &run);
	int st = exec_run(run.c, &p, &out, &err);
	if (st < 0)
		fail_msg("exec: %s", err->msg);
	assert_int_equal(st, 0);
	/* no capabilities object: no capabilities */
	assert_string_equal(out, "0\n 0 100000 65536\nCapEff:\t0000000000000000\n");
	free(out);
	stop_sleeper(&run);
}

static void test_spec_devices_are_created(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("devices");

	b->linux_extra = "\"devices\":[{\"path\":\"/dev/sub/mynull\",\"type\":\"c\",\"major\":1,"
			 "\"minor\":3,\"fileMode\":384,\"uid\":1000,\"gid\":5}]";
	bundle_config(b, "[\"stat\",\"-c\",\"%a %u %g %t:%T\",\"/dev/sub/mynull\"]", NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "600 1000 5 1:3\n");
	finish(&run);
}

/* A spec that lists a default path (ctr --privileged lists every host device, /dev/null among
 * them) gets the node once, made from its own entry: mode and owner are the spec's. */
static void test_spec_device_at_a_default_path_wins(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("devdefault");

	b->linux_extra = "\"devices\":[{\"path\":\"/dev/full\",\"type\":\"c\",\"major\":1,"
			 "\"minor\":7,\"fileMode\":416,\"uid\":1000,\"gid\":5},"
			 "{\"path\":\"/dev/full\",\"type\":\"c\",\"major\":1,\"minor\":7}]";
	bundle_config(b, "[\"stat\",\"-c\",\"%a %u %g %t:%T\",\"/dev/full\"]", NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "640 1000 5 1:7\n");
	finish(&run);
}

/* The rootfs taken out of the daemon's mount namespace (rt_rootfs_detach): the host sees an empty
 * directory at once, the init attaches the tree in its own namespace and runs from it, and once the
 * last copy of the fd is gone with the init, nothing of it is mounted anywhere we can see. */
static void run_with_detached_rootfs(struct bundle *b)
{
	struct wren_err *err = NULL;
	struct run run;
	_cleanup_free_ char *id = test_id("detached");
	_cleanup_free_ char *image = xasprintf("%s/image", b->dir);
	_cleanup_free_ char *marker = xasprintf("%s/marker", image);
	_cleanup_free_ char *seen = xasprintf("%s/bin/busybox", b->rootfs);
	const char *opts[] = {"rbind", "rw"};
	struct rt_mount m = {.type = "bind", .source = image, .options = opts, .n_options = 2};

	/* the image's files live elsewhere and reach <bundle>/rootfs by a mount, as containerd's do */
	assert_int_equal(rename(b->rootfs, image), 0);
	assert_int_equal(mkdir(b->rootfs, 0755), 0);
	assert_int_equal(write_file(marker, "from the image\n", 15, true), 0);
	bundle_config(b, "[\"sh\",\"-c\",\"cat /marker; echo new >/written\"]", NULL);
	assert_int_equal(rt_rootfs_mount(b->rootfs, &m, 1, &err), 0);
	assert_true(rt_rootfs_detachable(b->spec, b->rootfs));

	int tree = rt_rootfs_detach(b->rootfs, &err);
	if (tree < 0)
		fail_msg("detach: %s", err->msg);
	assert_true(tree >= 3);
	assert_false(bundle_has_mounts(b));
	assert_int_equal(access(seen, F_OK), -1);

	b->rootfs_tree = tree;
	if (create(b, id, &run, &err) < 0)
		fail_msg("create: %s", err->msg);
	b->rootfs_tree = 0;
	close(tree); /* the init's copy is the only one left */
	assert_int_equal(start_and_wait(&run), 0);
	assert_string_equal(run.output, "from the image\n");
	finish(&run);
	/* what the container wrote went to the image through the attached tree */
	_cleanup_free_ char *written = xasprintf("%s/written", image);
	assert_int_equal(access(written, F_OK), 0);
	assert_false(bundle_has_mounts(b));
	assert_int_equal(access(seen, F_OK), -1);
	/* teardown removes the bundle: the image goes back where bundle_free looks for it */
	assert_int_equal(rmdir(b->rootfs), 0);
	assert_int_equal(rename(image, b->rootfs), 0);
}

static void test_rootfs_detached_is_attached_by_the_init(void **state)
{
	run_with_detached_rootfs(*state);
}

/* runc's no_pivot_root (MS_MOVE and chroot) moves the attached tree like any rootfs mount */
static void test_rootfs_detached_without_pivot_root(void **state)
{
	struct bundle *b = *state;

	b->no_pivot = true;
	run_with_detached_rootfs(b);
}

/* The bundle's spec with one knob set to value (then unset again): may its rootfs be detached? */
static bool detachable_with(struct bundle *b, const char **knob, const char *value)
{
	bool r;

	*knob = value;
	bundle_config(b, "[\"true\"]", NULL);
	r = rt_rootfs_detachable(b->spec, b->rootfs);
	*knob = NULL;
	return r;
}

#define PRESTART_HOOK	      "\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}]}"
#define POSTSTOP_HOOK	      "\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\"}]}"
#define CREATE_CONTAINER_HOOK "\"hooks\":{\"createContainer\":[{\"path\":\"/bin/true\"}]}"
#define JOINED_MOUNT_NS	      "[{\"type\":\"pid\"},{\"type\":\"mount\",\"path\":\"/proc/1/ns/mnt\"}"

/* Only a spec whose rootfs nothing in the runtime namespace may look at by its host path, in a
 * mount namespace of the init's own, lets the rootfs leave the daemon's namespace. */
static void test_rootfs_detachable_only_where_nothing_needs_it_on_the_host(void **state)
{
	struct bundle *b = *state;
	_cleanup_free_ char *other = xasprintf("%s/elsewhere", b->dir);

	bundle_config(b, "[\"true\"]", NULL);
	assert_true(rt_rootfs_detachable(b->spec, b->rootfs));
	assert_false(rt_rootfs_detachable(b->spec, other));

	assert_false(detachable_with(b, &b->top_extra, PRESTART_HOOK));
	assert_false(detachable_with(b, &b->top_extra, POSTSTOP_HOOK));
	/* hooks that run in the container see it there */
	assert_true(detachable_with(b, &b->top_extra, CREATE_CONTAINER_HOOK));
	assert_false(detachable_with(b, &b->linux_extra, "\"rootfsPropagation\":\"rshared\""));
	assert_true(detachable_with(b, &b->linux_extra, "\"rootfsPropagation\":\"rslave\""));
	assert_false(detachable_with(b, &b->namespaces, JOINED_MOUNT_NS));
	assert_false(detachable_with(b, &b->namespaces, "[{\"type\":\"pid\"}"));
	b->user_ns = true;
	bundle_config(b, "[\"true\"]", NULL);
	assert_false(rt_rootfs_detachable(b->spec, b->rootfs));
	b->user_ns = false;
}

static void test_rootfs_propagation_rshared(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("rshared");

	b->linux_extra = "\"rootfsPropagation\":\"rshared\"";
	bundle_config(b, "[\"sh\",\"-c\",\"grep ' / rw,' /proc/self/mountinfo | grep -c shared:\"]",
		      NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "1\n");
	finish(&run);
}

/* containerd's rootfs is a mount point of its own: with shared propagation that mount is what the
 * new root sits on, and pivot_root refuses it while it is shared. */
static void test_rootfs_propagation_rshared_on_a_mounted_rootfs(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("rsharedmnt");
	struct wren_err *err = NULL;
	int r;

	b->linux_extra = "\"rootfsPropagation\":\"rshared\"";
	bundle_config(b, "[\"sh\",\"-c\",\"grep ' / rw,' /proc/self/mountinfo | grep -c shared:\"]",
		      NULL);
	assert_int_equal(mount(b->rootfs, b->rootfs, NULL, MS_BIND, NULL), 0);
	r = create(b, id, &run, &err);
	/* the init has its own copy of the mount by now */
	assert_int_equal(umount2(b->rootfs, MNT_DETACH), 0);
	if (r < 0)
		fail_msg("create: %s", err->msg);
	assert_int_equal(start_and_wait(&run), 0);
	assert_string_equal(run.output, "1\n");
	finish(&run);
}

static void test_exec_after_the_init_exited_fails(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("execdead");
	char *args[] = {"true", NULL};
	char *env[] = {"PATH=/bin", NULL};
	struct rt_process p = {.args = args, .n_args = 1, .env = env, .n_env = 1, .cwd = "/"};
	char *out = NULL;

	bundle_config(b, "[\"true\"]", NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	for (int shared = 1; shared >= 0; shared--) {
		bool was = rt_exec_child_set_shared_vm(shared);
		int fds = count_fds();

		assert_int_equal(exec_run(run.c, &p, &out, &err), -1);
		assert_non_null(err);
		wren_err_free(err);
		err = NULL;
		/* nothing of the attempt is left: no helper thread, no fd */
		assert_int_equal(count_threads(), 1);
		assert_int_equal(count_fds(), fds);
		rt_exec_child_set_shared_vm(was);
	}
	finish(&run);
}

/* A clone that fails in the helper thread (exec_child.h) reaches the caller as clone3's error,
 * with no thread or fd left behind: an exec into a container at its pids.max. Only a unified pids
 * controller refuses it (the child is born there, CLONE_INTO_CGROUP); v1's charges a task that
 * moves in whatever the limit, as for runc's execs, so on a v1 host the exec runs. */
static void test_exec_at_the_pids_limit_fails_with_clone3_s_error(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("execpids");
	_cleanup_free_ char *ctl = NULL, *max = NULL;
	char *args[] = {"true", NULL};
	char *env[] = {"PATH=/bin", NULL};
	struct rt_process p = {.args = args, .n_args = 1, .env = env, .n_env = 1, .cwd = "/"};
	bool unified;
	char *out = NULL;

	start_sleeper(b, id, &run);
	/* one exec first, in each kind of child: what is opened once per container is then there */
	for (int shared = 1; shared >= 0; shared--) {
		bool was = rt_exec_child_set_shared_vm(shared);

		assert_int_equal(exec_run(run.c, &p, &out, &err), 0);
		free(out);
		rt_exec_child_set_shared_vm(was);
	}
	unified = read_file("/sys/fs/cgroup/cgroup.controllers", 4096, &ctl, NULL) == 0 &&
		  strstr(ctl, "pids") != NULL;
	max = xasprintf("/sys/fs/cgroup/%s%s/pids.max", unified ? "" : "pids",
			rt_container_cgroup(run.c));
	assert_int_equal(write_file(max, "1", 1, false), 0);
	for (int shared = 1; shared >= 0; shared--) {
		bool was = rt_exec_child_set_shared_vm(shared);
		int fds = count_fds();
		int st = exec_run(run.c, &p, &out, &err);

		if (unified) {
			assert_int_equal(st, -1);
			assert_non_null(
			    strstr(err->msg, "clone3: Resource temporarily unavailable"));
			wren_err_free(err);
			err = NULL;
		} else {
			assert_int_equal(st, 0);
			free(out);
		}
		assert_int_equal(count_threads(), 1);
		assert_int_equal(count_fds(), fds);
		rt_exec_child_set_shared_vm(was);
	}
	assert_int_equal(write_file(max, "max", 3, false), 0);
	stop_sleeper(&run);
}

static void test_ro_bind_mount_of_a_file(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("filebind");
	_cleanup_free_ char *src = xasprintf("%s/hosts", b->dir);
	_cleanup_free_ char *mnt = NULL;

	assert_int_equal(write_file(src, "127.0.0.1 wren\n", 15, true), 0);
	mnt = xasprintf("{\"destination\":\"/etc/deep/hosts\",\"type\":\"bind\",\"source\":\"%s\","
			"\"options\":[\"rbind\",\"ro\",\"rprivate\"]}",
			src);
	bundle_config_mounts(b,
			     "[\"sh\",\"-c\",\"cat /etc/deep/hosts; (echo x >> /etc/deep/hosts) "
			     "2>/dev/null || echo ro\"]",
			     NULL, mnt);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "127.0.0.1 wren\nro\n");
	finish(&run);
}

/* A symlink in the image pointing at a host path must not carry a mount out of the rootfs: the
 * target is created and mounted inside (here under the container's /tmp tmpfs). */
static void test_mount_destination_symlink_stays_in_the_rootfs(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct stat st;
	_cleanup_free_ char *id = test_id("escape");
	_cleanup_free_ char *link = xasprintf("%s/evil", b->rootfs);
	_cleanup_free_ char *host = xasprintf("%s/m", b->dir);

	assert_int_equal(symlink(b->dir, link), 0);
	bundle_config_mounts(
	    b,
	    "[\"sh\",\"-c\",\"grep -c ' /evil/m \\\\| "
	    "/tmp/wren-rt-.*/m ' /proc/self/mountinfo\"]",
	    NULL, "{\"destination\":\"/evil/m\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}");
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "1\n");
	finish(&run);
	assert_int_equal(stat(host, &st), -1);
}

/* Missing mount targets are made inside the rootfs: the last component only (one step), a deeper
 * path (component by component), and a dangling symlink as the last component, whose target is
 * made inside the rootfs as runc does. */
static void test_missing_mount_targets_are_made_inside_the_rootfs(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("mkdirs");
	_cleanup_free_ char *link = xasprintf("%s/dangle", b->rootfs);
	_cleanup_free_ char *made = xasprintf("%s/made/here", b->rootfs);
	struct stat st;

	assert_int_equal(symlink("/made/here", link), 0);
	bundle_config_mounts(
	    b,
	    "[\"sh\",\"-c\",\"grep -c ' /one \\\\| /deep/er/path \\\\| /made/here ' "
	    "/proc/self/mountinfo\"]",
	    NULL,
	    "{\"destination\":\"/one\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
	    "{\"destination\":\"/deep/er/path\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
	    "{\"destination\":\"/dangle\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}");
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "3\n");
	finish(&run);
	assert_int_equal(stat(made, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

/* runc CVE-2019-5736: /proc/self/exe of a container child is the runtime's binary. */
static void test_the_runtime_binary_is_never_executed_in_a_container(void **state)
{
	struct bundle *b = *state;
	struct run run;
	struct wren_err *err = NULL;
	_cleanup_free_ char *id = test_id("selfexe");
	_cleanup_free_ char *link = xasprintf("%s/bin/innocent", b->rootfs);

	assert_int_equal(symlink("/proc/self/exe", link), 0);
	bundle_config(b, "[\"innocent\"]", NULL);
	assert_int_equal(create(b, id, &run, &err), -1);
	assert_non_null(strstr(err->msg, "refusing to run the runtime's own binary"));
	wren_err_free(err);
}

/* containerd's default spec says only "deny all": the usual devices stay usable (runc's list). */
static void test_default_devices_are_allowed_under_deny_all(void **state)
{
	struct bundle *b = *state;
	struct run run;
	_cleanup_free_ char *id = test_id("denyall");

	b->device_rules = "[{\"allow\":false,\"access\":\"rwm\"}]";
	bundle_config(b,
		      "[\"sh\",\"-c\",\"echo x > /dev/null && head -c1 /dev/urandom > /dev/null && "
		      "echo ok\"]",
		      NULL);
	assert_int_equal(run_to_end(b, id, &run), 0);
	assert_string_equal(run.output, "ok\n");
	finish(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_echo_output_reaches_stdout),
	    T(test_exit_code_is_returned),
	    T(test_hostname_is_set),
	    T(test_init_is_pid_1),
	    T(test_uid_and_gid_come_from_the_spec),
	    T(test_missing_binary_fails_at_create_with_runc_wording),
	    T(test_bad_mount_type_fails_naming_the_mount),
	    T(test_failed_create_leaves_no_child),
	    T(test_kill_sigkill_gives_137),
	    T(test_exec_joins_the_pid_namespace),
	    T(test_readonly_root),
	    T(test_masked_and_readonly_paths),
	    T(test_devices_and_mounts_exist),
	    T(test_no_host_fds_leak),
	    T(test_rootfs_mount_bind_ro_and_unmount),
	    T(test_rootfs_mount_target_stays_inside),
	    T(test_user_namespace_maps_root),
	    T(test_hooks_run_in_order),
	    T(test_failing_create_runtime_hook_fails_create),
	    T(test_no_pivot_root),
	    T(test_sysctl_rlimit_and_oom_score_adj),
	    T(test_cgroup_mount_shows_own_cgroup),
	    T(test_pids_and_kill_all),
	    T(test_exec_as_user_in_cwd),
	    T(test_exec_env_home_and_seccomp_in_both_kinds_of_child),
	    T(test_lsm_labels_reach_the_kernel_in_init_and_exec),
	    T(test_exec_start_returns_while_the_child_cannot_go_on),
	    T(test_exec_oom_score_adj_is_the_exec_s_alone),
	    T(test_join_pid_and_net_namespaces_by_path),
	    T(test_seccomp_filter_applies),
	    T(test_bad_seccomp_filter_fails_the_create),
	    T(test_child_log_lines_reach_the_callback),
	    T(test_free_kills_a_created_init),
	    T(test_cgroup_namespace_roots_at_the_container),
	    T(test_terminal_is_made_in_the_container_and_its_master_handed_over),
	    T(test_rootfs_mount_overlay_compacts_long_lowerdirs),
	    T(test_exec_into_a_user_namespace),
	    T(test_spec_devices_are_created),
	    T(test_spec_device_at_a_default_path_wins),
	    T(test_rootfs_propagation_rshared),
	    T(test_rootfs_propagation_rshared_on_a_mounted_rootfs),
	    T(test_rootfs_detached_is_attached_by_the_init),
	    T(test_rootfs_detached_without_pivot_root),
	    T(test_rootfs_detachable_only_where_nothing_needs_it_on_the_host),
	    T(test_exec_after_the_init_exited_fails),
	    T(test_exec_at_the_pids_limit_fails_with_clone3_s_error),
	    T(test_ro_bind_mount_of_a_file),
	    T(test_mount_destination_symlink_stays_in_the_rootfs),
	    T(test_missing_mount_targets_are_made_inside_the_rootfs),
	    T(test_the_runtime_binary_is_never_executed_in_a_container),
	    T(test_default_devices_are_allowed_under_deny_all),
	    T(test_signals_the_runtime_ignores_are_default_in_the_container),
	};
	if (geteuid() != 0) {
		fprintf(stderr, "runtime_test_container needs root: skipped\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	/* a subset by name, e.g. 'test_exec_*' (hack/cgv2-guest.sh on a pure cgroup v2 host) */
	const char *filter = getenv("WREN_TEST_FILTER");

	if (filter && *filter)
		cmocka_set_test_filter(filter);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
