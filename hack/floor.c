/* floor: the kernel work of one container's life with none of the protocol, the yardstick
 * `make bench` holds the shim against (docs/performance.md, "kernel floor").
 *
 *   floor -dir DIR -lower ROOTFS [-n N] [-warmup N] [-cgparent /PATH] [-cpuacct CGDIR]
 *
 * Per iteration, for the same bundle shape wren-shimbench uses (ctr's default spec, /bin/true):
 * mount an overlay (lowerdir=ROOTFS, fresh upper/work) on DIR/<id>/rootfs; create the cgroup
 * CGPARENT/<id> in every v1 hierarchy (cpuset initialised, devices: deny all then runc's default
 * allow list); clone into new pid, ipc, uts, mount and network namespaces; attach the child to the
 * cgroups; in the child: make / private, bind the rootfs, mount the spec's /proc /dev /dev/pts
 * /dev/shm /dev/mqueue /sys /run, create the default device nodes and links, mask and read-only
 * the spec's paths, pivot_root, set RLIMIT_NOFILE, drop capabilities to the spec's set,
 * no_new_privs, execve /bin/true; wait; remove the cgroups; unmount the rootfs.
 * Output per measured iteration (tab separated, ns): iter wall cpu, cpu = cpuacct usage of
 * CGDIR (this process moves itself there) over the iteration, or -1 without -cpuacct. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *opt_dir, *opt_lower, *opt_cgparent = "/wren-floor", *opt_cpuacct;
static int opt_n = 10, opt_warmup = 1;
static char hier[16][256];
static int n_hier;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "floor: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = write(fd, s, strlen(s));
	close(fd);
	return r == (ssize_t)strlen(s) ? 0 : -1;
}

static int read_str(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = 0;
	return 0;
}

static int64_t cpuacct_usage(void)
{
	char path[PATH_MAX], buf[64];

	if (!opt_cpuacct)
		return -1;
	snprintf(path, sizeof(path), "%s/cpuacct.usage", opt_cpuacct);
	if (read_str(path, buf, sizeof(buf)) < 0)
		die("read %s", path);
	return strtoll(buf, NULL, 10);
}

/* The v1 hierarchies (a `tasks` file at their root), as runc joins them all. */
static void find_hierarchies(void)
{
	DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *e;

	if (!d)
		die("opendir /sys/fs/cgroup");
	while ((e = readdir(d)) && n_hier < 16) {
		char p[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/fs/cgroup/%s/tasks", e->d_name);
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
			snprintf(hier[n_hier++], sizeof(hier[0]), "/sys/fs/cgroup/%s", e->d_name);
	}
	closedir(d);
}

/* mkdir -p under a hierarchy; new cpuset levels get their parent's cpus and mems. */
static void cg_mkdir(const char *h, const char *rel)
{
	char path[PATH_MAX], parent[PATH_MAX], buf[256];
	const char *p = rel;

	snprintf(path, sizeof(path), "%s", h);
	while (*p) {
		const char *slash;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		snprintf(parent, sizeof(parent), "%s", path);
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%.*s", (int)len, p);
		p += len;
		if (mkdir(path, 0755) == 0 && strstr(h, "cpuset")) {
			static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};

			for (int i = 0; i < 2; i++) {
				char a[PATH_MAX + 32], b[PATH_MAX + 32];

				snprintf(a, sizeof(a), "%s/%s", parent, files[i]);
				snprintf(b, sizeof(b), "%s/%s", path, files[i]);
				if (read_str(a, buf, sizeof(buf)) == 0)
					write_str(b, buf);
			}
		} else if (errno != EEXIST && access(path, F_OK) != 0) {
			die("mkdir %s", path);
		}
	}
}

static const char *const dev_allow[] = {
    "c *:* m",	 "b *:* m",   "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",   "c 1:8 rwm",
    "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
};

