/* Child steps without libc state: see proc_raw.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/proc_raw.h"
#include "runtime/rawsys.h"

#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

void rt_msg_s(struct rt_msg *m, const char *s)
{
	while (s && *s && m->n < RT_SYNC_TEXT_MAX)
		m->b[m->n++] = *s++;
}

void rt_msg_i(struct rt_msg *m, long v)
{
	char t[24];
	int i = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	do
		t[i++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		rt_msg_s(m, "-");
	while (i > 0 && m->n < RT_SYNC_TEXT_MAX)
		m->b[m->n++] = t[--i];
}

void rt_msg_errno(struct rt_msg *m, int e, bool go)
{
	const char *d = strerrordesc_np(e); /* the C locale's text, a table lookup */
	size_t at = m->n;

	if (d) {
		rt_msg_s(m, d);
	} else {
		rt_msg_s(m, "Unknown error ");
		rt_msg_i(m, e);
	}
	if (go && at < m->n && m->b[at] >= 'A' && m->b[at] <= 'Z')
		m->b[at] = (char)(m->b[at] - 'A' + 'a');
}

const char *rt_msg_str(struct rt_msg *m)
{
	m->b[m->n] = 0;
	return m->b;
}

/* "<what>: <strerror(-r)>"; returns r */
static long said(struct rt_msg *m, long r, const char *what)
{
	rt_msg_s(m, what);
	rt_msg_s(m, ": ");
	rt_msg_errno(m, (int)-r, false);
	return r;
}

static long cap_said(struct rt_msg *m, long r, const char *what, int c, const char *tail)
{
	const char *name = rt_caps_name(c);

	rt_msg_s(m, what);
	if (name) {
		rt_msg_s(m, name);
	} else {
		rt_msg_s(m, "capability ");
		rt_msg_i(m, c);
	}
	return said(m, r, tail);
}

long rt_raw_set_user(uid_t uid, gid_t gid, const gid_t *gids, size_t n_gids,
		     const struct rt_caps *caps, int last_cap, struct rt_msg *m)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	uint64_t all = last_cap >= 63 ? ~0ULL : (1ULL << (last_cap + 1)) - 1;
	long r;

	r = rt_raw2(SYS_setgroups, n_gids, gids);
	if (r < 0 && !(r == -EPERM && n_gids == 0)) /* setgroups "deny" in a user namespace */
		return said(m, r, "setgroups");
	if ((r = rt_raw3(SYS_setresgid, gid, gid, gid)) < 0) {
		rt_msg_s(m, "setresgid ");
		rt_msg_i(m, gid);
		return said(m, r, "");
	}
	for (int c = 0; c <= last_cap; c++)
		if (!(caps->bounding & (1ULL << c)) &&
		    (r = rt_raw5(SYS_prctl, PR_CAPBSET_DROP, c, 0, 0, 0)) < 0)
			return cap_said(m, r, "capabilities: drop ", c, " from the bounding set");
	if ((r = rt_raw5(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0)) < 0)
		return said(m, r, "prctl(PR_SET_KEEPCAPS)");
	if ((r = rt_raw3(SYS_setresuid, uid, uid, uid)) < 0) {
		rt_msg_s(m, "setresuid ");
		rt_msg_i(m, uid);
		return said(m, r, "");
	}
	if ((r = rt_raw5(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0)) < 0)
		return said(m, r, "prctl(PR_SET_KEEPCAPS)");

	data[0].effective = (uint32_t)(caps->effective & all);
	data[1].effective = (uint32_t)((caps->effective & all) >> 32);
	data[0].permitted = (uint32_t)(caps->permitted & all);
	data[1].permitted = (uint32_t)((caps->permitted & all) >> 32);
	data[0].inheritable = (uint32_t)(caps->inheritable & all);
	data[1].inheritable = (uint32_t)((caps->inheritable & all) >> 32);
	if ((r = rt_raw2(SYS_capset, &hdr, data)) < 0)
		return said(m, r, "capabilities: set effective, permitted, inheritable");
	/* not every kernel has ambient capabilities (4.3+): nothing to clear there if none asked */
	r = rt_raw5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (r == -EINVAL && caps->ambient == 0)
		return 0;
	if (r < 0)
		return said(m, r, "capabilities: clear the ambient set");
	for (int c = 0; c <= last_cap; c++)
		if ((caps->ambient & (1ULL << c)) &&
		    (r = rt_raw5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0)) < 0)
			return cap_said(m, r, "capabilities: raise ambient ", c, "");
	return 0;
}

