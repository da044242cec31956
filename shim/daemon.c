/* The daemon (shim-protocol.md §2.4): one per container or per pod group. One thread, one epoll
 * loop: the ttrpc server for containerd, the event publisher, a signalfd for SIGCHLD (reaping:
 * we are the subreaper, and every container process is our direct child) and SIGTERM/SIGINT,
 * and the sync sockets of children being set up. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/util.h"
#include "shim/events.h"
#include "shim/log.h"
#include "shim/task.h"

#define EXIT_DEADLINE_MS 5000

static void on_signal(struct ttrpc_source *src, uint32_t events)
{
	struct shim *s = (struct shim *)((char *)src - offsetof(struct shim, signals));
	struct signalfd_siginfo si[8];
	bool child = false;
	ssize_t n;

	/* Several at a time; a read that does not fill the array took all there was (the loop's
	 * epoll is level-triggered, so no second read to be told EAGAIN). */
	do {
		n = read(src->fd, si, sizeof(si));
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(si[0]); i++) {
			if (si[i].ssi_signo == SIGCHLD)
				child = true;
			else if (si[i].ssi_signo == SIGTERM || si[i].ssi_signo == SIGINT) {
				log_info("signal %u: shutting down", si[i].ssi_signo);
				shim_begin_exit(s);
			}
		}
	} while (n == (ssize_t)sizeof(si));
	if (!child)
		return;
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);

		if (pid <= 0)
			break;
		shim_service_on_exit(s, pid, st);
	}
}

static bool exit_deadline_passed;

/* After Shutdown or SIGTERM we leave once containerd has our last replies and events (checked
 * after every batch of callbacks, see serve()), or at this deadline whatever happens. One timer,
 * not a poll: nothing wakes the daemon while it waits. */
static void on_exit_deadline(struct ttrpc_timer *t)
{
	log_warn("exiting after %d ms with replies or events still unsent", EXIT_DEADLINE_MS);
	exit_deadline_passed = true;
}

void shim_begin_exit(struct shim *s)
{
	if (s->exiting)
		return;
	s->exiting = true;
	/* Containers still here (SIGTERM): take them down so nothing is left behind. */
	while (s->containers)
		shim_task_remove(s, s->containers);
	ttrpc_server_shutdown(s->server);
	if (s->socket_path)
		unlink(s->socket_path);
	s->exit_timer.cb = on_exit_deadline;
	ttrpc_timer_arm(s->loop, &s->exit_timer, EXIT_DEADLINE_MS);
}

static int listener(const struct shim_flags *f, char **path, struct wren_err **err)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int fd;

	if (f->socket && *f->socket) {
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		if (strlen(f->socket) >= sizeof(sa.sun_path))
			return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "socket path too long");
		strcpy(sa.sun_path, f->socket);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return wren_err_errno(err, errno, "socket");
		unlink(f->socket);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    chmod(f->socket, 0600) < 0 || listen(fd, 128) < 0) {
			int e = errno;
			close(fd);
			return wren_err_errno(err, e, "listen %s", f->socket);
		}
		*path = xstrdup(f->socket);
		return fd;
	}
	fd = 3;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return wren_err_errno(err, errno, "listener on fd 3");
	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_path[0] == '/')
		*path = xstrdup(sa.sun_path);
	return fd;
}

/* containerd keeps the log FIFO open read-write, so this open never blocks. */
static void open_log(void)
{
	int fd = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* A grouped daemon lives in the first container's bundle and logs to its FIFO. containerd removes
 * that bundle and stops reading that FIFO when the container is deleted, so move to another
 * container's. */
void shim_daemon_leave_bundle(struct shim *s, const char *bundle)
{
	char cwd[PATH_MAX];

	if (!s->containers || !getcwd(cwd, sizeof(cwd)) || strcmp(cwd, bundle) != 0)
		return;
	if (chdir(s->containers->bundle) < 0) {
		log_warn("chdir %s: %s", s->containers->bundle, strerror(errno));
		return;
	}
	open_log();
	log_debug("now in the bundle of %s", s->containers->id);
}

/* One fd per FIFO end, pidfd and sync socket of every process: hundreds of execs need more than
 * the usual soft limit of 1024. Go raises it the same way for runc-v2. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Every callback that can flush a reply or finish an event publication runs inside
 * ttrpc_loop_run_once, so checking after each batch sees the moment the daemon may leave. */
static int serve(struct shim *s)
{
	for (;;) {
		int r = ttrpc_loop_run_once(s->loop, -1);

		if (r < 0)
			return r;
		if (s->exiting && (exit_deadline_passed || (ttrpc_server_flushed(s->server) &&
							    shim_publisher_idle(s->events))))
			return 0;
	}
}

int shim_daemon_run(const struct shim_flags *f)
{
	_cleanup_err_ struct wren_err *err = NULL;
	struct shim s = {0};
	sigset_t mask;
	int lfd;
	const char *ttrpc_address = getenv("TTRPC_ADDRESS");

	open_log();
	shim_log_init(f->namespace, f->id, f->debug);
	s.flags = *f;
	raise_nofile();

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* Our children are born in containers' pid namespaces holding our memory (an exec's child
	 * shares it, an init's is a copy) and our fds: nothing in a container may attach to one
	 * before it has dropped them. They are born non-dumpable from here on, not only after
	 * their own first step. (An exec's child shares our mm, and with it this flag, anyway.) */
	prctl(PR_SET_DUMPABLE, 0);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	int lr = ttrpc_loop_new(&s.loop);
	if (lr < 0) {
		log_error("create loop: %s", strerror(-lr));
		return 1;
	}
	s.signals.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	s.signals.cb = on_signal;
	if (s.signals.fd < 0 || ttrpc_loop_add(s.loop, &s.signals, EPOLLIN) < 0) {
		log_error("signalfd: %s", strerror(errno));
		return 1;
	}
	lfd = listener(f, &s.socket_path, &err);
	if (lfd < 0) {
		log_error("%s", err->msg);
		return 1;
	}
	int r = ttrpc_server_new(s.loop, lfd, &s.server);
	if (r < 0) {
		log_error("serve: %s", strerror(-r));
		return 1;
	}
	s.events = shim_publisher_new(s.loop, ttrpc_address ? ttrpc_address : "", f->namespace);
	shim_service_register(&s);
	log_debug(
	    "serving on %s; containerd at %s, events to %s", s.socket_path ? s.socket_path : "fd 3",
	    f->address && *f->address ? f->address : "-", ttrpc_address ? ttrpc_address : "-");

	r = serve(&s);
	if (r < 0)
		log_error("event loop: %s", strerror(-r));

	log_debug("exiting");
	ttrpc_server_free(s.server);
	shim_publisher_free(s.events);
	ttrpc_loop_free(s.loop);
	free(s.socket_path);
	return s.exit_code;
}
