/* binary:// logging drivers: see logger.h. runc-v2's pkg/process/io.go NewBinaryIO is the model
 * for what the logger gets; what differs is that nothing here waits: readiness is a loop source
 * with a deadline, and the stop is a timer plus the logger's pidfd. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "runtime/syscalls.h"
#include "runtime/util.h"
#include "shim/child.h"
#include "shim/log.h"
#include "shim/logger.h"

#define READY_TIMEOUT_MS (30 * 1000)
#define STOP_GRACE_MS	 (12 * 1000)

extern char **environ;

struct shim_logger {
	struct ttrpc_loop *loop;
	pid_t pid;
	char *path;		   /* for messages */
	struct ttrpc_source ready; /* the ready pipe's read end; -1 once settled */
	struct ttrpc_source pidfd; /* -1 once the logger has exited */
	struct ttrpc_timer timer;  /* the ready deadline, then the SIGKILL deadline */
	bool is_ready, stopping;
	shim_logger_ready_fn cb;
	void *ud;
};

/* ---- the URI ------------------------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n); in a query '+' is a space (Go's QueryUnescape). NULL if malformed. */
static char *unescape(const char *s, size_t n, bool query)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else if (query && s[i] == '+') {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = 0;
	return out;
}

void shim_logger_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static bool seen_key(char **argv, size_t n, const char *key)
{
	for (size_t i = 1; i + 1 < n; i += 2)
		if (!strcmp(argv[i], key))
			return true;
	return false;
}

int shim_logger_argv(const char *uri, char ***out, struct wren_err **err)
{
	const char *p, *path, *q, *end;
	char **argv;
	size_t n = 0;

	if (strncmp(uri, "binary://", 9) != 0)
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "%s: not a binary:// URI", uri);
	p = uri + 9;
	path = p + strcspn(p, "/?#"); /* the host part, if any, is ignored (as runc-v2 does) */
	q = path + strcspn(path, "?#");
	end = q + strcspn(q, "#");
	if (q == path)
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "%s: no logger path", uri);
	argv = xzalloc(sizeof(char *) * (strlen(uri) + 2));
	argv[n++] = unescape(path, (size_t)(q - path), false);
	if (!argv[0])
		goto bad;
	if (*q == '?')
		q++;
	while (q < end) {
		size_t len = strcspn(q, "&#");
		const char *eq = memchr(q, '=', len);
		size_t klen = eq ? (size_t)(eq - q) : len;
		char *k, *v;

		if (len == 0) {
			q++;
			continue;
		}
		k = unescape(q, klen, true);
		v = eq ? unescape(eq + 1, len - klen - 1, true) : xstrdup("");
		if (!k || !v) {
			free(k);
			free(v);
			goto bad;
		}
		if (seen_key(argv, n, k)) {
			free(k);
			free(v);
		} else {
			argv[n++] = k;
			argv[n++] = v;
		}
		q += len;
		if (*q == '&')
			q++;
	}
	*out = argv;
	return 0;
bad:
	shim_logger_argv_free(argv);
	return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "%s: malformed percent escape", uri);
}

/* ---- life -------------------------------------------------------------------------------- */

static void logger_free(struct shim_logger *lg)
{
	if (lg->ready.fd >= 0) {
		ttrpc_loop_del(lg->loop, &lg->ready);
		closep(&lg->ready.fd);
	}
	if (lg->pidfd.fd >= 0) {
		ttrpc_loop_del(lg->loop, &lg->pidfd);
		closep(&lg->pidfd.fd);
	}
	ttrpc_timer_cancel(lg->loop, &lg->timer);
	free(lg->path);
	free(lg);
}

/* Settle readiness once: the caller's callback is the last thing that touches lg here, because it
 * may stop (and so free) the logger. */
static void settle(struct shim_logger *lg, const struct wren_err *err)
{
	shim_logger_ready_fn cb = lg->cb;

	ttrpc_loop_del(lg->loop, &lg->ready);
	closep(&lg->ready.fd);
	ttrpc_timer_cancel(lg->loop, &lg->timer);
	lg->is_ready = err == NULL;
	lg->cb = NULL;
	if (cb)
		cb(lg->ud, err);
}

static void on_ready(struct ttrpc_source *src, uint32_t events)
{
	struct shim_logger *lg = ttrpc_container_of(src, struct shim_logger, ready);
	char b;
	ssize_t n = read(src->fd, &b, 1);
	(void)events;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* a byte, or EOF: every copy of fd 5 closed, which the protocol also counts as ready */
	log_debug("logger %s (pid %d) is ready", lg->path, (int)lg->pid);
	settle(lg, NULL);
}

static void on_timer(struct ttrpc_timer *t)
{
	struct shim_logger *lg = ttrpc_container_of(t, struct shim_logger, timer);
	_cleanup_err_ struct wren_err *err = NULL;

	if (lg->stopping) {
		log_warn("logger %s (pid %d) ignored SIGTERM for %d s: SIGKILL", lg->path,
			 (int)lg->pid, STOP_GRACE_MS / 1000);
		rt_sys_pidfd_send_signal(lg->pidfd.fd, SIGKILL);
		return;
	}
	/* runc-v2 would wait forever (a logger whose children inherited fd 5 hangs its Create) */
	wren_err_code(&err, WREN_E_UNKNOWN,
		      "logger %s did not signal readiness on fd 5 within %d s", lg->path,
		      READY_TIMEOUT_MS / 1000);
	settle(lg, err);
}

