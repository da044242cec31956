/* wren-shimbench: drive a shim v2 binary the way containerd 1.6 does, with no containerd, and
 * time each container's whole life. For `make bench` (hack/bench), see docs/performance.md.
 *
 *   wren-shimbench -shim PATH -dir DIR -template CONFIG.JSON -lower ROOTFS [-n N] [-exec]
 *                  [-ns NS] [-cgparent /PATH] [-cpuacct DIR] [-warmup N] [-wrap PROGRAM]
 *
 * Per iteration, with a fresh bundle DIR/<id>/ (config.json from the template with
 * linux.cgroupsPath = CGPARENT/<id>, empty rootfs/, a `log` FIFO we hold open) and an overlay
 * (lowerdir=ROOTFS, fresh upper and work dirs) as Create's rootfs:
 *   `SHIM -namespace NS -id ID -address GRPC -publish-binary X start` (cwd = bundle,
 *   TTRPC_ADDRESS = our own events stub), then on one ttrpc connection Create, Connect, Start,
 *   Wait, Delete, Shutdown, then `SHIM … -bundle B delete`.
 * With -exec the init is the template's process (a sleeper) and an exec of /bin/true is added:
 *   Exec, Start, Wait, Delete (exec), then Kill(KILL), Wait, Delete of the init.
 * The template's process.args are used as given (hack/bench makes them /bin/true or sleep).
 *
 * Output, one line per measured iteration (tab separated, nanoseconds):
 *   iter wall cpu t_start_action t_create t_start t_wait t_exec t_delete t_shutdown t_delete_action
 *   cpu_api
 * wall is the whole cycle up to the end of the delete action; cpu is the CPU charged to -cpuacct
 * DIR (this process moves itself there, so shims, runtimes and containers are counted) minus this
 * process's own CPU, or -1 without -cpuacct. The daemon's exit is awaited (outside wall) before
 * cpu is read: we are the subreaper the daemon falls back to. cpu_api is the same count from the
 * end of the start action to the Delete reply: the task API's part of the cycle, without the two
 * launches of the shim binary (the start and delete actions) and the daemon's exit.
 * -wrap PROGRAM runs `PROGRAM SHIM args…` for the start action, -wrap-delete PROGRAM for the
 *   delete action (e.g. valgrind).
 * -daemon-wrap PROGRAM skips the start action: it runs the daemon itself as
 *   `PROGRAM SHIM -namespace NS -id ID -address GRPC -socket DIR/<id>.sock` (cwd = bundle, stdio
 *   /dev/null), dials until it answers, and waits for its exit after Shutdown (hack/bench uses it
 *   to count the daemon's instructions under callgrind).
 * Exit 0, or 1 with "wren-shimbench: <phase>: <error>" on stderr. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containerd/task/v2/shim.pb-c.h"
#include "ttrpc/ttrpc.h"

#define TASK   "containerd.task.v2.Task"
#define EVENTS "containerd.services.events.ttrpc.v1.Events"

static const char *opt_shim, *opt_dir, *opt_template, *opt_lower,
    *opt_ns = "wren-shimbench", *opt_cgparent, *opt_cpuacct, *opt_wrap, *opt_wrap_delete,
    *opt_daemon_wrap;
static int opt_n = 10, opt_warmup = 1, opt_exec;
static struct ttrpc_loop *loop;
static char grpc_addr[PATH_MAX], ev_addr[PATH_MAX];
static cJSON *template;

static void die(const char *phase, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static pid_t daemon_pid; /* with -daemon-wrap: killed when we die */
/* the cycle whose daemon is up: what die() cleans up, as containerd does after giving up on a shim */
static struct {
	const char *bundle, *id;
} live;
static void cleanup_live(void);

