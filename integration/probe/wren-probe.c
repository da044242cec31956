/*
 * wren-probe: a static multi-call helper run inside test containers.
 *
 * Every subcommand prints facts as "key=value" lines, one per line, so that the
 * integration tests assert on facts instead of on busybox output formats.
 * Build: cc -static -O2 -o wren-probe wren-probe.c
 *
 *   ids                 uid= gid= euid= egid= groups=<comma list, sorted as the kernel returns>
 *   caps                inh= prm= eff= bnd= amb= (16 hex digits, from /proc/self/status)
 *   seccomp             seccomp=<0|1|2>
 *   nnp                 nnp=<0|1>
 *   pid                 pid= ppid=
 *   hostname            hostname=
 *   cwd                 cwd=
 *   fds                 fds=<comma list of open fds, not counting the one used to list>
 *   cgroup              cgroup=<line> for each line of /proc/self/cgroup
 *   rofs PATH           rofs=<1|0> errno=<name or 0>: 1 when writing fails with EROFS (PATH a directory:
 *                       create a file in it; otherwise open PATH for writing)
 *   read PATH           read=<bytes read up to 1 MiB> errno=<name or 0>
 *   rlimit NAME         soft= hard= (NOFILE, NPROC, CORE, STACK, AS, MEMLOCK; "unlimited" for infinity)
 *   env NAME            env=<value> or env-unset=1
 *   sleep N             sleeps N seconds (fractions allowed), prints nothing
 *   exit N              exits with status N
 *   trap-term           prints "ready=1", then waits; on SIGTERM prints "got TERM" and exits 0
 *   write-bytes N       writes N bytes of the pattern "0123456789abcdef" repeated to stdout
 *
 * Environment: WREN_PROBE_LINGER_MS=N waits N ms after the output before exiting (see linger()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

static const char *errname(int e)
{
	switch (e) {
	case 0:
		return "0";
	case EROFS:
		return "EROFS";
	case EACCES:
		return "EACCES";
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case EEXIST:
		return "EEXIST";
	case EIO:
		return "EIO";
	case EINVAL:
		return "EINVAL";
	case ENOTDIR:
		return "ENOTDIR";
	case EISDIR:
		return "EISDIR";
	case ENOSPC:
		return "ENOSPC";
	default:
		return "other";
	}
}

static int usage(void)
{
	fputs("usage: wren-probe ids|caps|seccomp|nnp|pid|hostname|cwd|fds|cgroup|"
	      "rofs PATH|read PATH|rlimit NAME|env NAME|sleep N|exit N|trap-term|write-bytes N\n",
	      stderr);
	return 2;
}

/* Print the value of "Key:" from /proc/self/status, trimmed, as "name=value". */
static int status_field(const char *key, const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[512];
	size_t kl = strlen(key);
	int found = 0;

	if (!f) {
		perror("wren-probe: /proc/self/status");
		return 1;
	}
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			char *v = line + kl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\n")] = 0;
			printf("%s=%s\n", name, v);
			found = 1;
			break;
		}
	}
	fclose(f);
	if (!found)
		printf("%s=missing\n", name);
	return 0;
}

static int cmd_ids(void)
{
	gid_t groups[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, groups);

	if (n < 0) {
		perror("wren-probe: getgroups");
		return 1;
	}
	printf("uid=%u\ngid=%u\neuid=%u\negid=%u\ngroups=", (unsigned)getuid(), (unsigned)getgid(),
	       (unsigned)geteuid(), (unsigned)getegid());
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", (unsigned)groups[i]);
	putchar('\n');
	return 0;
}

static int cmd_caps(void)
{
	return status_field("CapInh", "inh") | status_field("CapPrm", "prm") |
	       status_field("CapEff", "eff") | status_field("CapBnd", "bnd") |
	       status_field("CapAmb", "amb");
}

static int cmd_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int self, fds[1024], n = 0;

	if (!d) {
		perror("wren-probe: /proc/self/fd");
		return 1;
	}
	self = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		char *end;
		long v;
		if (e->d_name[0] == '.')
			continue;
		v = strtol(e->d_name, &end, 10);
		if (*end || v == self || n == (int)(sizeof fds / sizeof fds[0]))
			continue;
		fds[n++] = (int)v;
	}
	closedir(d);
	/* insertion sort: readdir order is not guaranteed */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	fputs("fds=", stdout);
	for (int i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", fds[i]);
	putchar('\n');
	return 0;
}

static int cmd_cgroup(void)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[4096];

	if (!f) {
		perror("wren-probe: /proc/self/cgroup");
		return 1;
	}
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		printf("cgroup=%s\n", line);
	}
	fclose(f);
	return 0;
}

static int cmd_rofs(const char *path)
{
	char tmp[PATH_MAX];
	struct stat st;
	int fd, e = 0;

	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
		/* an existing file: open it for writing, without truncating */
		fd = open(path, O_WRONLY);
	} else {
		/* a directory: create a file in it */
		snprintf(tmp, sizeof tmp, "%s/.wren-probe-rofs.%d", path, (int)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd >= 0)
			unlink(tmp);
	}
	if (fd < 0)
		e = errno;
	else
		close(fd);
	printf("rofs=%d\nerrno=%s\n", e == EROFS, errname(e));
	return 0;
}

