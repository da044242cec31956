/* OCI hooks: fork+execve each hook with the state document on stdin, wait for it to its timeout.
 *
 * This runs inside the daemon's one thread, so it may not change signal dispositions, may not be
 * stalled by a hook that never reads its stdin, and must reap every child it forks. Hence:
 *  - stdin is a memfd holding the state, not a pipe: nothing to write while the hook
 *    runs, no SIGPIPE to guard against, and /dev/stdin still opens (it would not on a socket);
 *  - the wait is poll() on a pidfd with a deadline, draining the hook's stderr meanwhile so a
 *    chatty hook cannot block on a full pipe; on timeout the hook gets SIGKILL and is reaped. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime/hooks.h"
#include "runtime/syscalls.h"
#include "runtime/util.h"

/* How much of a failing hook's stderr goes into the error message. */
#define HOOK_STDERR_MAX 4096
/* A hook without a timeout still may not hold the daemon forever. */
#define HOOK_DEFAULT_TIMEOUT_S 120

char *rt_state_json(const struct rt_spec *spec, const char *id, const char *status, pid_t pid,
		    const char *bundle)
{
	cJSON *o = cJSON_CreateObject(), *ann;
	char *s, *out;

	if (o == NULL)
		abort();
	cJSON_AddStringToObject(o, "ociVersion", "1.0.2");
	cJSON_AddStringToObject(o, "id", id ? id : "");
	cJSON_AddStringToObject(o, "status", status ? status : "");
	if (pid > 0)
		cJSON_AddNumberToObject(o, "pid", pid);
	cJSON_AddStringToObject(o, "bundle", bundle ? bundle : "");
	ann = cJSON_AddObjectToObject(o, "annotations");
	if (ann == NULL)
		abort();
	for (size_t i = 0; spec && i < spec->n_annotations; i++)
		cJSON_AddStringToObject(ann, spec->annotation_keys[i], spec->annotation_values[i]);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		abort();
	out = xstrdup(s);
	cJSON_free(s);
	return out;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int state_memfd(const char *state, struct wren_err **err)
{
	_cleanup_close_ int fd = memfd_create("oci-state", MFD_CLOEXEC);
	size_t len = strlen(state);

	if (fd < 0)
		return wren_err_errno(err, errno, "memfd_create");
	if (write_all(fd, state, len) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return wren_err_errno(err, errno, "write the state");
	return steal_fd(&fd);
}

/* Put fd at target for execve (dup2 clears CLOEXEC, except when fd already is target). */
static int place_fd(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

static __attribute__((noreturn)) void exec_hook(const struct rt_hook *h, int in_fd, int err_fd)
{
	static const char *const no_env[] = {NULL};
	int null_fd;
	sigset_t none;

	/* The daemon blocks signals for its signalfd and may ignore some: the hook gets a clean
	 * slate, as it would from a shell. Handlers are reset by execve itself. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null_fd < 0 || place_fd(in_fd, 0) < 0 || place_fd(null_fd, 1) < 0 ||
	    place_fd(err_fd, 2) < 0)
		_exit(127);
	rt_sys_close_range(3, ~0U, 0);
	execve(h->path, h->args, h->env ? h->env : (char **)no_env);
	dprintf(2, "exec %s: %s", h->path, strerror(errno));
	_exit(127);
}

struct hook_wait {
	pid_t pid;
	int pidfd;  /* -1 on kernels without pidfd_open: poll waitpid instead */
	int err_fd; /* read end of the hook's stderr, -1 once at EOF */
	char buf[HOOK_STDERR_MAX + 1];
	size_t len;
	int status;
	bool reaped;
};

static void drain_stderr(struct hook_wait *w)
{
	char tmp[1024];

	while (w->err_fd >= 0) {
		ssize_t r = read(w->err_fd, tmp, sizeof(tmp));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			closep(&w->err_fd);
			return;
		}
		/* Keep the first 4 KiB, keep reading the rest so the hook never blocks on it. */
		size_t take = (size_t)r;
		if (take > HOOK_STDERR_MAX - w->len)
			take = HOOK_STDERR_MAX - w->len;
		memcpy(w->buf + w->len, tmp, take);
		w->len += take;
	}
}

static void reap(struct hook_wait *w, bool block)
{
	while (!w->reaped) {
		pid_t r = waitpid(w->pid, &w->status, block ? 0 : WNOHANG);

		if (r < 0 && errno == EINTR)
			continue;
		if (r != 0)
			w->reaped = true; /* r < 0 (ECHILD) cannot happen for our own child */
		return;
	}
}

/* 1 when the hook exited (and is reaped), 0 on timeout (the hook still runs), -1 on error. */
static int wait_hook(struct hook_wait *w, int64_t deadline)
{
	for (;;) {
		struct pollfd p[2];
		int n = 0, ms;
		int64_t left = deadline - now_ms();

		if (w->pidfd < 0) {
			reap(w, false);
			if (w->reaped)
				return 1;
		}
		if (left <= 0)
			return 0;
		ms = left > 60000 ? 60000 : (int)left;
		if (w->pidfd < 0 && ms > 10)
			ms = 10;
		if (w->pidfd >= 0)
			p[n++] = (struct pollfd){.fd = w->pidfd, .events = POLLIN};
		if (w->err_fd >= 0)
			p[n++] = (struct pollfd){.fd = w->err_fd, .events = POLLIN};
		if (n == 0) {
			/* pidfd-less and stderr at EOF: just tick. */
			struct timespec ts = {0, (long)ms * 1000000L};
			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(p, (nfds_t)n, ms) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		drain_stderr(w);
		if (w->pidfd >= 0 && (p[0].revents & (POLLIN | POLLHUP))) {
			reap(w, true);
			return 1;
		}
	}
}

static void trim(char *s, size_t *len)
{
	while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r' || s[*len - 1] == ' '))
		(*len)--;
	s[*len] = '\0';
}

static int hook_result(const struct hook_wait *w, const char *kind, const char *path,
		       struct wren_err **err)
{
	char what[64];
	char stderr_text[HOOK_STDERR_MAX + 1];
	size_t len = w->len;

	if (WIFEXITED(w->status) && WEXITSTATUS(w->status) == 0)
		return 0;
	if (WIFEXITED(w->status))
		snprintf(what, sizeof(what), "exit status %d", WEXITSTATUS(w->status));
	else
		snprintf(what, sizeof(what), "killed by signal %d", WTERMSIG(w->status));
	memcpy(stderr_text, w->buf, len);
	trim(stderr_text, &len);
	if (len == 0)
		return wren_err_code(err, WREN_E_UNKNOWN, "%s hook %s: %s", kind, path, what);
	return wren_err_code(err, WREN_E_UNKNOWN, "%s hook %s: %s: %s", kind, path, what,
			     stderr_text);
}

static int run_hook(const struct rt_hook *h, const char *kind, const char *state,
		    struct wren_err **err)
{
	_cleanup_close_ int in_fd = -1, pidfd = -1;
	int pipefd[2];
	int timeout = h->timeout > 0 ? h->timeout : HOOK_DEFAULT_TIMEOUT_S;
	struct hook_wait w = {.pidfd = -1, .err_fd = -1};
	int r;

	in_fd = state_memfd(state, err);
	if (in_fd < 0)
		return wren_err_wrap(err, "%s hook %s", kind, h->path);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return wren_err_errno(err, errno, "%s hook %s: pipe", kind, h->path);
	w.pid = fork();
	if (w.pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return wren_err_errno(err, errno, "%s hook %s: fork", kind, h->path);
	}
	if (w.pid == 0)
		exec_hook(h, in_fd, pipefd[1]);
	close(pipefd[1]);
	w.err_fd = pipefd[0];
	fcntl(w.err_fd, F_SETFL, O_NONBLOCK);
	pidfd = rt_sys_pidfd_open(w.pid, 0);
	w.pidfd = pidfd;

	r = wait_hook(&w, now_ms() + (int64_t)timeout * 1000);
	if (r <= 0) {
		int e = errno;

		kill(w.pid, SIGKILL);
		reap(&w, true);
		closep(&w.err_fd);
		if (r < 0)
			return wren_err_errno(err, e, "%s hook %s: wait", kind, h->path);
		return wren_err_code(err, WREN_E_UNKNOWN, "%s hook %s: timed out after %ds", kind,
				     h->path, timeout);
	}
	/* What the hook wrote just before exiting; a grandchild holding the pipe cannot stall us,
	 * the fd is non-blocking. */
	drain_stderr(&w);
	closep(&w.err_fd);
	return hook_result(&w, kind, h->path, err);
}

int rt_hooks_run(const struct rt_hook *hooks, size_t n, const char *kind, const char *state_json,
		 struct wren_err **err)
{
	for (size_t i = 0; i < n; i++)
		if (run_hook(&hooks[i], kind, state_json ? state_json : "{}", err) < 0)
			return -1;
	return 0;
}
