/* The exec child: see exec_child.h. The daemon half (prepare, clone, free) is at the end. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/exec_child.h"
#include "runtime/proc_raw.h"
#include "runtime/process.h"
#include "runtime/rawsys.h"
#include "runtime/sync.h"
#include "runtime/syscalls.h"
#include "runtime/util.h"

#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

#define SYNC_FD 3
#define KEEP_FD 4

struct plan {
	int stdio[3], sync_fd, init_pidfd;
	uint64_t ns_flags;
	bool terminal;
	struct rt_cgroup_join_step *join;
	size_t n_join;
	uint64_t sig_reset; /* bit sig - 1 */
	unsigned int umask;
	const char *cwd;
	struct rt_rlimit *rlimits;
	size_t n_rlimits;
	struct sock_filter *filter; /* NULL: no seccomp */
	size_t filter_len;
	unsigned int seccomp_flags;
	bool seccomp_early;
	uid_t uid;
	gid_t gid;
	gid_t *gids;
	size_t n_gids;
	struct rt_caps caps; /* all empty without a capabilities object, as runc does */
	int last_cap;
	bool no_new_privs;
	char **argv;
	char **envp; /* n_env entries, then a free slot for HOME, then NULL */
	size_t n_env;
	bool need_home;
	const char *path_env; /* the spec's PATH, or NULL */
	struct rt_self_exe self;
};

struct rlimit64_k { /* the kernel's, for prlimit64 */
	uint64_t cur, max;
};

struct rt_exec_child {
	char *mem; /* the plan and its data */
	struct plan *plan;
};

/* ==== the child ================================================================================ */

static _Noreturn void die(void)
{
	for (;;)
		rt_raw1(SYS_exit_group, 1);
}

/* Report m (errnum: the errno behind it, 0 if none) on fd and exit with status. */
static _Noreturn void fail(int fd, int errnum, struct rt_msg *m, int status)
{
	rt_sync_send_raw(fd, RT_MSG_ERROR, errnum, m->b, m->n);
	for (;;)
		rt_raw1(SYS_exit_group, status);
}

/* fail() with "<what>: <strerror(-r)>" */
static _Noreturn void fail_r(int fd, long r, struct rt_msg *m, const char *what, int status)
{
	rt_msg_s(m, what);
	rt_msg_s(m, ": ");
	rt_msg_errno(m, (int)-r, false);
	fail(fd, (int)-r, m, status);
}

static long c_open(const char *path, int flags)
{
	return rt_raw4(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0);
}

static long join_one(const struct rt_cgroup_join_step *j)
{
	long fd, r;

	if (j->fd >= 0 && rt_raw3(SYS_write, j->fd, "0", 1) == 1)
		return 0;
	fd = c_open(j->path, O_WRONLY);
	if (fd < 0)
		return fd;
	r = rt_raw3(SYS_write, fd, "0", 1);
	rt_raw1(SYS_close, fd);
	return r == 1 ? 0 : r < 0 ? r : -EIO;
}

static long dup_high(int fd)
{
	return rt_raw3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, KEEP_FD + 1);
}

static long close_from(unsigned int first)
{
	long r = rt_raw3(SYS_close_range, first, ~0U, 0);
	struct rlimit64_k lim;

	if (r != -ENOSYS)
		return r;
	if (rt_raw4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &lim) < 0)
		lim.cur = 1024;
	for (uint64_t fd = first; fd < lim.cur; fd++)
		rt_raw1(SYS_close, fd);
	return 0;
}

/* Default dispositions and an empty mask; stdio onto 0-2, the sync socket onto 3, the init's pidfd
 * onto 4, every other inherited fd closed. 0 or -errno. */
static long setup_fds(const struct plan *pl)
{
	struct rt_kernel_sigaction dfl = {.handler = SIG_DFL};
	uint64_t none = 0;
	long s, k, tmp[3], r;

	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && (pl->sig_reset & (1ULL << (sig - 1))))
			rt_raw4(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
	rt_raw4(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));

	/* copies above 4 first, so that no dup below clobbers a source still needed */
	if ((s = dup_high(pl->sync_fd)) < 0 || (k = dup_high(pl->init_pidfd)) < 0)
		return s < 0 ? s : k;
	for (int i = 0; i < 3; i++) {
		if (pl->stdio[i] >= 0) {
			tmp[i] = dup_high(pl->stdio[i]);
		} else {
			long n = c_open("/dev/null", O_RDWR);
			tmp[i] = n < 0 ? n : dup_high((int)n);
			if (n >= 0)
				rt_raw1(SYS_close, n);
		}
		if (tmp[i] < 0)
			return tmp[i];
	}
	for (int i = 0; i < 3; i++) /* the new fd i has no CLOEXEC: stdio survives execve */
		if ((r = rt_raw3(SYS_dup3, tmp[i], i, 0)) < 0)
			return r;
	if ((r = rt_raw3(SYS_dup3, s, SYNC_FD, O_CLOEXEC)) < 0 ||
	    (r = rt_raw3(SYS_dup3, k, KEEP_FD, O_CLOEXEC)) < 0)
		return r;
	return close_from(KEEP_FD + 1);
}