static void cg_create(const char *rel)
{
	char p[PATH_MAX + 32];

	for (int i = 0; i < n_hier; i++) {
		cg_mkdir(hier[i], rel);
		if (strstr(hier[i], "devices")) {
			snprintf(p, sizeof(p), "%s%s/devices.deny", hier[i], rel);
			write_str(p, "a");
			snprintf(p, sizeof(p), "%s%s/devices.allow", hier[i], rel);
			for (size_t j = 0; j < sizeof(dev_allow) / sizeof(dev_allow[0]); j++)
				write_str(p, dev_allow[j]);
		}
	}
}

static void cg_attach(const char *rel, pid_t pid)
{
	char p[PATH_MAX + 32], s[32];

	snprintf(s, sizeof(s), "%d", (int)pid);
	for (int i = 0; i < n_hier; i++) {
		snprintf(p, sizeof(p), "%s%s/cgroup.procs", hier[i], rel);
		if (write_str(p, s) < 0)
			die("attach %s", p);
	}
}

static void cg_remove(const char *rel)
{
	char p[PATH_MAX + 32];

	for (int i = 0; i < n_hier; i++) {
		snprintf(p, sizeof(p), "%s%s", hier[i], rel);
		rmdir(p);
	}
}

/* ---- the child: what runc's init (or wren's clone) does before execve ----------------------- */

struct mnt {
	const char *dst, *type, *src;
	unsigned long flags;
	const char *data;
};