static void die(const char *phase, const char *fmt, ...)
{
	va_list ap;

	cleanup_live();
	fprintf(stderr, "wren-shimbench: %s: ", phase);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t cpuacct_usage(void)
{
	char path[PATH_MAX], buf[64];
	ssize_t r;
	int fd;

	if (!opt_cpuacct)
		return -1;
	snprintf(path, sizeof(path), "%s/cpuacct.usage", opt_cpuacct);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("cpuacct", "%s: %s", path, strerror(errno));
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		die("cpuacct", "read %s", path);
	buf[r] = 0;
	return strtoll(buf, NULL, 10);
}

static void join(char *out, size_t n, const char *dir, const char *name)
{
	if ((size_t)snprintf(out, n, "%s/%s", dir, name) >= n)
		die("path", "too long: %s/%s", dir, name);
}

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		die("write", "%s: %s", path, strerror(errno));
	close(fd);
}

/* ---- the events stub: accepts every Forward ---------------------------------------------- */

static void h_forward(struct ttrpc_call *call, void *ud)
{
	(void)ud;
	ttrpc_call_reply(call, NULL, 0);
}

static void start_events_stub(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ttrpc_server *srv;
	int fd;

	snprintf(ev_addr, sizeof(ev_addr), "%s/events.sock", opt_dir);
	if (strlen(ev_addr) >= sizeof(sa.sun_path))
		die("events", "socket path too long: %s", ev_addr);
	strcpy(sa.sun_path, ev_addr);
	unlink(ev_addr);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0)
		die("events", "listen %s: %s", ev_addr, strerror(errno));
	if (ttrpc_server_new(loop, fd, &srv) < 0 ||
	    ttrpc_server_register(srv, EVENTS, "Forward", h_forward, NULL) < 0)
		die("events", "ttrpc server");
}

/* ---- blocking calls on one connection, the loop keeps serving the events stub ------------- */

struct reply {
	int done, code;
	char *msg;
	uint8_t *data;
	size_t len;
};

static void on_reply(void *ud, int code, const char *msg, const uint8_t *payload, size_t len)
{
	struct reply *r = ud;

	r->done = 1;
	r->code = code;
	r->msg = strdup(msg ? msg : "");
	r->len = len;
	r->data = len ? malloc(len) : NULL;
	if (len)
		memcpy(r->data, payload, len);
}

/* Sends req, runs the loop until the answer; returns the response payload (caller frees). */
static uint8_t *call(struct ttrpc_client *c, const char *method, const ProtobufCMessage *req,
		     size_t *len)
{
	struct reply r = {0};
	size_t n = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = malloc(n ? n : 1);
	int rc;

	protobuf_c_message_pack(req, buf);
	rc = ttrpc_client_call(c, TASK, method, buf, n, 0, NULL, 0, on_reply, &r);
	free(buf);
	if (rc < 0)
		die(method, "ttrpc_client_call: %s", strerror(-rc));
	while (!r.done)
		if (ttrpc_loop_run_once(loop, -1) < 0)
			die(method, "loop: %s", strerror(errno));
	if (r.code != 0)
		die(method, "%s (code %d)", r.msg, r.code);
	free(r.msg);
	if (len)
		*len = r.len;
	return r.data;
}

/* ---- the shim binary's actions ------------------------------------------------------------ */

/* Launch ARGV in BUNDLE with stdin /dev/null, stdout and stderr OUT_FD, TTRPC_ADDRESS set, in a
 * process group of its own: as containerd launches a shim (Go's os/exec, Setpgid). Like Go,
 * posix_spawn clones with CLONE_VM|CLONE_VFORK: the child costs next to nothing before execve. A
 * fork() would copy this process's page tables in the child, charged to the cgroup as shim-side
 * CPU. */
static pid_t spawn(const char *phase, const char *const *argv, const char *bundle, int out_fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	pid_t pid;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addchdir_np(&fa, bundle);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	r = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		die(phase, "posix_spawn %s: %s", argv[0], strerror(r));
	return pid;
}