/* Write value to the exec attribute at path (or at fallback, where path does not exist): 0, or
 * -errno with ": write <path>: <why>" added to m. */
static long write_exec_attr(const char *path, const char *fallback, const char *value,
			    struct rt_msg *m)
{
	struct statfs sfs;
	size_t len = strlen(value);
	long fd, r;

	fd = rt_raw4(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
	if (fd == -ENOENT && fallback)
		fd = rt_raw4(SYS_openat, AT_FDCWD, (path = fallback), O_WRONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		r = fd;
	} else if ((r = rt_raw2(SYS_fstatfs, fd, &sfs)) == 0 && sfs.f_type != PROC_SUPER_MAGIC) {
		r = -EXDEV; /* a file of the image's, not the kernel's */
	} else if (r == 0) {
		r = rt_raw3(SYS_write, fd, value, len);
		r = r < 0 ? r : (size_t)r == len ? 0 : -EIO;
	}
	if (fd >= 0)
		rt_raw1(SYS_close, fd);
	if (r < 0) {
		rt_msg_s(m, ": write ");
		rt_msg_s(m, path);
		rt_msg_s(m, ": ");
		rt_msg_errno(m, (int)-r, false);
	}
	return r;
}

long rt_raw_lsm_exec_labels(const char *apparmor_profile, const char *selinux_label,
			    struct rt_msg *m)
{
	char value[4096];
	size_t at = m->n, n;
	long r;

