/* The exec child: see exec_child.h. The daemon half (prepare, clone, release) is at the end. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

#define SYNC_FD	     3
#define KEEP_FD	     4
#define CHILD_STACK  (64 * 1024)
#define HELPER_STACK (16 * 1024)
#define PAGE	     4096

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
	const char *apparmor, *selinux; /* NULL: none */
	char **argv;
	char **envp; /* n_env entries, then a free slot for HOME, then NULL */
	size_t n_env;
	bool need_home;
	const char *path_env; /* the spec's PATH, or NULL */
	struct rt_self_exe self;
	bool has_oom_score_adj;
	int oom_score_adj;
	bool shared; /* the daemon's memory: rawsys.h only (a fork may use libc) */
	/* the helper thread's clone of the child (shared only) */
	struct clone_args cargs;
	int init_pidfd_ns;  /* its setns(CLONE_NEWPID) */
	volatile pid_t pid; /* written by the kernel (CLONE_PARENT_SETTID) before the child runs */
	volatile int pidfd; /* the same (CLONE_PIDFD), -1 until then */
	volatile int clone_r;  /* the helper's clone3: 1 until it returns */
	volatile int born;     /* 1 once the child runs, or the helper's clone failed (a futex) */
	volatile pid_t helper; /* the helper's tid: set at its clone, 0 once it has exited */
};

struct rlimit64_k { /* the kernel's, for prlimit64 */
	uint64_t cur, max;
};

struct rt_exec_child {
	char *map; /* guard page, stack, plan and its data */
	size_t size;
	struct plan *plan;
};

/* ==== the child ================================================================================ */

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

/* A fork goes through libc: the bench's callgrind preload must see it (valgrind refuses to raise
 * RLIMIT_NOFILE's hard limit, and a child under valgrind is always a fork); errno is its own. */
static long set_rlimit(const struct plan *pl, const struct rt_rlimit *l)
{
	struct rlimit64_k rl = {.cur = l->soft, .max = l->hard};
	struct rlimit lrl = {.rlim_cur = l->soft, .rlim_max = l->hard};

	if (pl->shared)
		return rt_raw4(SYS_prlimit64, 0, l->resource, &rl, NULL);
	return setrlimit(l->resource, &lrl) < 0 ? -errno : 0;
}

static long write_oom_score_adj(int v)
{
	struct rt_msg val;
	long fd, r;

	val.n = 0;
	rt_msg_i(&val, v);
	/* the host's /proc: the container's mount namespace is joined later */
	fd = c_open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd < 0)
		return fd;
	r = rt_raw3(SYS_write, fd, val.b, val.n);
	rt_raw1(SYS_close, fd);
	return r < 0 ? r : (size_t)r == val.n ? 0 : -EIO;
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
	if (pl->shared) { /* the daemon waits in rt_exec_child_spawn until it sees this */
		__atomic_store_n(&pl->born, 1, __ATOMIC_RELEASE);
		rt_raw3(SYS_futex, &pl->born, FUTEX_WAKE, 1);
	}
	/* born in the container's pid namespace: undumpable before anything else */
	rt_raw5(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* into the container's cgroup while the daemon's fds are still open (cgroup_join.c) */
	for (size_t i = 0; i < pl->n_join; i++) {
		if ((r = join_one(&pl->join[i])) < 0) {
			rt_msg_s(&m, "cgroup: join ");
			fail_r(pl->sync_fd, r, &m, pl->join[i].path, 1);
		}
	}
	/* its own, also in a vfork child sharing our mm: the kernel ties oom_score_adj across an mm
	 * only for a CLONE_VM child that is not a vfork (MMF_MULTIPROCESS) */
	if (pl->has_oom_score_adj && (r = write_oom_score_adj(pl->oom_score_adj)) < 0) {
		rt_msg_s(&m, "write oom_score_adj ");
		rt_msg_i(&m, pl->oom_score_adj);
		fail_r(pl->sync_fd, r, &m, "", 1);
	}
	if ((r = setup_fds(pl)) < 0)
		fail_r(pl->sync_fd, r, &m, "set up stdio", 1);

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
		rt_msg_s(
		    &m, "current working directory is outside of container mount namespace root -- "
			"possible container breakout detected");
		fail(SYNC_FD, 0, &m, 1);
	}
	for (size_t i = 0; i < pl->n_rlimits; i++) {
		if ((r = set_rlimit(pl, &pl->rlimits[i])) < 0) {
			rt_msg_s(&m, "setrlimit ");
			rt_msg_i(&m, pl->rlimits[i].resource);
			fail_r(SYNC_FD, r, &m, "", 1);
		}
	}
	if ((pl->apparmor || pl->selinux) &&
	    (r = rt_raw_lsm_exec_labels(pl->apparmor, pl->selinux, &m)) < 0)
		fail(SYNC_FD, (int)-r, &m, 1);
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