/* The shim daemon of a bundle, or -1: the process running our shim binary with the bundle as its
 * cwd (the start action runs there and the daemon it forks stays). The socket's SO_PEERCRED would
 * name the start action, which made the socket and has exited. */
static pid_t find_daemon(const char *bundle)
{
	char exe[PATH_MAX], path[64], buf[PATH_MAX];
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;
	ssize_t n;

	if (!d || !realpath(opt_shim, exe)) {
		if (d)
			closedir(d);
		return -1;
	}
	while (found < 0 && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
		n = readlink(path, buf, sizeof(buf) - 1);
		if (n < 0 || (buf[n] = '\0', strcmp(buf, bundle) != 0))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		n = readlink(path, buf, sizeof(buf) - 1);
		if (n >= 0 && (buf[n] = '\0', strcmp(buf, exe) == 0))
			found = pid;
	}
	closedir(d);
	return found;
}

static char *run_action(const char *bundle, const char *id, const char *action, int *status);
static void remove_bundle(const char *bundle);

/* A cycle that failed after its start action leaves a daemon waiting for requests, and maybe a
 * container: kill the daemon and run the delete action, which removes what it left (the
 * container, its cgroup and rootfs, the socket file). Best effort: we are exiting anyway. */
static void cleanup_live(void)
{
	static bool busy;
	pid_t pid;
	int status;

	if (busy)
		return;
	busy = true;
	pid = daemon_pid > 0 ? daemon_pid : live.bundle ? find_daemon(live.bundle) : -1;
	if (pid > 0) {
		kill(pid, SIGKILL);
		/* ours to reap (we are a subreaper); a few seconds at most if it is not */
		for (int i = 0; i < 3000 && waitpid(pid, &status, WNOHANG) == 0; i++)
			usleep(1000);
	}
	if (live.bundle) {
		free(run_action(live.bundle, live.id, "delete", &status));
		remove_bundle(live.bundle);
	}
}

