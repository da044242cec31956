/* Checkpoint with criu: the command line (what runc's libcontainer tells criu over its RPC, as
 * options), the child, its deferred reply, its timeout, and the reason a failed dump gives. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/util.h"
#include "shim/checkpoint.h"
#include "shim/child.h"
#include "shim/log.h"
#include "shim/reply.h"
#include "shim/task.h"

extern char **environ;

struct shim_checkpoint {
	struct shim_container *c; /* NULL once the container is gone */
	pid_t pid;
	struct ttrpc_call *call; /* NULL once answered (timeout) */
	struct ttrpc_timer timer;
	char *log_path; /* criu's stderr: its log at -v4 */
	char *work;	/* criu's work directory */
	bool own_work;	/* ours to remove afterwards */
	bool exit;	/* --exit: the tree dies after the dump */
	uint64_t timeout_ms;
};

/* ---- the command line ---------------------------------------------------------------------- */

char *shim_checkpoint_find(const char *name, const char *path_env)
{
	const char *p = path_env;

	while (p && *p) {
		size_t n = strcspn(p, ":");
		_cleanup_free_ char *cand = xasprintf("%.*s/%s", (int)n, p, name);
		struct stat st;

		if (n > 0 && stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return steal_ptr(&cand);
		p += n;
		if (*p == ':')
			p++;
	}
	return NULL;
}

struct argv_buf {
	char **v;
	size_t n;
};

static void push(struct argv_buf *a, char *s)
{
	a->v = xrealloc(a->v, sizeof(*a->v) * (a->n + 2));
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

void shim_checkpoint_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static char *unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

struct mnt {
	int id;
	char *dev, *root, *point;
};

static void mnts_free(struct mnt *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].dev);
		free(m[i].root);
		free(m[i].point);
	}
	free(m);
}

static size_t parse_mountinfo(const char *text, struct mnt **out)
{
	struct mnt *m = NULL;
	size_t n = 0;

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		_cleanup_free_ char *l = xstrndup(line, len);
		char *save = NULL, *f[5] = {0};
		int k = 0;

		for (char *t = strtok_r(l, " ", &save); t && k < 5; t = strtok_r(NULL, " ", &save))
			f[k++] = t;
		if (k == 5) {
			m = xrealloc(m, sizeof(*m) * (n + 1));
			m[n].id = atoi(f[0]);
			m[n].dev = xstrdup(f[2]);
			m[n].root = unescape(f[3]);
			m[n].point = unescape(f[4]);
			n++;
		}
		line = end ? end + 1 : NULL;
	}
	*out = m;
	return n;
}

static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* A mount whose source cannot be found inside the container (a bind of a host path, the
 * /dev/null over a masked file, a v1 cgroup directory) has to be named to criu as external:
 * no other mount of the same filesystem there shows a root above it. The spec's bind mounts are
 * always external, as runc has them. */
static bool is_external(const struct mnt *m, size_t n, size_t i, const struct rt_spec *spec)
{
	if (strcmp(m[i].point, "/") == 0)
		return false; /* the rootfs: --root */
	for (size_t k = 0; spec && k < spec->n_mounts; k++)
		if (spec->mounts[k].bind && strcmp(spec->mounts[k].destination, m[i].point) == 0)
			return true;
	for (size_t j = 0; j < n; j++)
		if (j != i && strcmp(m[j].dev, m[i].dev) == 0 &&
		    path_within(m[i].root, m[j].root) && strcmp(m[j].point, "/") != 0)
			return false;
	return strcmp(m[i].root, "/") != 0;
}

static int valid_cgroups_mode(const char *mode)
{
	static const char *const modes[] = {"soft", "full", "strict", "ignore"};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(mode, modes[i]) == 0)
			return 1;
	return 0;
}

/* The caller's options, checked before anything on the host is looked at (criu, the init's
 * mounts): bad input is INVALID_ARGUMENT whatever the machine has. */
static int check_opts(const struct shim_checkpoint_opts *o, struct wren_err **err)
{
	if (o->cgroups_mode && *o->cgroups_mode && !valid_cgroups_mode(o->cgroups_mode))
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "checkpoint: cgroups mode %s is none of soft, full, strict, "
				     "ignore",
				     o->cgroups_mode);
	for (size_t i = 0; i < o->n_empty_namespaces; i++)
		if (strcmp(o->empty_namespaces[i], "network") != 0 &&
		    strcmp(o->empty_namespaces[i], "net") != 0)
			return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
					     "checkpoint: criu can leave only the network "
					     "namespace empty, not %s",
					     o->empty_namespaces[i]);
	return 0;
}