	if (apparmor_profile && *apparmor_profile) {
		rt_msg_s(m, "apply apparmor profile \"");
		rt_msg_s(m, apparmor_profile);
		rt_msg_s(m, "\"");
		n = strlen(apparmor_profile);
		if (n + 6 > sizeof(value)) {
			rt_msg_s(m, ": name too long");
			return -ENAMETOOLONG;
		}
		/* AppArmor's change_onexec command, as libapparmor's aa_change_onexec words it */
		memcpy(value, "exec ", 5);
		memcpy(value + 5, apparmor_profile, n + 1);
		r = write_exec_attr("/proc/thread-self/attr/apparmor/exec",
				    "/proc/thread-self/attr/exec", value, m);
		if (r < 0)
			return r;
		m->n = at;
	}
	if (selinux_label && *selinux_label) {
		rt_msg_s(m, "set selinux label \"");
		rt_msg_s(m, selinux_label);
		rt_msg_s(m, "\"");
		r = write_exec_attr("/proc/thread-self/attr/exec", NULL, selinux_label, m);
		if (r < 0)
			return r;
		m->n = at;
	}
	return 0;
}

long rt_raw_stat(const char *path, struct stat *st)
{
#if RT_RAW_SHARED_VM
	return rt_raw4(SYS_newfstatat, AT_FDCWD, path, st, 0);
#else
	return stat(path, st) < 0 ? -errno : 0;
#endif
}

/* Go's findExecutable: 0, or -errno (ENOENT from stat; EACCES for a directory or no x bit). */
static long find_executable(const char *path)
{
	struct stat st;
	long r = rt_raw_stat(path, &st);

	if (r < 0)
		return r;
	if (S_ISDIR(st.st_mode) || (st.st_mode & 0111) == 0)
		return -EACCES;
	return 0;
}

static long quoted(struct rt_msg *m, long r, const char *name, const char *tail)
{
	rt_msg_s(m, "exec: \"");
	rt_msg_s(m, name);
	rt_msg_s(m, "\": ");
	rt_msg_s(m, tail);
	return r;
}

long rt_raw_lookup(const char *name, const char *path_env, char out[PATH_MAX], struct rt_msg *m)
{
	size_t nl = strlen(name);
	long r;

	if (strchr(name, '/')) {
		r = find_executable(name);
		if (r == -EACCES)
			return quoted(m, r, name, "permission denied");
		if (r < 0) {
			quoted(m, r, name, "stat ");
			rt_msg_s(m, name);
			rt_msg_s(m, ": ");
			rt_msg_errno(m, (int)-r, true);
			return r;
		}
		if (nl >= PATH_MAX)
			return quoted(m, -ENAMETOOLONG, name, "file name too long");
		memcpy(out, name, nl + 1);
	} else {
		bool found = false;

		for (const char *d = path_env; d && *d && !found;) {
			size_t len = strcspn(d, ":");
			const char *dir = len ? d : ".";
			size_t dl = len ? len : 1;

			if (dl + 1 + nl < PATH_MAX) {
				memcpy(out, dir, dl);
				out[dl] = '/';
				memcpy(out + dl + 1, name, nl + 1);
				found = find_executable(out) == 0;
			}
			d += len;
			if (*d == ':')
				d++;
		}
		if (!found)
			return quoted(m, -ENOENT, name, "executable file not found in $PATH");
	}
	r = rt_raw4(SYS_faccessat2, AT_FDCWD, out, X_OK, AT_EACCESS);
	if (r == -ENOSYS) /* before 5.8; real and effective ids are the same by now */
		r = rt_raw3(SYS_faccessat, AT_FDCWD, out, X_OK);
	if (r < 0) {
		rt_msg_s(m, "exec ");
		rt_msg_s(m, out);
		rt_msg_s(m, ": ");
		rt_msg_errno(m, (int)-r, true);
	}
	return r;
}

/* Lines: name:password:uid:gid:gecos:home:shell. */
static const char *passwd_line_home(char *line, uid_t uid)
{
	char *f[7];
	int k = 0;
	unsigned long v = 0;
	const char *d;

	for (char *c = line; k < 7; k++) {
		f[k] = c;
		c = strchr(c, ':');
		if (c == NULL)
			break;
		*c++ = 0;
	}
	if (k < 6 || !f[2][0] || !f[5][0])
		return NULL;
	for (d = f[2]; *d >= '0' && *d <= '9' && v <= UINT32_MAX; d++)
		v = v * 10 + (unsigned long)(*d - '0');
	return *d == 0 && v == uid ? f[5] : NULL; /* a uid too long for 32 bits stops short of it */
}

const char *rt_raw_passwd_home(uid_t uid, char *buf, size_t size)
{
	long fd = rt_raw4(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC, 0);
	const char *home;

	if (fd < 0)
		return NULL;
	home = rt_raw_passwd_home_fd((int)fd, uid, buf, size);
	rt_raw1(SYS_close, fd);
	return home;
}

const char *rt_raw_passwd_home_fd(int fd, uid_t uid, char *buf, size_t size)
{
	const char *home = NULL;
	size_t have = 0;
	bool skipping = false, eof = false;
	long r;

	if (size < 2)
		return NULL;
	while (!eof && home == NULL) {
		size_t start = 0;

		r = rt_raw3(SYS_read, fd, buf + have, size - 1 - have);
		if (r == -EINTR)
			continue;
		if (r < 0)
			break;
		eof = r == 0;
		have += (size_t)r;
		if (eof && have > 0 && buf[have - 1] != '\n')
			buf[have++] = '\n'; /* a last line without its newline */
		for (size_t i = 0; i < have && home == NULL; i++) {
			if (buf[i] != '\n')
				continue;
			buf[i] = 0;
			if (!skipping) /* else: the rest of a line longer than buf */
				home = passwd_line_home(buf + start, uid);
			skipping = false;
			start = i + 1;
		}
		if (home)
			break;
		if (start == 0 && have == size - 1) { /* one line fills buf: drop it */
			skipping = true;
			have = 0;
		} else {
			memmove(buf, buf + start, have - start);
			have -= start;
		}
	}
	return home;
}
