/* Process-level set-up of a container child: see process.h. Everything here runs in a freshly
 * cloned copy of the single-threaded daemon, so plain libc is fine, but nothing may read the
 * container's files through NSS or dlopen (architecture §5): /etc/passwd is parsed by hand. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/proc_raw.h"
#include "runtime/process.h"
#include "runtime/syscalls.h"
#include "runtime/util.h"

#define SYNC_FD 3

/* The signals whose disposition is not the default in the daemon (what it ignores, or inherited
 * ignored): found once per process by rt_proc_prime, so that each child resets just those instead
 * of all 62. Not yet looked (a child of a process that never primed): reset them all. */
static uint64_t non_default; /* bit sig - 1; glibc's sigset calls refuse 32 and 33 */
static bool non_default_known;

/* One mask of /proc/self/status ("SigIgn:\t0000000000001000"): bit sig - 1 per signal. */
static bool status_mask(const char *status, const char *key, uint64_t *out)
{
	const char *p = strstr(status, key);
	char *end;

	if (p == NULL)
		return false;
	p += strlen(key);
	while (*p == '\t' || *p == ' ')
		p++;
	errno = 0;
	*out = strtoull(p, &end, 16);
	return errno == 0 && end != p && (*end == '\n' || *end == 0);
}

static void find_non_default(void)
{
	_cleanup_free_ char *status = NULL;
	uint64_t ign, cgt;

	/* the kernel's own summary: ignored and caught signals, in one read */
	if (read_file("/proc/self/status", 1 << 16, &status, NULL) == 0 &&
	    status_mask(status, "\nSigIgn:", &ign) && status_mask(status, "\nSigCgt:", &cgt)) {
		non_default = ign | cgt;
		non_default_known = true;
		return;
	}
	non_default = 0;
	for (int sig = 1; sig < NSIG; sig++) {
		struct rt_kernel_sigaction old;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (rt_sys_sigaction_get(sig, &old) < 0 || old.handler != SIG_DFL ||
		    (old.flags & SA_SIGINFO))
			non_default |= 1ULL << (sig - 1);
	}
	non_default_known = true;
}

int rt_proc_setup_fds(const int stdio[3], int sync_fd, int *keep)
{
	sigset_t none;
	int tmp[3], s, k = -1;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP &&
		    (!non_default_known || (non_default & (1ULL << (sig - 1)))))
			rt_sys_sigaction_default(sig);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* copies above 4 first, so that no dup2 below clobbers a source still needed */
	s = fcntl(sync_fd, F_DUPFD_CLOEXEC, SYNC_FD + 2);
	if (s < 0)
		return -1;
	if (keep && *keep >= 0 && (k = fcntl(*keep, F_DUPFD_CLOEXEC, SYNC_FD + 2)) < 0)
		return -1;
	for (int i = 0; i < 3; i++) {
		if (stdio[i] >= 0) {
			tmp[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, SYNC_FD + 2);
		} else {
			int n = open("/dev/null", O_RDWR | O_CLOEXEC);
			tmp[i] = n < 0 ? -1 : fcntl(n, F_DUPFD_CLOEXEC, SYNC_FD + 2);
			if (n >= 0)
				close(n);
		}
		if (tmp[i] < 0)
			return -1;
	}
	for (int i = 0; i < 3; i++)
		if (dup2(tmp[i], i) < 0) /* the new fd i has no CLOEXEC: stdio survives execve */
			return -1;
	if (dup3(s, SYNC_FD, O_CLOEXEC) < 0)
		return -1;
	if (k >= 0) {
		if (dup3(k, SYNC_FD + 1, O_CLOEXEC) < 0)
			return -1;
		*keep = SYNC_FD + 1;
	}
	/* every inherited daemon fd (listeners, other containers' sockets, pidfds) goes */
	if (rt_sys_close_range(k >= 0 ? SYNC_FD + 2 : SYNC_FD + 1, ~0U, 0) < 0)
		return -1;
	return SYNC_FD;
}

void rt_proc_close_extra_fds(int sync_fd)
{
	rt_sys_close_range((unsigned)sync_fd + 1, ~0U, 0);
}

int rt_proc_write_oom_score_adj(pid_t pid, int value, struct wren_err **err)
{
	char path[64], val[16];
	int n = snprintf(val, sizeof(val), "%d", value);

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	if (write_file(path, val, (size_t)n, false) < 0)
		return wren_err_errno(err, errno, "write oom_score_adj %d", value);
	return 0;
}

int rt_proc_set_hostname(const struct rt_spec *spec, struct wren_err **err)
{
	bool uts = rt_spec_namespace(spec, RT_NS_UTS) != NULL;

	if ((spec->hostname && spec->hostname[0]) || (spec->domainname && spec->domainname[0])) {
		if (!uts)
			return wren_err_code(
			    err, WREN_E_INVALID_ARGUMENT,
			    "unable to set hostname without a private UTS namespace");
	}
	if (spec->hostname && spec->hostname[0] &&
	    sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		return wren_err_errno(err, errno, "sethostname %s", spec->hostname);
	if (spec->domainname && spec->domainname[0] &&
	    setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
		return wren_err_errno(err, errno, "setdomainname %s", spec->domainname);
	return 0;
}

int rt_proc_sysctls(const struct rt_spec *spec, struct wren_err **err)
{
	for (size_t i = 0; i < spec->n_sysctls; i++) {
		const struct rt_sysctl *s = &spec->sysctls[i];
		_cleanup_free_ char *path = xasprintf("/proc/sys/%s", s->key);

		if (strstr(s->key, ".."))
			return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "sysctl %s: invalid key",
					     s->key);
		for (char *c = path + strlen("/proc/sys/"); *c; c++)
			if (*c == '.')
				*c = '/';
		if (write_file(path, s->value, strlen(s->value), false) < 0)
			return wren_err_errno(err, errno, "write sysctl %s", s->key);
	}
	return 0;
}

int rt_proc_rlimits(const struct rt_process *p, struct wren_err **err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return wren_err_errno(err, errno, "setrlimit %d", p->rlimits[i].resource);
	}
	return 0;
}