int shim_checkpoint_argv(const char *criu, const struct shim_checkpoint_target *t,
			 const struct shim_checkpoint_opts *o, const char *work, char ***out,
			 struct wren_err **err)
{
	struct argv_buf a = {0};
	struct mnt *m = NULL;
	size_t n;

	if (check_opts(o, err) < 0)
		return -1;
	push(&a, xstrdup(criu));
	push(&a, xstrdup("dump"));
	push(&a, xasprintf("--tree=%d", (int)t->pid));
	push(&a, xasprintf("--images-dir=%s", o->image_path));
	push(&a, xasprintf("--work-dir=%s", work));
	push(&a, xasprintf("--root=%s", t->root));
	push(&a, xstrdup("-v4")); /* the log is what a failed dump is explained with */
	if (!o->exit)
		push(&a, xstrdup("--leave-running"));
	if (o->open_tcp)
		push(&a, xstrdup("--tcp-established"));
	if (o->external_unix_sockets)
		push(&a, xstrdup("--ext-unix-sk"));
	if (o->terminal)
		push(&a, xstrdup("--shell-job"));
	if (o->file_locks)
		push(&a, xstrdup("--file-locks"));
	if (o->cgroups_mode && *o->cgroups_mode)
		push(&a, xasprintf("--manage-cgroups=%s", o->cgroups_mode));
	else
		push(&a, xstrdup("--manage-cgroups"));
	if (t->freeze_cgroup)
		push(&a, xasprintf("--freeze-cgroup=%s", t->freeze_cgroup));
	if (o->n_empty_namespaces)
		push(&a, xstrdup("--empty-ns=net"));
	if (t->network_lock)
		push(&a, xasprintf("--network-lock=%s", t->network_lock));
	n = parse_mountinfo(t->mountinfo, &m);
	for (size_t i = 0; i < n; i++)
		if (is_external(m, n, i, t->spec))
			push(&a, xasprintf("--external=mnt[%s]:%s", m[i].point, m[i].point));
	/* A file on a mount the container does not have (the client's stdio FIFO, which wren hands
	 * to the init itself, or the host's /dev/null) is external too: criu cannot name it. */
	for (size_t i = 0; i < t->n_files; i++) {
		bool inside = false;

		for (size_t j = 0; j < n && !inside; j++)
			inside = m[j].id == t->files[i].mnt_id;
		if (!inside)
			push(&a, xasprintf("--external=file[%x:%llx]", (unsigned)t->files[i].mnt_id,
					   t->files[i].ino));
	}
	mnts_free(m, n);
	*out = a.v;
	return 0;
}

/* ---- what a failed dump says ----------------------------------------------------------------- */

/* "(00.024153) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds" → the text after
 * the source location; NULL for lines that are not errors or only report a helper's exit status
 * (criu probes iptables and the like, and logs those failures as errors too). */
static const char *error_text(const char *line, size_t len, size_t *out_len)
{
	const char *e = memmem(line, len, "Error (", 7);
	const char *colon;

	if (!e)
		return NULL;
	colon = memmem(e, len - (size_t)(e - line), "): ", 3);
	if (!colon)
		return NULL;
	colon += 3;
	*out_len = len - (size_t)(colon - line);
	if (*out_len == 0 || (*out_len >= 7 && strncmp(colon, "exited,", 7) == 0))
		return NULL;
	return colon;
}

char *shim_checkpoint_log_reason(const char *log)
{
	const char *first = NULL, *last = NULL;
	size_t first_len = 0, last_len = 0;

	for (const char *line = log; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line), tl;
		const char *t = error_text(line, len, &tl);

		if (t) {
			if (!first) {
				first = t;
				first_len = tl;
			}
			last = t;
			last_len = tl;
		}
		line = end ? end + 1 : NULL;
	}
	if (!first)
		return NULL;
	if (first == last)
		return xstrndup(first, first_len);
	return xasprintf("%.*s; %.*s", (int)first_len, first, (int)last_len, last);
}

/* The init's stdio: the mount id (fdinfo) and inode of each of fds 0-2 that is a path (a FIFO,
 * a file, /dev/null). */