/* Runs the shim with cwd = bundle; returns its trimmed stdout+stderr (malloc'd). */
static char *run_action(const char *bundle, const char *id, const char *action, int *status)
{
	const char *argv[20];
	int n = 0, p[2];
	pid_t pid;
	char *out = NULL;
	size_t len = 0, cap = 0;

	if (opt_wrap && strcmp(action, "start") == 0)
		argv[n++] = opt_wrap;
	if (opt_wrap_delete && strcmp(action, "delete") == 0)
		argv[n++] = opt_wrap_delete;
	argv[n++] = opt_shim;
	argv[n++] = "-namespace";
	argv[n++] = opt_ns;
	argv[n++] = "-address";
	argv[n++] = grpc_addr;
	argv[n++] = "-publish-binary";
	argv[n++] = "/usr/bin/containerd";
	argv[n++] = "-id";
	argv[n++] = id;
	if (strcmp(action, "delete") == 0) {
		argv[n++] = "-bundle";
		argv[n++] = bundle;
	}
	argv[n++] = action;
	argv[n] = NULL;

	if (pipe2(p, O_CLOEXEC) < 0)
		die(action, "pipe: %s", strerror(errno));
	pid = spawn(action, argv, bundle, p[1]);
	close(p[1]);
	/* keep answering the events stub meanwhile, as containerd would: a daemon waiting for the
	 * reply to its last event before it exits must not be kept waiting by us */
	for (;;) {
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};
		ssize_t r;

		ttrpc_loop_run_once(loop, 0);
		if (poll(&pfd, 1, 1) == 0)
			continue;
		if (len + 1 >= cap) {
			cap = cap ? cap * 2 : 512;
			out = realloc(out, cap);
		}
		r = read(p[0], out + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(p[0]);
	if (!out)
		out = calloc(1, 1);
	out[len] = 0;
	while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
		out[--len] = 0;
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			die(action, "waitpid: %s", strerror(errno));
	return out;
}

/* The daemon without the start action, on its own -socket; returns its pid, *addr malloc'd. */
static pid_t spawn_daemon(const char *bundle, const char *id, char **addr)
{
	char sock[PATH_MAX];
	const char *argv[] = {opt_daemon_wrap, opt_shim,  "-namespace", opt_ns, "-id", id,
			      "-address",      grpc_addr, "-socket",	sock,	NULL};
	pid_t pid;
	int devnull;

	snprintf(sock, sizeof(sock), "%s/%s.sock", opt_dir, id);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		die("daemon", "open /dev/null: %s", strerror(errno));
	pid = spawn("daemon", argv, bundle, devnull);
	close(devnull);
	*addr = malloc(strlen(sock) + 8);
	sprintf(*addr, "unix://%s", sock);
	return pid;
}

/* ---- bundles -------------------------------------------------------------------------------- */

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

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* What containerd does with a bundle after the delete action: whatever is still mounted on its
 * rootfs comes off, then the tree goes. */
static void remove_bundle(const char *bundle)
{
	char rootfs[PATH_MAX];

	join(rootfs, sizeof(rootfs), bundle, "rootfs");
	while (umount2(rootfs, MNT_DETACH) == 0)
		;
	rm_rf(bundle);
}

static void make_bundle(const char *bundle, const char *id)
{
	char path[PATH_MAX], cg[PATH_MAX];
	cJSON *spec = cJSON_Duplicate(template, 1), *linux_, *old;
	char *json;

	if (mkdir(bundle, 0711) < 0)
		die("bundle", "mkdir %s: %s", bundle, strerror(errno));
	join(path, sizeof(path), bundle, "rootfs");
	mkdir(path, 0711);
	join(path, sizeof(path), bundle, "upper");
	mkdir(path, 0755);
	join(path, sizeof(path), bundle, "work");
	mkdir(path, 0755);
	join(path, sizeof(path), bundle, "log");
	if (mkfifo(path, 0700) < 0)
		die("bundle", "mkfifo %s: %s", path, strerror(errno));

	linux_ = cJSON_GetObjectItem(spec, "linux");
	if (!linux_)
		cJSON_AddItemToObject(spec, "linux", linux_ = cJSON_CreateObject());
	if (opt_cgparent) {
		snprintf(cg, sizeof(cg), "%s/%s", opt_cgparent, id);
		old = cJSON_GetObjectItem(linux_, "cgroupsPath");
		if (old)
			cJSON_ReplaceItemInObject(linux_, "cgroupsPath", cJSON_CreateString(cg));
		else
			cJSON_AddStringToObject(linux_, "cgroupsPath", cg);
	}
	old = cJSON_GetObjectItem(spec, "root");
	if (old)
		cJSON_ReplaceItemInObject(old, "path", cJSON_CreateString("rootfs"));
	json = cJSON_PrintUnformatted(spec);
	join(path, sizeof(path), bundle, "config.json");
	write_file(path, json);
	free(json);
	cJSON_Delete(spec);
}

static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* ---- one container's life ------------------------------------------------------------------- */

enum {
	T_START_ACTION,
	T_CREATE,
	T_START,
	T_WAIT,
	T_EXEC,
	T_DELETE,
	T_SHUTDOWN,
	T_DELETE_ACTION,
	T_N
};

static char *exec_spec_json(void)
{
	cJSON *proc = cJSON_Duplicate(cJSON_GetObjectItem(template, "process"), 1);
	const char *args[] = {"/bin/true"};
	char *s;

	cJSON_ReplaceItemInObject(proc, "args", cJSON_CreateStringArray(args, 1));
	cJSON_ReplaceItemInObject(proc, "terminal", cJSON_CreateFalse());
	s = cJSON_PrintUnformatted(proc);
	cJSON_Delete(proc);
	return s;
}

static void one(int iter, int print)
{
	char id[64], bundle[PATH_MAX], path[PATH_MAX], lowerdir[PATH_MAX + 16],
	    upperdir[PATH_MAX + 16], workdir[PATH_MAX + 16];
	uint64_t t[T_N] = {0}, t0, tp, w0;
	int64_t cg0, cg1, cg_api0 = -1, cg_api1 = -1;
	uint64_t self0, self1, self_api0 = 0, self_api1 = 0, t_probe = 0;
	long long cpu, cpu_api;
	int logfd, status;
	char *addr, *out;
	struct ttrpc_client *c;
	uint32_t shim_pid = 0;
	uint8_t *resp;
	size_t rlen;

	if (iter < 0)
		snprintf(id, sizeof(id), "sb%d-w%d", (int)getpid(), -iter);
	else
		snprintf(id, sizeof(id), "sb%d-%d", (int)getpid(), iter);
	snprintf(bundle, sizeof(bundle), "%s/%s", opt_dir, id);
	make_bundle(bundle, id);
	live.bundle = bundle;
	live.id = id;
	join(path, sizeof(path), bundle, "log");
	logfd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (logfd < 0)
		die("bundle", "open log: %s", strerror(errno));
	snprintf(lowerdir, sizeof(lowerdir), "lowerdir=%s", opt_lower);
	snprintf(upperdir, sizeof(upperdir), "upperdir=%s/upper", bundle);
	snprintf(workdir, sizeof(workdir), "workdir=%s/work", bundle);

	cg0 = cpuacct_usage();
	self0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	w0 = t0 = now_ns(CLOCK_MONOTONIC);

	if (opt_daemon_wrap) {
		int rc = -1;

		daemon_pid = spawn_daemon(bundle, id, &addr);
		for (int tries = 0; tries < 3000 && rc < 0; tries++) {
			rc = ttrpc_client_dial(loop, addr, &c);
			if (rc < 0)
				usleep(10000);
		}
		if (rc < 0)
			die("dial", "%s: %s", addr, strerror(-rc));
	} else {
		int rc;

		addr = run_action(bundle, id, "start", &status);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("start action", "status 0x%x: %s", status, addr);
		rc = ttrpc_client_dial(loop, addr, &c);
		if (rc < 0)
			die("dial", "%s: %s", addr, strerror(-rc));
	}
	tp = now_ns(CLOCK_MONOTONIC);
	t[T_START_ACTION] = tp - t0;
	free(addr);
	self_api0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	cg_api0 = cpuacct_usage();
	t0 = now_ns(CLOCK_MONOTONIC);
	t_probe += t0 - tp; /* the reads are ours: out of the wall time */

	{
		char *opts[] = {lowerdir, upperdir, workdir};
		Containerd__Types__Mount m = CONTAINERD__TYPES__MOUNT__INIT, *mp = &m;
		Containerd__Task__V2__CreateTaskRequest req =
		    CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
		Containerd__Task__V2__ConnectRequest creq =
		    CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
		Containerd__Task__V2__ConnectResponse *cr;

		m.type = "overlay";
		m.source = "overlay";
		m.n_options = 3;
		m.options = opts;
		req.id = id;
		req.bundle = bundle;
		req.n_rootfs = 1;
		req.rootfs = &mp;
		free(call(c, "Create", &req.base, NULL));
		creq.id = id;
		resp = call(c, "Connect", &creq.base, &rlen);
		cr = containerd__task__v2__connect_response__unpack(NULL, rlen, resp);
		if (!cr)
			die("Connect", "bad response");
		shim_pid = cr->shim_pid;
		containerd__task__v2__connect_response__free_unpacked(cr, NULL);
		free(resp);
	}
	tp = now_ns(CLOCK_MONOTONIC);
	t[T_CREATE] = tp - t0;
	t0 = tp;
	{
		Containerd__Task__V2__StartRequest req = CONTAINERD__TASK__V2__START_REQUEST__INIT;

		req.id = id;
		free(call(c, "Start", &req.base, NULL));
	}
	tp = now_ns(CLOCK_MONOTONIC);
	t[T_START] = tp - t0;
	t0 = tp;
	if (opt_exec) {
		Containerd__Task__V2__ExecProcessRequest ereq =
		    CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
		Containerd__Task__V2__StartRequest sreq = CONTAINERD__TASK__V2__START_REQUEST__INIT;
		Containerd__Task__V2__WaitRequest wreq = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
		Containerd__Task__V2__DeleteRequest dreq =
		    CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
		Containerd__Task__V2__KillRequest kreq = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
		Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
		char *json = exec_spec_json();

		any.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
		any.value.data = (uint8_t *)json;
		any.value.len = strlen(json);
		ereq.id = sreq.id = wreq.id = dreq.id = id;
		ereq.exec_id = sreq.exec_id = wreq.exec_id = dreq.exec_id = "e1";
		ereq.spec = &any;
		free(call(c, "Exec", &ereq.base, NULL));
		free(call(c, "Start", &sreq.base, NULL));
		free(call(c, "Wait", &wreq.base, NULL));
		free(call(c, "Delete", &dreq.base, NULL));
		free(json);
		tp = now_ns(CLOCK_MONOTONIC);
		t[T_EXEC] = tp - t0;
		t0 = tp;
		kreq.id = id;
		kreq.signal = SIGKILL;
		free(call(c, "Kill", &kreq.base, NULL));
	}
	{
		Containerd__Task__V2__WaitRequest req = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;

		req.id = id;
		free(call(c, "Wait", &req.base, NULL));
	}
	tp = now_ns(CLOCK_MONOTONIC);
	t[T_WAIT] = tp - t0;
	t0 = tp;
	{
		Containerd__Task__V2__DeleteRequest req =
		    CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;

		req.id = id;
		free(call(c, "Delete", &req.base, NULL));
	}
	tp = now_ns(CLOCK_MONOTONIC);
	t[T_DELETE] = tp - t0;
	cg_api1 = cpuacct_usage();
	self_api1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	t0 = now_ns(CLOCK_MONOTONIC);
	t_probe += t0 - tp;
	{
		Containerd__Task__V2__ShutdownRequest req =
		    CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
		struct reply r = {0};
		size_t n;
		uint8_t *buf;

		/* the shim may close the connection right after (or instead of) answering */
		req.id = id;
		n = protobuf_c_message_get_packed_size(&req.base);
		buf = malloc(n);
		protobuf_c_message_pack(&req.base, buf);
		if (ttrpc_client_call(c, TASK, "Shutdown", buf, n, 3000000000LL, NULL, 0, on_reply,
				      &r) == 0)
			while (!r.done)
				if (ttrpc_loop_run_once(loop, -1) < 0)
					break;
		free(buf);
		if (r.code != 0 && r.code != TTRPC_UNAVAILABLE)
			die("Shutdown", "%s (code %d)", r.msg, r.code);
		free(r.msg);
		free(r.data);
	}
	ttrpc_client_free(c);
	tp = now_ns(CLOCK_MONOTONIC);
	t[T_SHUTDOWN] = tp - t0;
	t0 = tp;
	live.bundle = NULL; /* the delete action is the clean-up: not twice if it fails */
	out = run_action(bundle, id, "delete", &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("delete action", "status 0x%x: %s", status, out);
	free(out);
	tp = now_ns(CLOCK_MONOTONIC);
	t[T_DELETE_ACTION] = tp - t0;

	/* outside the wall time: the daemon's exit (its CPU lands in the cgroup when it is reaped) */
	if (daemon_pid > 0) {
		while (waitpid(daemon_pid, &status, WNOHANG) == 0)
			ttrpc_loop_run_once(loop, 1);
		daemon_pid = 0;
	} else if (shim_pid > 0) {
		int tries;

		for (tries = 0; tries < 5000; tries++) {
			pid_t r = waitpid((pid_t)shim_pid, &status, WNOHANG);

			if (r == (pid_t)shim_pid ||
			    (r < 0 && errno == ECHILD && kill((pid_t)shim_pid, 0) < 0))
				break;
			ttrpc_loop_run_once(loop, 1); /* its last events still get their answers */
		}
	}
	while (waitpid(-1, &status, WNOHANG) > 0)
		;
	self1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	cg1 = cpuacct_usage();

	cpu = cg0 < 0 ? -1 : (long long)((uint64_t)(cg1 - cg0) - (self1 - self0));
	cpu_api =
	    cg_api0 < 0 ? -1 : (long long)((uint64_t)(cg_api1 - cg_api0) - (self_api1 - self_api0));
	if (print) {
		printf("%d\t%llu\t%lld", iter, (unsigned long long)(tp - w0 - t_probe), cpu);
		for (int i = 0; i < T_N; i++)
			printf("\t%llu", (unsigned long long)t[i]);
		printf("\t%lld\n", cpu_api);
		fflush(stdout);
	}
	drain(logfd);
	close(logfd);
	remove_bundle(bundle);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (!f)
		die("template", "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		die("template", "read %s", path);
	buf[n] = 0;
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	char *text;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-exec") == 0) {
			opt_exec = 1;
			continue;
		}
		if (!v)
			die("usage", "%s needs a value", a);
		i++;
		if (strcmp(a, "-shim") == 0)
			opt_shim = v;
		else if (strcmp(a, "-dir") == 0)
			opt_dir = v;
		else if (strcmp(a, "-template") == 0)
			opt_template = v;
		else if (strcmp(a, "-lower") == 0)
			opt_lower = v;
		else if (strcmp(a, "-ns") == 0)
			opt_ns = v;
		else if (strcmp(a, "-cgparent") == 0)
			opt_cgparent = v;
		else if (strcmp(a, "-cpuacct") == 0)
			opt_cpuacct = v;
		else if (strcmp(a, "-wrap") == 0)
			opt_wrap = v;
		else if (strcmp(a, "-wrap-delete") == 0)
			opt_wrap_delete = v;
		else if (strcmp(a, "-daemon-wrap") == 0)
			opt_daemon_wrap = v;
		else if (strcmp(a, "-n") == 0)
			opt_n = atoi(v);
		else if (strcmp(a, "-warmup") == 0)
			opt_warmup = atoi(v);
		else
			die("usage", "unknown flag %s", a);
	}
	if (!opt_shim || !opt_dir || !opt_template || !opt_lower)
		die("usage",
		    "wren-shimbench -shim PATH -dir DIR -template CONFIG.JSON -lower ROOTFS "
		    "[-n N] [-warmup N] [-exec] [-ns NS] [-cgparent /PATH] [-cpuacct DIR] "
		    "[-wrap PROGRAM]");
	text = read_all(opt_template);
	template = cJSON_Parse(text);
	free(text);
	if (!template)
		die("template", "%s: not JSON", opt_template);
	signal(SIGPIPE, SIG_IGN);
	/* the daemons fall back to us when their start process exits: we reap them */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (opt_cpuacct) {
		char path[PATH_MAX], pid[32];

		snprintf(path, sizeof(path), "%s/cgroup.procs", opt_cpuacct);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		write_file(path, pid);
	}
	snprintf(grpc_addr, sizeof(grpc_addr), "%s/containerd.sock", opt_dir);
	if (ttrpc_loop_new(&loop) < 0)
		die("loop", "ttrpc_loop_new");
	start_events_stub();
	/* the shims' environment, as containerd sets it */
	setenv("TTRPC_ADDRESS", ev_addr, 1);
	for (int i = 0; i < opt_warmup; i++)
		one(-1 - i, 0);
	for (int i = 0; i < opt_n; i++)
		one(i, 1);
	unlink(ev_addr);
	return 0;
}