/* A failure of a proc_raw.h step as our error. */
static int raw_failed(struct wren_err **err, long r, struct rt_msg *m)
{
	wren_err_code(err, WREN_E_UNKNOWN, "%s", rt_msg_str(m));
	if (err && *err)
		(*err)->errnum = (int)-r;
	return -1;
}

int rt_proc_set_user(const struct rt_process *p, struct wren_err **err)
{
	/* no capabilities object means none at all, as runc does: never the daemon's full set */
	static const struct rt_caps none;
	int last = rt_caps_last(err);
	struct rt_msg m = {0};
	long r;

	if (last < 0)
		return -1;
	r = rt_raw_set_user(p->uid, p->gid, p->additional_gids, p->n_additional_gids,
			    p->has_caps ? &p->caps : &none, last, &m);
	return r < 0 ? raw_failed(err, r, &m) : 0;
}

int rt_proc_lsm_labels(const struct rt_process *p, struct wren_err **err)
{
	struct rt_msg m;
	long r;

	if ((!p->apparmor_profile || !*p->apparmor_profile) &&
	    (!p->selinux_label || !*p->selinux_label))
		return 0;
	m.n = 0;
	r = rt_raw_lsm_exec_labels(p->apparmor_profile, p->selinux_label, &m);
	return r < 0 ? raw_failed(err, r, &m) : 0;
}

int rt_proc_no_new_privs(const struct rt_process *p, struct wren_err **err)
{
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return wren_err_errno(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	return 0;
}

int rt_proc_chdir(const struct rt_process *p, bool create, struct wren_err **err)
{
	char buf[PATH_MAX];
	const char *cwd = p->cwd && p->cwd[0] ? p->cwd : "/";

	if (create && mkdir_p(cwd, 0755) < 0 && errno != EEXIST)
		return wren_err_errno(err, errno, "create cwd %s", cwd);
	if (chdir(cwd) < 0)
		return wren_err_errno(err, errno, "chdir to cwd (\"%s\") set in config.json failed",
				      cwd);
	/* a leaked fd of a host directory as cwd (/proc/self/fd/N) would land outside the root:
	 * the kernel then reports the cwd as unreachable (ENOENT or a path not starting with /) */
	if (getcwd(buf, sizeof(buf)) == NULL || buf[0] != '/')
		return wren_err_code(err, WREN_E_UNKNOWN,
				     "current working directory is outside of container mount "
				     "namespace root -- possible container breakout detected");
	return 0;
}

static const char *env_get(char *const *env, size_t n, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i < n; i++)
		if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
			return env[i] + kl + 1;
	return NULL;
}

void rt_proc_set_env(const struct rt_process *p)
{
	clearenv();
	for (size_t i = 0; i < p->n_env; i++)
		putenv(p->env[i]);
	if (getenv("HOME") == NULL) {
		char buf[PATH_MAX];
		const char *home = rt_raw_passwd_home(p->uid, buf, sizeof(buf));
		setenv("HOME", home ? home : "/", 1);
	}
}

int rt_proc_lookup(const struct rt_process *p, char **out, struct wren_err **err)
{
	char path[PATH_MAX];
	struct rt_msg m = {0};
	long r = rt_raw_lookup(p->args[0], env_get(p->env, p->n_env, "PATH"), path, &m);

	if (r < 0)
		return raw_failed(err, r, &m);
	*out = xstrdup(path);
	return 0;
}

/* The binary a process runs never changes, so it is looked up once per process and kept
 * (rt_proc_prime, in the daemon before its clones). */
static struct rt_self_exe self_exe;

void rt_proc_self_exe(struct rt_self_exe *out)
{
	struct stat st;

	if (!self_exe.known && stat("/proc/self/exe", &st) == 0)
		self_exe = (struct rt_self_exe){.dev = st.st_dev, .ino = st.st_ino, .known = true};
	*out = self_exe;
}

void rt_proc_prime(void)
{
	struct rt_self_exe unused;

	rt_caps_prime();
	rt_proc_self_exe(&unused);
	/* dispositions: looked at once; a daemon sets its own (SIGPIPE ignored, the rest through a
	 * signalfd) before it clones anything */
	if (!non_default_known)
		find_non_default();
}

uint64_t rt_proc_signals_to_reset(void)
{
	return non_default_known ? non_default : ~0ULL;
}

int rt_proc_refuse_self(const char *path, const struct rt_self_exe *self, struct wren_err **err)
{
	struct stat st;

	if (!self->known || stat(path, &st) < 0)
		return 0; /* execve will report it */
	if (st.st_dev == self->dev && st.st_ino == self->ino) {
		wren_err_code(
		    err, WREN_E_UNKNOWN,
		    "exec: \"%s\": refusing to run the runtime's own binary in a container", path);
		if (err && *err)
			(*err)->errnum = EPERM;
		return -1;
	}
	return 0;
}