static size_t stdio_files(pid_t pid, struct shim_checkpoint_file *out)
{
	size_t n = 0;

	for (int fd = 0; fd < 3; fd++) {
		_cleanup_free_ char *info_path = xasprintf("/proc/%d/fdinfo/%d", (int)pid, fd);
		_cleanup_free_ char *fd_path = xasprintf("/proc/%d/fd/%d", (int)pid, fd);
		_cleanup_free_ char *info = NULL;
		const char *mnt;
		struct stat st;

		char target[8];
		ssize_t tl = readlink(fd_path, target, sizeof(target));

		/* pipes, sockets, anon inodes ("pipe:[…]") are criu's own business */
		if (tl <= 0 || target[0] != '/')
			continue;
		if (read_file(info_path, 1 << 16, &info, NULL) < 0 || stat(fd_path, &st) < 0)
			continue;
		mnt = strstr(info, "mnt_id:");
		if (!mnt)
			continue;
		out[n].mnt_id = atoi(mnt + 7);
		out[n].ino = (unsigned long long)st.st_ino;
		n++;
	}
	return n;
}

/* ---- the child ------------------------------------------------------------------------------- */

static struct shim_checkpoint *ckpt_of(struct shim_container *c)
{
	return c->checkpoint;
}

static void remove_work(struct shim_checkpoint *k)
{
	DIR *d;
	struct dirent *de;

	if (!k->own_work)
		return;
	d = opendir(k->work);
	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(k->work);
	k->own_work = false;
}

static void ckpt_free(struct shim_checkpoint *k)
{
	if (k->c)
		ttrpc_timer_cancel(k->c->shim->loop, &k->timer);
	remove_work(k);
	free(k->log_path);
	free(k->work);
	free(k);
}

/* criu is gone: the verdict, from its status and its log. */
static void answer(struct shim_checkpoint *k, int wstatus)
{
	_cleanup_free_ char *log = NULL, *why = NULL;

	if (!k->call)
		return;
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		log_info("checkpoint of %s done", k->c ? k->c->id : "?");
		shim_reply_empty(steal_ptr(&k->call));
		return;
	}
	if (read_file(k->log_path, 1 << 20, &log, NULL) == 0)
		why = shim_checkpoint_log_reason(log);
	if (log && strstr(log, "Could not initialize kernel features detection"))
		ttrpc_call_reply_error(steal_ptr(&k->call), TTRPC_FAILED_PRECONDITION,
				       "criu cannot checkpoint on this kernel (criu check fails): "
				       "%s (log %s)",
				       why ? why : "kernel features detection failed", k->log_path);
	else if (WIFEXITED(wstatus))
		ttrpc_call_reply_error(steal_ptr(&k->call), TTRPC_UNKNOWN,
				       "criu dump failed (exit status %d): %s (log %s)",
				       WEXITSTATUS(wstatus), why ? why : "no error in its log",
				       k->log_path);
	else
		ttrpc_call_reply_error(steal_ptr(&k->call), TTRPC_UNKNOWN,
				       "criu dump killed by signal %d (log %s)", WTERMSIG(wstatus),
				       k->log_path);
}

static void on_timeout(struct ttrpc_timer *t)
{
	struct shim_checkpoint *k = ttrpc_container_of(t, struct shim_checkpoint, timer);

	/* its exit comes through the daemon's reaper like any other; the record waits for it */
	kill(k->pid, SIGKILL);
	if (k->call)
		ttrpc_call_reply_error(steal_ptr(&k->call), TTRPC_DEADLINE_EXCEEDED,
				       "criu dump of %s did not finish in %llu ms: killed (log %s)",
				       k->c->id, (unsigned long long)k->timeout_ms, k->log_path);
}

bool shim_checkpoint_reaped(struct shim *s, pid_t pid, int wstatus)
{
	for (struct shim_container *c = s->containers; c; c = c->next) {
		struct shim_checkpoint *k = ckpt_of(c);

		if (!k || k->pid != pid)
			continue;
		c->checkpoint = NULL;
		answer(k, wstatus);
		ckpt_free(k);
		return true;
	}
	return false;
}

void shim_checkpoint_abort(struct shim_container *c)
{
	struct shim_checkpoint *k = ckpt_of(c);

	if (!k)
		return;
	c->checkpoint = NULL;
	/* not waited for: the daemon's reaper takes the pid as an unknown child */
	kill(k->pid, SIGKILL);
	if (k->call)
		ttrpc_call_reply_error(steal_ptr(&k->call), TTRPC_UNKNOWN,
				       "container %s was deleted during its checkpoint", c->id);
	ckpt_free(k);
}