static const struct mnt mounts[] = {
    {"/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL},
    {"/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
    {"/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
     "newinstance,ptmxmode=0666,mode=0620,gid=5"},
    {"/dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"},
    {"/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL},
    {"/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL},
    {"/run", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
};

static const char *const masked[] = {
    "/proc/acpi",	   "/proc/asound",     "/proc/kcore",	    "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/sys/firmware",	   "/proc/scsi",
};
static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
				       "/proc/sysrq-trigger"};

static const struct {
	const char *name;
	unsigned maj, min;
} devices[] = {{"null", 1, 3},	 {"zero", 1, 5},    {"full", 1, 7},
	       {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

static const int keep_caps[] = {CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,	     CAP_FOWNER,
				CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,	     CAP_SETUID,
				CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
				CAP_KILL,    CAP_AUDIT_WRITE};

static void child_fail(const char *what)
{
	dprintf(2, "floor: child: %s: %s\n", what, strerror(errno));
	_exit(126);
}

static void child(const char *rootfs, int sync_fd)
{
	char c, p[PATH_MAX];
	struct rlimit rl = {1024, 1024};
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	uint64_t keep = 0;
	char *const argv[] = {"/bin/true", NULL};
	char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			      NULL};

	if (read(sync_fd, &c, 1) != 1)
		_exit(125);
	close(sync_fd);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail("make / private");
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		child_fail("bind rootfs");
	if (chdir(rootfs) < 0)
		child_fail("chdir rootfs");
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		snprintf(p, sizeof(p), ".%s", mounts[i].dst);
		mkdir(p, 0755);
		if (mount(mounts[i].src, p, mounts[i].type, mounts[i].flags, mounts[i].data) < 0)
			child_fail(mounts[i].dst);
	}
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		snprintf(p, sizeof(p), "./dev/%s", devices[i].name);
		if (mknod(p, S_IFCHR | 0666, makedev(devices[i].maj, devices[i].min)) < 0)
			child_fail("mknod");
		chown(p, 0, 0);
	}
	symlink("/proc/self/fd", "./dev/fd");
	symlink("/proc/self/fd/0", "./dev/stdin");
	symlink("/proc/self/fd/1", "./dev/stdout");
	symlink("/proc/self/fd/2", "./dev/stderr");
	symlink("pts/ptmx", "./dev/ptmx");
	symlink("/proc/kcore", "./dev/core");
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
		struct stat st;

		snprintf(p, sizeof(p), ".%s", masked[i]);
		if (stat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL);
		else
			mount("./dev/null", p, NULL, MS_BIND, NULL);
	}
	for (size_t i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++) {
		snprintf(p, sizeof(p), ".%s", readonly[i]);
		if (access(p, F_OK) < 0)
			continue;
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) == 0)
			mount(p, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL);
	}
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		child_fail("umount old root");
	if (chdir("/") < 0)
		child_fail("chdir /");
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		child_fail("setrlimit");
	for (size_t i = 0; i < sizeof(keep_caps) / sizeof(keep_caps[0]); i++)
		keep |= 1ull << keep_caps[i];
	for (int cap = 0; cap <= 63; cap++)
		if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			child_fail("capbset drop");
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		child_fail("capset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail("no_new_privs");
	execve(argv[0], argv, envp);
	child_fail("execve");
}

/* ---- one iteration ----------------------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void one(int iter, int print)
{
	char base[PATH_MAX], rootfs[PATH_MAX + 8], upper[PATH_MAX + 8], work[PATH_MAX + 8],
	    opts[3 * PATH_MAX + 64], cg[PATH_MAX];
	uint64_t t0, t1;
	int64_t c0, c1;
	int sync[2], status;
	pid_t pid;

	snprintf(base, sizeof(base), "%s/f%d-%d", opt_dir, (int)getpid(),
		 iter < 0 ? 1000 - iter : iter);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", base);
	snprintf(upper, sizeof(upper), "%s/upper", base);
	snprintf(work, sizeof(work), "%s/work", base);
	snprintf(cg, sizeof(cg), "%s/f%d-%d", opt_cgparent, (int)getpid(),
		 iter < 0 ? 1000 - iter : iter);
	if (mkdir(base, 0711) < 0 || mkdir(rootfs, 0711) < 0 || mkdir(upper, 0755) < 0 ||
	    mkdir(work, 0755) < 0)
		die("mkdir %s", base);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", opt_lower, upper, work);

	c0 = cpuacct_usage();
	t0 = now_ns();
	if (mount("overlay", rootfs, "overlay", 0, opts) < 0)
		die("mount overlay");
	cg_create(cg);
	if (pipe2(sync, O_CLOEXEC) < 0)
		die("pipe");
	pid = (pid_t)syscall(SYS_clone,
			     CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
				 CLONE_NEWNET | SIGCHLD,
			     NULL, NULL, NULL, NULL);
	if (pid < 0)
		die("clone");
	if (pid == 0) {
		close(sync[1]);
		child(rootfs, sync[0]);
	}
	close(sync[0]);
	cg_attach(cg, pid);
	if (write(sync[1], "x", 1) != 1)
		die("sync");
	close(sync[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = 0;
		die("container exited with 0x%x", status);
	}
	cg_remove(cg);
	if (umount2(rootfs, 0) < 0)
		die("umount %s", rootfs);
	t1 = now_ns();
	c1 = cpuacct_usage();
	if (print)
		printf("%d\t%llu\t%lld\n", iter, (unsigned long long)(t1 - t0),
		       c0 < 0 ? -1LL : (long long)(c1 - c0));
	fflush(stdout);
	nftw(base, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int main(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];

		if (strcmp(a, "-dir") == 0)
			opt_dir = v;
		else if (strcmp(a, "-lower") == 0)
			opt_lower = v;
		else if (strcmp(a, "-n") == 0)
			opt_n = atoi(v);
		else if (strcmp(a, "-warmup") == 0)
			opt_warmup = atoi(v);
		else if (strcmp(a, "-cgparent") == 0)
			opt_cgparent = v;
		else if (strcmp(a, "-cpuacct") == 0)
			opt_cpuacct = v;
		else {
			errno = EINVAL;
			die("unknown flag %s", a);
		}
	}
	if (!opt_dir || !opt_lower) {
		errno = EINVAL;
		die("usage: floor -dir DIR -lower ROOTFS [-n N] [-warmup N] [-cgparent /P] "
		    "[-cpuacct D]");
	}
	find_hierarchies();
	if (opt_cpuacct) {
		char p[PATH_MAX], s[32];

		snprintf(p, sizeof(p), "%s/cgroup.procs", opt_cpuacct);
		snprintf(s, sizeof(s), "%d", (int)getpid());
		if (write_str(p, s) < 0)
			die("join %s", p);
	}
	for (int i = 0; i < opt_warmup; i++)
		one(-1 - i, 0);
	for (int i = 0; i < opt_n; i++)
		one(i, 1);
	return 0;
}