/* ==== the helper thread ======================================================================
 * Made by the daemon's thread for one exec (rt_exec_child_spawn), on its own stack in the child's
 * mapping and on the daemon's TLS, which it never writes: rawsys.h syscalls only. */

static int helper_main(void *arg)
{
	struct plan *pl = arg;
	struct rt_msg m;
	long r;

	m.n = 0;
	/* its children are born in the container's pid namespace; the daemon's thread stays out */
	r = rt_raw2(SYS_setns, pl->init_pidfd_ns, CLONE_NEWPID);
	if (r < 0) {
		rt_msg_s(&m, "exec: the container's init is gone: enter pid namespace: ");
		rt_msg_errno(&m, (int)-r, false);
	} else {
		/* returns when the child has execve'd or died: CLONE_VFORK */
		r = rt_raw_clone3_run(&pl->cargs, sizeof(pl->cargs), child_main, pl);
		if (r < 0) {
			rt_msg_s(&m, "clone3: ");
			rt_msg_errno(&m, (int)-r, false);
		}
	}
	if (r < 0) { /* for the daemon, waiting in rt_exec_child_spawn */
		rt_sync_send_raw(pl->sync_fd, RT_MSG_ERROR, (int)-r, m.b, m.n);
		__atomic_store_n(&pl->clone_r, (int)r, __ATOMIC_RELEASE);
		__atomic_store_n(&pl->born, 1, __ATOMIC_RELEASE);
		rt_raw3(SYS_futex, &pl->born, FUTEX_WAKE, 1);
	} else {
		__atomic_store_n(&pl->clone_r, 0, __ATOMIC_RELEASE);
	}
	for (;;) /* this thread only; the kernel clears pl->helper and wakes its futex */
		rt_raw1(SYS_exit, 0);
	return 0;
}

/* ==== the daemon ===============================================================================
 * One mapping per child: [guard page][child's stack][guard page][helper's stack][plan and its
 * data]. The last one freed is kept for the next exec (its pages are already there), unless a
 * child or a helper still uses it. */

/* Sanitizer runtimes keep per-thread state the child would share with the daemon (and check the
 * stack it runs on): fork there. */
#if RT_RAW_SHARED_VM && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define SHARED_VM_POSSIBLE true
#else
#define SHARED_VM_POSSIBLE false
#endif
static bool shared_vm = SHARED_VM_POSSIBLE;
static struct rt_exec_child *spare;

bool rt_exec_child_set_shared_vm(bool on)
{
	bool was = shared_vm;

	shared_vm = on && SHARED_VM_POSSIBLE;
	return was;
}

bool rt_exec_child_shares(void)
{
	return shared_vm;
}

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
			rt_cgroup_join_steps(in->cg, in->born_in_place, steps, measure_join,
					     &paths);
		else
			paths = n_join * (PATH_MAX + 16);
	}
	n += ALIGN16(n_join * sizeof(struct rt_cgroup_join_step)) + paths;
	n += ALIGN16(strlen(p->cwd && p->cwd[0] ? p->cwd : "/") + 1);
	n += ALIGN16(p->n_rlimits * sizeof(struct rt_rlimit));
	if (in->seccomp)
		n += ALIGN16(in->seccomp->len * sizeof(struct sock_filter));
	n += ALIGN16(p->n_additional_gids * sizeof(gid_t));
	if (p->apparmor_profile && p->apparmor_profile[0])
		n += ALIGN16(strlen(p->apparmor_profile) + 1);
	if (p->selinux_label && p->selinux_label[0])
		n += ALIGN16(strlen(p->selinux_label) + 1);
	n += ALIGN16((p->n_args + 1) * sizeof(char *));
	for (size_t i = 0; i < p->n_args; i++)
		n += ALIGN16(strlen(p->args[i]) + 1);
	n += ALIGN16((p->n_env + 2) * sizeof(char *));
	for (size_t i = 0; i < p->n_env; i++)
		n += ALIGN16(strlen(p->env[i]) + 1) +
		     (strncmp(p->env[i], "PATH=", 5) == 0 ? ALIGN16(strlen(p->env[i]) + 1) : 0);
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
				memmove(&pl->envp[j], &pl->envp[j + 1],
					(n - j - 1) * sizeof(char *));
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