static int spawn_criu(char **argv, int log_fd, pid_t *pid, struct wren_err **err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int r;

	shim_child_spawnattr(&attr);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, log_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
	r = posix_spawn(pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r != 0)
		return wren_err_code(err, WREN_E_UNKNOWN, "checkpoint: start %s: %s", argv[0],
				     strerror(r));
	return 0;
}

int shim_checkpoint_start(struct shim_container *c, const struct shim_checkpoint_opts *o,
			  struct ttrpc_call *call, struct wren_err **err)
{
	_cleanup_free_ char *criu = shim_checkpoint_find("criu", getenv("PATH"));
	_cleanup_free_ char *ipt = shim_checkpoint_find("iptables-restore", getenv("PATH"));
	_cleanup_free_ char *mi_path = NULL, *mountinfo = NULL, *fcg = NULL;
	_cleanup_close_ int log_fd = -1;
	struct shim_checkpoint_target t = {0};
	struct shim_checkpoint_file files[3];
	struct shim_checkpoint *k;
	char **argv = NULL;
	const char *cg;
	int r;

	if (!o->image_path || !*o->image_path)
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT,
				     "checkpoint: an image path is required");
	if (check_opts(o, err) < 0)
		return -1;
	if (!criu)
		return wren_err_code(err, WREN_E_FAILED_PRECONDITION,
				     "checkpoint needs criu, which is not in PATH (%s)",
				     getenv("PATH") ? getenv("PATH") : "");
	if (c->checkpoint)
		return wren_err_code(err, WREN_E_FAILED_PRECONDITION,
				     "a checkpoint of %s is already running", c->id);
	mi_path = xasprintf("/proc/%d/mountinfo", (int)c->init.pid);
	if (read_file(mi_path, 1 << 22, &mountinfo, NULL) < 0)
		return wren_err_errno(err, errno, "checkpoint: read %s", mi_path);
	cg = rt_container_cgroup(c->rt);
	if (cg && *cg)
		fcg = rt_cgroup_host_mode() == RT_CGROUP_V2
			  ? xasprintf("/sys/fs/cgroup%s", cg)
			  : xasprintf("/sys/fs/cgroup/freezer%s", cg);
	t.pid = c->init.pid;
	t.root = c->spec->root_path;
	t.freeze_cgroup = fcg;
	t.mountinfo = mountinfo;
	t.spec = c->spec;
	/* criu locks the container's network during the dump with iptables-restore, unless told
	 * to use nftables (its library, no binary); where there is no iptables, that is the one
	 * that can work */
	t.network_lock = ipt ? NULL : "nftables";
	t.files = files;
	t.n_files = stdio_files(c->init.pid, files);

	k = xzalloc(sizeof(*k));
	k->c = c;
	k->exit = o->exit;
	k->timeout_ms = o->timeout_ms ? o->timeout_ms : SHIM_CHECKPOINT_TIMEOUT_MS;
	k->timer.cb = on_timeout;
	if (o->work_path && *o->work_path) {
		k->work = xstrdup(o->work_path);
	} else {
		k->work = xasprintf("%s/criu-work", c->bundle);
		k->own_work = true;
	}
	k->log_path = xasprintf("%s/criu-dump.log", c->bundle); /* where runc-v2 keeps it too */
	if (mkdir_p(o->image_path, 0700) < 0) {
		r = wren_err_errno(err, errno, "checkpoint: mkdir %s", o->image_path);
		goto fail;
	}
	if (mkdir_p(k->work, 0700) < 0) {
		r = wren_err_errno(err, errno, "checkpoint: mkdir %s", k->work);
		k->own_work = false;
		goto fail;
	}
	log_fd = open(k->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log_fd < 0) {
		r = wren_err_errno(err, errno, "checkpoint: open %s", k->log_path);
		goto fail;
	}
	r = shim_checkpoint_argv(criu, &t, o, k->work, &argv, err);
	if (r == 0)
		r = spawn_criu(argv, log_fd, &k->pid, err);
	shim_checkpoint_argv_free(argv);
	if (r < 0)
		goto fail;
	log_info("checkpoint of %s: criu pid %d, images in %s", c->id, (int)k->pid, o->image_path);
	k->call = call;
	c->checkpoint = k;
	ttrpc_timer_arm(c->shim->loop, &k->timer, k->timeout_ms);
	return 0;
fail:
	ckpt_free(k);
	return -1;
}