/* The logger exited (the daemon's SIGCHLD handler reaps it, as an unknown pid). */
static void on_exit_pidfd(struct ttrpc_source *src, uint32_t events)
{
	struct shim_logger *lg = ttrpc_container_of(src, struct shim_logger, pidfd);
	(void)events;

	log_debug("logger %s (pid %d) exited", lg->path, (int)lg->pid);
	ttrpc_loop_del(lg->loop, src);
	closep(&src->fd);
	if (lg->stopping)
		logger_free(lg);
	/* else: its ready pipe reads EOF if it had not said ready; the stop frees it */
}

/* The write ends go to the process and the read ends (and the ready pipe's write end) to the
 * logger; every fd stays O_CLOEXEC in the daemon. */
static int make_pipe(int p[2], struct wren_err **err)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return wren_err_errno(err, errno, "pipe");
	return 0;
}

/* Keep fd clear of 0..5, so that the dup2s into 3, 4, 5 cannot overwrite each other's source
 * and each dup2 really clears O_CLOEXEC. */
static int above_5(int *fd, struct wren_err **err)
{
	int n;

	if (*fd > 5)
		return 0;
	n = fcntl(*fd, F_DUPFD_CLOEXEC, 6);
	if (n < 0)
		return wren_err_errno(err, errno, "dup");
	close(*fd);
	*fd = n;
	return 0;
}

/* posix_spawn: glibc clones with CLONE_VFORK and reports a failed execve as its return value,
 * so a missing logger is an error of Create, not a logger that never gets ready. */
static int spawn(char **argv, char **envp, int fd3, int fd4, int fd5, pid_t *pid,
		 struct wren_err **err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int r;

	shim_child_spawnattr(&attr);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_adddup2(&fa, fd3, 3);
	posix_spawn_file_actions_adddup2(&fa, fd4, 4);
	posix_spawn_file_actions_adddup2(&fa, fd5, 5);
	r = posix_spawn(pid, argv[0], &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	/* UNKNOWN, as runc-v2 answers: a NOT_FOUND from Create would name the wrong thing */
	if (r != 0)
		return wren_err_code(err, WREN_E_UNKNOWN, "start logger %s: %s", argv[0],
				     strerror(r));
	return 0;
}

int shim_logger_start(struct ttrpc_loop *l, const char *uri, const char *id, const char *ns,
		      int *out_w, int *err_w, struct shim_logger **out, struct wren_err **err)
{
	char **argv = NULL;
	_cleanup_free_ char *env_id = xasprintf("CONTAINER_ID=%s", id);
	_cleanup_free_ char *env_ns = xasprintf("CONTAINER_NAMESPACE=%s", ns);
	char *envp[] = {env_id, env_ns, NULL};
	int o[2] = {-1, -1}, e[2] = {-1, -1}, r[2] = {-1, -1};
	struct shim_logger *lg = NULL;
	pid_t pid;
	int pidfd, rc = -1;

	if (shim_logger_argv(uri, &argv, err) < 0)
		return -1;
	if (make_pipe(o, err) < 0 || make_pipe(e, err) < 0 || make_pipe(r, err) < 0 ||
	    above_5(&o[0], err) < 0 || above_5(&e[0], err) < 0 || above_5(&r[1], err) < 0)
		goto out;
	if (spawn(argv, envp, o[0], e[0], r[1], &pid, err) < 0)
		goto out;
	/* not reaped before the loop runs again, so the pid is still the logger's */
	pidfd = rt_sys_pidfd_open(pid, 0);
	if (pidfd < 0) {
		kill(pid, SIGKILL);
		wren_err_errno(err, errno, "pidfd_open of logger %s", argv[0]);
		goto out;
	}
	log_debug("logger %s started (pid %d)", argv[0], (int)pid);

	lg = xzalloc(sizeof(*lg));
	lg->loop = l;
	lg->pid = pid;
	lg->path = xstrdup(argv[0]);
	lg->pidfd.fd = pidfd;
	lg->pidfd.cb = on_exit_pidfd;
	lg->ready.fd = steal_fd(&r[0]);
	lg->ready.cb = on_ready;
	lg->timer.cb = on_timer;
	fcntl(lg->ready.fd, F_SETFL, O_NONBLOCK);
	if (ttrpc_loop_add(l, &lg->pidfd, EPOLLIN) < 0 ||
	    ttrpc_loop_add(l, &lg->ready, EPOLLIN) < 0) {
		wren_err_errno(err, errno, "watch logger %s", argv[0]);
		rt_sys_pidfd_send_signal(pidfd, SIGKILL);
		lg->stopping = true;
		logger_free(lg);
		goto out;
	}
	ttrpc_timer_arm(l, &lg->timer, READY_TIMEOUT_MS);
	*out_w = steal_fd(&o[1]);
	*err_w = steal_fd(&e[1]);
	*out = lg;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		closep(&o[i]);
		closep(&e[i]);
		closep(&r[i]);
	}
	shim_logger_argv_free(argv);
	return rc;
}

bool shim_logger_when_ready(struct shim_logger *lg, shim_logger_ready_fn cb, void *ud)
{
	if (lg->is_ready)
		return true;
	lg->cb = cb;
	lg->ud = ud;
	return false;
}

void shim_logger_stop(struct shim_logger *lg)
{
	if (!lg)
		return;
	lg->cb = NULL;
	if (lg->ready.fd >= 0) {
		ttrpc_loop_del(lg->loop, &lg->ready);
		closep(&lg->ready.fd);
	}
	ttrpc_timer_cancel(lg->loop, &lg->timer);
	lg->stopping = true;
	if (lg->pidfd.fd < 0) {
		logger_free(lg);
		return;
	}
	rt_sys_pidfd_send_signal(lg->pidfd.fd, SIGTERM);
	ttrpc_timer_arm(lg->loop, &lg->timer, STOP_GRACE_MS);
}