static int cmd_read(const char *path)
{
	char buf[65536];
	long total = 0;
	int e = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		e = errno;
	} else {
		for (;;) {
			ssize_t r = read(fd, buf, sizeof buf);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				e = errno;
				break;
			}
			if (r == 0)
				break;
			total += r;
			if (total >= 1L << 20)
				break;
		}
		close(fd);
	}
	printf("read=%ld\nerrno=%s\n", total, errname(e));
	return 0;
}

static int cmd_rlimit(const char *name)
{
	static const struct {
		const char *name;
		int res;
	} tab[] = {
	    {"NOFILE", RLIMIT_NOFILE}, {"NPROC", RLIMIT_NPROC}, {"CORE", RLIMIT_CORE},
	    {"STACK", RLIMIT_STACK},   {"AS", RLIMIT_AS},	{"MEMLOCK", RLIMIT_MEMLOCK},
	};
	const char *n = strncmp(name, "RLIMIT_", 7) == 0 ? name + 7 : name;

	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		struct rlimit rl;
		if (strcmp(n, tab[i].name) != 0)
			continue;
		if (getrlimit(tab[i].res, &rl) < 0) {
			perror("wren-probe: getrlimit");
			return 1;
		}
		if (rl.rlim_cur == RLIM_INFINITY)
			puts("soft=unlimited");
		else
			printf("soft=%llu\n", (unsigned long long)rl.rlim_cur);
		if (rl.rlim_max == RLIM_INFINITY)
			puts("hard=unlimited");
		else
			printf("hard=%llu\n", (unsigned long long)rl.rlim_max);
		return 0;
	}
	fprintf(stderr, "wren-probe: unknown rlimit %s\n", name);
	return 2;
}

static void sleep_seconds(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * WREN_PROBE_LINGER_MS: wait this long after the output before exiting. ctr 1.6 closes its end of the
 * stdout FIFO as soon as it sees the exit, dropping what it has not read yet (seen with runc on a loaded
 * machine: about 2 runs in 100 lost "echo hello"); tests that assert on output set it.
 */
static void linger(void)
{
	const char *v = getenv("WREN_PROBE_LINGER_MS");
	long ms = v ? strtol(v, NULL, 10) : 0;

	if (ms > 0)
		sleep_seconds((double)ms / 1000.0);
}

static void on_term(int sig)
{
	static const char msg[] = "got TERM\n";
	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof msg - 1) < 0)
		_exit(1);
	linger();
	_exit(0);
}

static int cmd_trap_term(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0) {
		perror("wren-probe: sigaction");
		return 1;
	}
	puts("ready=1");
	fflush(stdout);
	for (;;)
		pause();
}

static int cmd_write_bytes(const char *arg)
{
	static const char pat[] = "0123456789abcdef";
	static char buf[65536 + 16];
	long long left = strtoll(arg, NULL, 10), off = 0;

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = pat[i % 16];
	while (left > 0) {
		/* start each write at the pattern position of the stream offset */
		size_t chunk = left > 65536 ? 65536 : (size_t)left;
		ssize_t w = write(STDOUT_FILENO, buf + off % 16, chunk);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			perror("wren-probe: write");
			return 1;
		}
		left -= w;
		off += w;
	}
	return 0;
}

static int dispatch(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	if (strcmp(cmd, "ids") == 0)
		return cmd_ids();
	if (strcmp(cmd, "caps") == 0)
		return cmd_caps();
	if (strcmp(cmd, "seccomp") == 0)
		return status_field("Seccomp", "seccomp");
	if (strcmp(cmd, "nnp") == 0)
		return status_field("NoNewPrivs", "nnp");
	if (strcmp(cmd, "pid") == 0) {
		printf("pid=%d\nppid=%d\n", (int)getpid(), (int)getppid());
		return 0;
	}
	if (strcmp(cmd, "hostname") == 0) {
		char h[256] = "";
		if (gethostname(h, sizeof h - 1) < 0) {
			perror("wren-probe: gethostname");
			return 1;
		}
		printf("hostname=%s\n", h);
		return 0;
	}
	if (strcmp(cmd, "cwd") == 0) {
		char p[PATH_MAX];
		if (!getcwd(p, sizeof p)) {
			perror("wren-probe: getcwd");
			return 1;
		}
		printf("cwd=%s\n", p);
		return 0;
	}
	if (strcmp(cmd, "fds") == 0)
		return cmd_fds();
	if (strcmp(cmd, "cgroup") == 0)
		return cmd_cgroup();
	if (strcmp(cmd, "trap-term") == 0)
		return cmd_trap_term();
	if (argc < 3)
		return usage();
	if (strcmp(cmd, "rofs") == 0)
		return cmd_rofs(argv[2]);
	if (strcmp(cmd, "read") == 0)
		return cmd_read(argv[2]);
	if (strcmp(cmd, "rlimit") == 0)
		return cmd_rlimit(argv[2]);
	if (strcmp(cmd, "env") == 0) {
		const char *v = getenv(argv[2]);
		if (v)
			printf("env=%s\n", v);
		else
			puts("env-unset=1");
		return 0;
	}
	if (strcmp(cmd, "sleep") == 0) {
		sleep_seconds(strtod(argv[2], NULL));
		return 0;
	}
	if (strcmp(cmd, "exit") == 0)
		return atoi(argv[2]);
	if (strcmp(cmd, "write-bytes") == 0)
		return cmd_write_bytes(argv[2]);
	return usage();
}

int main(int argc, char **argv)
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = dispatch(argc, argv);
	fflush(stdout);
	linger();
	return rc;
}