static void fill(struct plan *pl, const struct rt_exec_child_in *in, int last_cap, struct arena *a)
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
	    .has_oom_score_adj = p->has_oom_score_adj,
	    .oom_score_adj = p->oom_score_adj,
	    .init_pidfd_ns = in->init_pidfd,
	    .pidfd = -1,
	    .clone_r = 1,
	};
	if (in->cg) {
		size_t n = rt_cgroup_join_steps(in->cg, in->born_in_place, NULL, arena_join, a);

		pl->join = arena_alloc(a, n * sizeof(*pl->join));
		pl->n_join =
		    rt_cgroup_join_steps(in->cg, in->born_in_place, pl->join, arena_join, a);
	}
	pl->cwd = arena_str(a, p->cwd && p->cwd[0] ? p->cwd : "/");
	pl->n_rlimits = p->n_rlimits;
	pl->rlimits = arena_alloc(a, p->n_rlimits * sizeof(*pl->rlimits));
	if (p->n_rlimits) /* memcpy's pointers must not be NULL, even for 0 bytes */
		memcpy(pl->rlimits, p->rlimits, p->n_rlimits * sizeof(*pl->rlimits));
	if (in->seccomp) {
		pl->filter_len = in->seccomp->len;
		pl->filter = arena_alloc(a, in->seccomp->len * sizeof(struct sock_filter));
		memcpy(pl->filter, in->seccomp->filter,
		       in->seccomp->len * sizeof(struct sock_filter));
		pl->seccomp_flags = in->seccomp->flags;
	}
	pl->n_gids = p->n_additional_gids;
	pl->gids = arena_alloc(a, p->n_additional_gids * sizeof(gid_t));
	if (p->n_additional_gids)
		memcpy(pl->gids, p->additional_gids, p->n_additional_gids * sizeof(gid_t));
	if (p->has_caps)
		pl->caps = p->caps;
	if (p->apparmor_profile && p->apparmor_profile[0])
		pl->apparmor = arena_str(a, p->apparmor_profile);
	if (p->selinux_label && p->selinux_label[0])
		pl->selinux = arena_str(a, p->selinux_label);
	pl->argv = arena_alloc(a, (p->n_args + 1) * sizeof(char *));
	for (size_t i = 0; i < p->n_args; i++)
		pl->argv[i] = arena_str(a, p->args[i]);
	pl->argv[p->n_args] = NULL;
	fill_env(pl, p, a);
	rt_proc_self_exe(&pl->self);
}

static void unmap(struct rt_exec_child *ch)
{
	munmap(ch->map, ch->size);
	free(ch);
}

#define CHILD_STACK_AT	PAGE
#define HELPER_STACK_AT (PAGE + CHILD_STACK + PAGE)
#define PLAN_AT		(HELPER_STACK_AT + HELPER_STACK)

struct rt_exec_child *rt_exec_child_prepare(const struct rt_exec_child_in *in,
					    struct wren_err **err)
{
	size_t need = PLAN_AT + plan_size(in);
	int last_cap = rt_caps_last(err);
	struct rt_exec_child *ch;
	struct arena a;