static long load_seccomp(const struct plan *pl)
{
	struct sock_fprog prog = {.len = (unsigned short)pl->filter_len, .filter = pl->filter};
	long r = rt_raw3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, pl->seccomp_flags, &prog);

	if (r == -ENOSYS && pl->seccomp_flags == 0)
		r = rt_raw5(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
	return r;
}

static int child_main(void *arg)
{
	struct plan *pl = arg;
	struct rt_msg m;
	char path[PATH_MAX], buf[PATH_MAX];
	struct stat st;
	long r;

	m.n = 0;
	/* born in the container's pid namespace: undumpable before anything else */
	rt_raw5(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* into the container's cgroup while the daemon's fds are still open (cgroup_join.c) */
	for (size_t i = 0; i < pl->n_join; i++) {
		if ((r = join_one(&pl->join[i])) < 0) {
			rt_msg_s(&m, "cgroup: join ");
			fail_r(pl->sync_fd, r, &m, pl->join[i].path, 1);
		}
	}
	if ((r = setup_fds(pl)) < 0)
		fail_r(pl->sync_fd, r, &m, "set up stdio", 1);
	if (rt_sync_expect_raw(SYNC_FD, RT_MSG_CONTINUE) < 0)
		die();

	/* its own session: out of the daemon's process group and its signals */
	if ((r = rt_raw0(SYS_setsid)) < 0)
		fail_r(SYNC_FD, r, &m, "setsid", 1);
	if (pl->terminal && rt_raw3(SYS_ioctl, 0, TCGETS, buf) == 0 &&
	    (r = rt_raw3(SYS_ioctl, 0, TIOCSCTTY, 0)) < 0)
		fail_r(SYNC_FD, r, &m, "set the controlling terminal", 1);
	/* one call: the kernel joins the user namespace first and checks the rest against it */
	if (pl->ns_flags && (r = rt_raw2(SYS_setns, KEEP_FD, pl->ns_flags)) < 0)
		fail_r(SYNC_FD, r, &m, "join the container's namespaces", 1);
	rt_raw1(SYS_close, KEEP_FD);
	rt_raw1(SYS_umask, pl->umask);
	if ((r = rt_raw1(SYS_chdir, pl->cwd)) < 0) {
		rt_msg_s(&m, "chdir to cwd (\"");
		rt_msg_s(&m, pl->cwd);
		fail_r(SYNC_FD, r, &m, "\") set in config.json failed", 1);
	}
	/* a leaked fd of a host directory as cwd (/proc/self/fd/N) would land outside the root: the
	 * kernel then reports the cwd as unreachable (an error, or a path not starting with /) */
	if (rt_raw2(SYS_getcwd, buf, sizeof(buf)) < 0 || buf[0] != '/') {
		rt_msg_s(&m, "current working directory is outside of container mount namespace root -- "
			"possible container breakout detected");
		fail(SYNC_FD, 0, &m, 1);
	}
	/* through libc: the bench's callgrind preload must see them (valgrind refuses to raise
	 * RLIMIT_NOFILE's hard limit); errno is the child's own in a fork */
	for (size_t i = 0; i < pl->n_rlimits; i++) {
		struct rlimit rl = {.rlim_cur = pl->rlimits[i].soft, .rlim_max = pl->rlimits[i].hard};

		if (setrlimit(pl->rlimits[i].resource, &rl) < 0 && (r = -errno) < 0) {
			rt_msg_s(&m, "setrlimit ");
			rt_msg_i(&m, pl->rlimits[i].resource);
			fail_r(SYNC_FD, r, &m, "", 1);
		}
	}
	if (pl->filter && pl->seccomp_early && (r = load_seccomp(pl)) < 0)
		fail_r(SYNC_FD, r, &m, "seccomp: load the filter", 1);
	if ((r = rt_raw_set_user(pl->uid, pl->gid, pl->gids, pl->n_gids, &pl->caps, pl->last_cap,
				 &m)) < 0)
		fail(SYNC_FD, (int)-r, &m, 1);
	if (pl->no_new_privs && (r = rt_raw5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) < 0)
		fail_r(SYNC_FD, r, &m, "prctl(PR_SET_NO_NEW_PRIVS)", 1);
	close_from(KEEP_FD);

	if (pl->need_home) { /* the slot after the spec's env, "HOME=" + the home directory */
		const char *home = rt_raw_passwd_home(pl->uid, buf, sizeof(buf));
		size_t hl = home ? strlen(home) : 1;

		if (hl + 6 > sizeof(path))
			home = NULL, hl = 1;
		memcpy(path, "HOME=", 5);
		memcpy(path + 5, home ? home : "/", hl + 1);
		memcpy(buf, path, hl + 6);
		pl->envp[pl->n_env] = buf;
	}
	if ((r = rt_raw_lookup(pl->argv[0], pl->path_env, path, &m)) < 0)
		fail(SYNC_FD, (int)-r, &m, 1);
	if (pl->self.known && rt_raw_stat(path, &st) == 0 && st.st_dev == pl->self.dev &&
	    st.st_ino == pl->self.ino) {
		rt_msg_s(&m, "exec: \"");
		rt_msg_s(&m, path);
		rt_msg_s(&m, "\": refusing to run the runtime's own binary in a container");
		fail(SYNC_FD, EPERM, &m, 1);
	}
	if (pl->filter && !pl->seccomp_early && (r = load_seccomp(pl)) < 0)
		fail_r(SYNC_FD, r, &m, "seccomp: load the filter", 1);
	r = rt_raw3(SYS_execve, path, pl->argv, pl->envp);
	rt_msg_s(&m, "exec ");
	fail_r(SYNC_FD, r, &m, path, 127);
}

/* ==== the daemon ===============================================================================
 * The plan and its data in one block: the child gets its copy with the fork, so the daemon frees
 * its own right after the clone. */

struct arena {
	char *cur, *end;
};

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

static void *arena_alloc(struct arena *a, size_t n)
{
	void *p = a->cur;

	n = ALIGN16(n);
	if ((size_t)(a->end - a->cur) < n)
		abort(); /* plan_size() undercounted: a bug */
	a->cur += n;
	return p;
}

static char *arena_str(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(arena_alloc(a, n), s, n);
}

static const char *arena_join(void *ud, const char *dir, const char *file)
{
	struct arena *a = ud;
	size_t dl = strlen(dir), fl = strlen(file);
	char *p = arena_alloc(a, dl + fl + 1);

	memcpy(p, dir, dl);
	memcpy(p + dl, file, fl + 1);
	return p;
}

static const char *measure_join(void *ud, const char *dir, const char *file)
{
	*(size_t *)ud += ALIGN16(strlen(dir) + strlen(file) + 1);
	return "";
}

/* An upper bound of what fill() puts after the plan. */
static size_t plan_size(const struct rt_exec_child_in *in)
{
	const struct rt_process *p = in->p;
	size_t n = ALIGN16(sizeof(struct plan)) + 16, n_join = 0, paths = 0;

	if (in->cg) {
		struct rt_cgroup_join_step steps[64];

		n_join = rt_cgroup_join_steps(in->cg, in->born_in_place, NULL, NULL, NULL);
		if (n_join <= 64)
			rt_cgroup_join_steps(in->cg, in->born_in_place, steps, measure_join, &paths);
		else
			paths = n_join * (PATH_MAX + 16);
	}
	n += ALIGN16(n_join * sizeof(struct rt_cgroup_join_step)) + paths;
	n += ALIGN16(strlen(p->cwd && p->cwd[0] ? p->cwd : "/") + 1);
	n += ALIGN16(p->n_rlimits * sizeof(struct rt_rlimit));
	if (in->seccomp)
		n += ALIGN16(in->seccomp->len * sizeof(struct sock_filter));
	n += ALIGN16(p->n_additional_gids * sizeof(gid_t));
	n += ALIGN16((p->n_args + 1) * sizeof(char *));
	for (size_t i = 0; i < p->n_args; i++)
		n += ALIGN16(strlen(p->args[i]) + 1);
	n += ALIGN16((p->n_env + 2) * sizeof(char *));
	for (size_t i = 0; i < p->n_env; i++)
		n += ALIGN16(strlen(p->env[i]) + 1) + (strncmp(p->env[i], "PATH=", 5) == 0
							    ? ALIGN16(strlen(p->env[i]) + 1)
							    : 0);
	return n;
}

static bool env_key_is(const char *e, const char *key, size_t kl)
{
	return strncmp(e, key, kl) == 0 && e[kl] == '=';
}

/* The environment as clearenv() and putenv() of each entry leave it: a later entry replaces an
 * earlier one of the same name in its place, and one without '=' removes it. */
static void fill_env(struct plan *pl, const struct rt_process *p, struct arena *a)
{
	size_t n = 0;

	pl->envp = arena_alloc(a, (p->n_env + 2) * sizeof(char *));
	for (size_t i = 0; i < p->n_env; i++) {
		const char *e = p->env[i], *eq = strchr(e, '=');
		size_t kl = eq ? (size_t)(eq - e) : strlen(e), j;

		for (j = 0; j < n; j++)
			if (env_key_is(pl->envp[j], e, kl))
				break;
		if (eq == NULL) {
			if (j < n) {
				memmove(&pl->envp[j], &pl->envp[j + 1], (n - j - 1) * sizeof(char *));
				n--;
			}
			continue;
		}
		if (j < n)
			pl->envp[j] = arena_str(a, e);
		else
			pl->envp[n++] = arena_str(a, e);
	}
	pl->n_env = n;
	pl->need_home = true;
	for (size_t j = 0; j < n; j++)
		if (env_key_is(pl->envp[j], "HOME", 4))
			pl->need_home = false;
	pl->envp[n] = NULL;
	pl->envp[n + 1] = NULL;
	/* PATH for the lookup: the spec's first, as before the environment is built */
	pl->path_env = NULL;
	for (size_t i = 0; i < p->n_env && !pl->path_env; i++)
		if (env_key_is(p->env[i], "PATH", 4))
			pl->path_env = arena_str(a, p->env[i] + 5);
}

static void fill(struct plan *pl, const struct rt_exec_child_in *in, int last_cap,
		 struct arena *a)
{
	const struct rt_process *p = in->p;

	*pl = (struct plan){
	    .stdio = {in->stdio[0], in->stdio[1], in->stdio[2]},
	    .sync_fd = in->sync_fd,
	    .init_pidfd = in->init_pidfd,
	    .ns_flags = in->ns_flags,
	    .terminal = p->terminal,
	    .sig_reset = rt_proc_signals_to_reset(),
	    .umask = p->has_umask ? p->umask : 022,
	    .seccomp_early = in->seccomp_early,
	    .uid = p->uid,
	    .gid = p->gid,
	    .last_cap = last_cap,
	    .no_new_privs = p->no_new_privileges,
	};
	if (in->cg) {
		size_t n = rt_cgroup_join_steps(in->cg, in->born_in_place, NULL, arena_join, a);

		pl->join = arena_alloc(a, n * sizeof(*pl->join));
		pl->n_join = rt_cgroup_join_steps(in->cg, in->born_in_place, pl->join, arena_join, a);
	}
	pl->cwd = arena_str(a, p->cwd && p->cwd[0] ? p->cwd : "/");
	pl->n_rlimits = p->n_rlimits;
	pl->rlimits = arena_alloc(a, p->n_rlimits * sizeof(*pl->rlimits));
	if (p->n_rlimits) /* memcpy's pointers must not be NULL, even for 0 bytes */
		memcpy(pl->rlimits, p->rlimits, p->n_rlimits * sizeof(*pl->rlimits));
	if (in->seccomp) {
		pl->filter_len = in->seccomp->len;
		pl->filter = arena_alloc(a, in->seccomp->len * sizeof(struct sock_filter));
		memcpy(pl->filter, in->seccomp->filter, in->seccomp->len * sizeof(struct sock_filter));
		pl->seccomp_flags = in->seccomp->flags;
	}
	pl->n_gids = p->n_additional_gids;
	pl->gids = arena_alloc(a, p->n_additional_gids * sizeof(gid_t));
	if (p->n_additional_gids)
		memcpy(pl->gids, p->additional_gids, p->n_additional_gids * sizeof(gid_t));
	if (p->has_caps)
		pl->caps = p->caps;
	pl->argv = arena_alloc(a, (p->n_args + 1) * sizeof(char *));
	for (size_t i = 0; i < p->n_args; i++)
		pl->argv[i] = arena_str(a, p->args[i]);
	pl->argv[p->n_args] = NULL;
	fill_env(pl, p, a);
	rt_proc_self_exe(&pl->self);
}

struct rt_exec_child *rt_exec_child_prepare(const struct rt_exec_child_in *in,
					    struct wren_err **err)
{
	size_t need = plan_size(in);
	int last_cap = rt_caps_last(err);
	struct rt_exec_child *ch;
	struct arena a;

	if (last_cap < 0)
		return NULL;
	ch = xzalloc(sizeof(*ch));
	ch->mem = xmalloc(need);
	a.cur = ch->mem;
	a.end = ch->mem + need;
	ch->plan = arena_alloc(&a, sizeof(struct plan));
	fill(ch->plan, in, last_cap, &a);
	return ch;
}

pid_t rt_exec_child_clone(struct rt_exec_child *ch, int cgroup_fd, int *pidfd)
{
	pid_t pid = rt_sys_clone3(0, cgroup_fd, pidfd);

	if (pid == 0)
		_exit(child_main(ch->plan));
	return pid;
}

void rt_exec_child_free(struct rt_exec_child *ch)
{
	if (ch == NULL)
		return;
	free(ch->mem);
	free(ch);
}
