/* wren-run: run one container from an OCI bundle with runtime/ alone (no containerd, no shim).
 *
 *   wren-run [--no-pivot] [--no-new-keyring] BUNDLE ID
 *
 * Creates, starts, waits for and destroys the container; its stdio is ours. SIGINT, SIGTERM and
 * SIGHUP are forwarded to the init. Exit status: the container's (128+N if killed by signal N),
 * or 125 if wren-run itself failed. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "runtime/spec.h"

#define EXIT_RUNNER 125

static void log_line(void *ud, enum rt_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	(void)ud;
	fprintf(stderr, "wren-run: init %s: %s\n", (unsigned)level < 4 ? names[level] : "?", msg);
}

static int die(struct wren_err *err, const char *what)
{
	fprintf(stderr, "wren-run: %s: %s\n", what, err ? err->msg : "failed");
	wren_err_free(err);
	return EXIT_RUNNER;
}

/* Feed the sync socket to the runtime until it reaches want; -1 on error. */
static int drive(struct rt_container *c, int want, struct wren_err **err)
{
	for (;;) {
		struct pollfd p = {.fd = rt_container_sync_fd(c), .events = POLLIN};
		int r;
		if (p.fd < 0)
			return wren_err_code(err, WREN_E_UNKNOWN, "sync socket closed early");
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return wren_err_errno(err, errno, "poll");
		}
		r = rt_container_on_sync(c, err);
		if (r < 0 || r == want)
			return r;
	}
}

static int reap(int pidfd)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0)
		if (errno != EINTR)
			return EXIT_RUNNER;
	return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

/* Wait for the init to exit, forwarding signals. */
static int wait_forwarding(struct rt_container *c, int sfd)
{
	for (;;) {
		struct pollfd p[2] = {{.fd = rt_container_pidfd(c), .events = POLLIN},
				      {.fd = sfd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return EXIT_RUNNER;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			struct wren_err *err = NULL;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
			    rt_container_kill(c, (int)si.ssi_signo, false, &err) < 0)
				wren_err_free(err);
		}
		if (p[0].revents & POLLIN)
			return reap(rt_container_pidfd(c));
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"no-pivot", no_argument, NULL, 'p'},
						 {"no-new-keyring", no_argument, NULL, 'k'},
						 {"help", no_argument, NULL, 'h'},
						 {0}};
	struct rt_create_opts o = {.stdio = {0, 1, 2}, .log = log_line};
	struct rt_container *c = NULL;
	struct rt_spec *spec = NULL;
	struct wren_err *err = NULL;
	char bundle[PATH_MAX];
	sigset_t fwd;
	int opt, sfd, status;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			o.no_pivot_root = true;
			break;
		case 'k':
			o.no_new_keyring = true;
			break;
		default:
			fprintf(stderr, "usage: %s [--no-pivot] [--no-new-keyring] BUNDLE ID\n",
				argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: %s [--no-pivot] [--no-new-keyring] BUNDLE ID\n", argv[0]);
		return 2;
	}
	if (realpath(argv[optind], bundle) == NULL) {
		fprintf(stderr, "wren-run: %s: %s\n", argv[optind], strerror(errno));
		return EXIT_RUNNER;
	}
	if (rt_spec_load(bundle, &spec, &err) < 0)
		return die(err, "load the spec");
	o.id = argv[optind + 1];
	o.bundle = bundle;
	o.spec = spec;

	/* signals arrive through a signalfd, to be forwarded; the init starts with a clean mask */
	sigemptyset(&fwd);
	sigaddset(&fwd, SIGINT);
	sigaddset(&fwd, SIGTERM);
	sigaddset(&fwd, SIGHUP);
	sigprocmask(SIG_BLOCK, &fwd, NULL);
	sfd = signalfd(-1, &fwd, SFD_CLOEXEC);
	if (sfd < 0) {
		perror("wren-run: signalfd");
		return EXIT_RUNNER;
	}

	if (rt_container_create(&o, &c, &err) < 0) {
		rt_spec_free(spec);
		return die(err, "create");
	}
	if (drive(c, RT_SYNC_CREATED, &err) < 0 || rt_container_start(c, &err) < 0 ||
	    drive(c, RT_SYNC_STARTED, &err) < 0) {
		fprintf(stderr, "wren-run: %s\n", err ? err->msg : "failed");
		wren_err_free(err);
		err = NULL;
		reap(rt_container_pidfd(c));
		status = EXIT_RUNNER;
	} else {
		status = wait_forwarding(c, sfd);
	}
	if (rt_container_destroy(c, &err) < 0) {
		fprintf(stderr, "wren-run: destroy: %s\n", err->msg);
		wren_err_free(err);
		if (status == 0)
			status = EXIT_RUNNER;
	}
	rt_container_free(c);
	rt_spec_free(spec);
	close(sfd);
	return status;
}