	if (last_cap < 0)
		return NULL;
	need = (need + PAGE - 1) & ~(size_t)(PAGE - 1);
	if (spare && spare->size >= need) {
		ch = spare;
		spare = NULL;
	} else {
		ch = xzalloc(sizeof(*ch));
		ch->size = need;
		ch->map = mmap(NULL, need, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (ch->map == MAP_FAILED) {
			free(ch);
			wren_err_errno(err, errno, "exec: map the child's stack");
			return NULL;
		}
		/* a guard page under each stack: an overflow faults instead of writing the daemon's
		 * memory below, or the other stack */
		if (mprotect(ch->map, PAGE, PROT_NONE) < 0 ||
		    mprotect(ch->map + CHILD_STACK_AT + CHILD_STACK, PAGE, PROT_NONE) < 0) {
			wren_err_errno(err, errno, "exec: guard the child's stack");
			unmap(ch);
			return NULL;
		}
	}
	a.cur = ch->map + PLAN_AT;
	a.end = ch->map + ch->size;
	ch->plan = arena_alloc(&a, sizeof(struct plan));
	fill(ch->plan, in, last_cap, &a);
	return ch;
}

pid_t rt_exec_child_spawn(struct rt_exec_child *ch, int cgroup_fd, int *pidfd)
{
#if RT_RAW_SHARED_VM
	struct plan *pl = ch->plan;
	struct clone_args t;
	long r;

	pl->shared = true;
	memset(&pl->cargs, 0, sizeof(pl->cargs));
	/* a vfork child: see exec_child.h for why both flags, and never CLONE_VM alone */
	pl->cargs.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_PARENT_SETTID;
	pl->cargs.pidfd = (uint64_t)(uintptr_t)&pl->pidfd;
	pl->cargs.parent_tid = (uint64_t)(uintptr_t)&pl->pid;
	pl->cargs.exit_signal = SIGCHLD;
	pl->cargs.stack = (uint64_t)(uintptr_t)(ch->map + CHILD_STACK_AT);
	pl->cargs.stack_size = CHILD_STACK;
	if (cgroup_fd >= 0) {
		pl->cargs.flags |= CLONE_INTO_CGROUP;
		pl->cargs.cgroup = (uint64_t)cgroup_fd;
	}
	/* the helper: a thread (no CLONE_SETTLS: it runs on our TLS and never writes it) */
	memset(&t, 0, sizeof(t));
	t.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
		  CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	t.parent_tid = (uint64_t)(uintptr_t)&pl->helper;
	t.child_tid = (uint64_t)(uintptr_t)&pl->helper;
	t.stack = (uint64_t)(uintptr_t)(ch->map + HELPER_STACK_AT);
	t.stack_size = HELPER_STACK;
	r = rt_raw_clone3_run(&t, sizeof(t), helper_main, pl);
	if (r < 0)
		return (pid_t)r;
	/* Until the kernel has made the child (its copy of our fds taken: the caller may close its
	 * own after we return) or the clone has failed. The child's first step wakes us; one that
	 * cannot run yet (born in a frozen cgroup) was made all the same, which the timeout sees. */
	for (;;) {
		pid_t pid = rt_exec_child_pid(ch, false, pidfd);
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 200 * 1000};

		if (pid != 0)
			return pid > 0 ? pid : 0;
		syscall(SYS_futex, &pl->born, FUTEX_WAIT, 0, &ts, NULL, 0);
	}
#else
	(void)ch;
	(void)cgroup_fd;
	(void)pidfd;
	return -ENOSYS;
#endif
}

pid_t rt_exec_child_fork(struct rt_exec_child *ch, int cgroup_fd, int *pidfd)
{
	pid_t pid;

	ch->plan->shared = false;
	pid = rt_sys_clone3(0, cgroup_fd, pidfd);
	if (pid == 0)
		_exit(child_main(ch->plan));
	return pid;
}

pid_t rt_exec_child_pid(struct rt_exec_child *ch, bool wait, int *pidfd)
{
	struct plan *pl = ch->plan;

	for (;;) {
		/* the outcome first: the kernel's write of the pid comes before either */
		bool over = __atomic_load_n(&pl->clone_r, __ATOMIC_ACQUIRE) != 1 ||
			    __atomic_load_n(&pl->helper, __ATOMIC_ACQUIRE) == 0;
		pid_t pid = __atomic_load_n(&pl->pid, __ATOMIC_ACQUIRE);

		if (pid > 0) {
			/* the kernel wrote the pidfd (and installed it) before the pid */
			*pidfd = __atomic_load_n(&pl->pidfd, __ATOMIC_ACQUIRE);
			return pid;
		}
		if (over)
			return -1;
		if (!wait)
			return 0;
		sched_yield();
	}
}

void rt_exec_child_release(struct rt_exec_child *ch)
{
	pid_t tid;

	if (ch == NULL)
		return;
	/* the helper's last steps after its close run on this mapping's stack */
	while ((tid = __atomic_load_n(&ch->plan->helper, __ATOMIC_ACQUIRE)) != 0)
		syscall(SYS_futex, &ch->plan->helper, FUTEX_WAIT, tid, NULL, NULL, 0);
	if (spare == NULL && ch->size <= 4 * PLAN_AT) {
		spare = ch;
		return;
	}
	if (spare && spare->size < ch->size) { /* keep the larger */
		unmap(spare);
		spare = ch;
		return;
	}
	unmap(ch);
}
