/* Test bundles for the runtime tests: a temp dir with a busybox rootfs (Debian's busybox-static)
 * and a config.json shaped like containerd's default spec. Header-only: each test binary is one .c
 * file. */
#ifndef WREN_TEST_BUNDLE_H
#define WREN_TEST_BUNDLE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/spec.h"
#include "runtime/util.h"

struct rt_container;

struct bundle {
	char *dir, *rootfs;
	struct rt_spec *spec;
	/* knobs for the next bundle_config() */
	bool readonly, no_pivot, user_ns;
	const char *linux_extra;  /* members appended to "linux" */
	const char *top_extra;	  /* members appended to the top object */
	const char *device_rules; /* replaces the linux.resources.devices array */
	const char *namespaces;	  /* replaces the default list: "[{...},{...}" (no closing ']') */
	int rootfs_tree;	  /* rt_create_opts.rootfs_tree of the next create (0: none) */
	/* a container the test has not finished: teardown kills and destroys it */
	struct rt_container *live;
};

static const char *const bundle_applets[] = {
    "sh",    "echo",  "cat",  "sleep", "id",   "ls",	   "hostname", "true",
    "false", "touch", "wc",   "test",  "tr",   "readlink", "env",      "pwd",
    "grep",  "mount", "head", "stat",  "kill", "cut",	   "tty",
};

static int bundle_copy(const char *from, const char *to)
{
	_cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	char buf[65536];
	ssize_t r;

	if (in < 0 || out < 0)
		return -1;
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, (size_t)r) < 0)
			return -1;
	return r < 0 ? -1 : 0;
}

static struct bundle *bundle_new(void)
{
	struct bundle *b = xzalloc(sizeof(*b));
	char tmpl[] = "/tmp/wren-rt-XXXXXX";
	static const char *const dirs[] = {"bin", "etc", "proc", "dev", "sys", "tmp", "root"};

	if (mkdtemp(tmpl) == NULL)
		return NULL;
	chmod(tmpl, 0755); /* a user namespace's root must reach the rootfs */
	b->dir = xstrdup(tmpl);
	b->rootfs = xasprintf("%s/rootfs", b->dir);
	mkdir(b->rootfs, 0755);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", b->rootfs, dirs[i]);
		mkdir(d, 0755);
	}
	_cleanup_free_ char *bb = xasprintf("%s/bin/busybox", b->rootfs);
	if (bundle_copy("/bin/busybox", bb) < 0)
		return NULL;
	for (size_t i = 0; i < sizeof(bundle_applets) / sizeof(bundle_applets[0]); i++) {
		_cleanup_free_ char *l = xasprintf("%s/bin/%s", b->rootfs, bundle_applets[i]);
		if (symlink("busybox", l) < 0)
			return NULL;
	}
	_cleanup_free_ char *pw = xasprintf("%s/etc/passwd", b->rootfs);
	_cleanup_free_ char *gr = xasprintf("%s/etc/group", b->rootfs);
	const char *passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
	const char *group = "root:x:0:\ntty:x:5:\napp:x:1000:\n";
	write_file(pw, passwd, strlen(passwd), true);
	write_file(gr, group, strlen(group), true);
	return b;
}

/* Write config.json for args (a JSON array), an optional "user" member replacing uid/gid 0, and
 * extra mount objects appended to the default ones, then load it into b->spec. */
static void bundle_config_mounts(struct bundle *b, const char *args, const char *user,
				 const char *extra_mounts)
{
	static const char caps[] =
	    "[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FSETID\",\"CAP_FOWNER\",\"CAP_MKNOD\","
	    "\"CAP_NET_RAW\",\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETFCAP\",\"CAP_SETPCAP\","
	    "\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_CHROOT\",\"CAP_KILL\",\"CAP_AUDIT_WRITE\"]";
	static const char default_ns[] =
	    "[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
	    "{\"type\":\"mount\"},{\"type\":\"network\"}";
	static const char userns_maps[] =
	    ",\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
	    "\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]";
	/* containerd's generated specs list the container's devices explicitly */
	static const char default_rules[] =
	    "[{\"allow\":false,\"access\":\"rwm\"},"
	    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
	    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"rwm\"},"
	    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":7,\"access\":\"rwm\"},"
	    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":8,\"access\":\"rwm\"},"
	    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":9,\"access\":\"rwm\"},"
	    "{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":0,\"access\":\"rwm\"},"
	    "{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":2,\"access\":\"rwm\"},"
	    "{\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rwm\"}]";
	_cleanup_free_ char *json = xasprintf(
	    "{\"ociVersion\":\"1.0.2-dev\","
	    "\"process\":{%s,\"args\":%s,"
	    "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],"
	    "\"cwd\":\"/\",\"capabilities\":{\"bounding\":%s,\"effective\":%s,\"permitted\":%s},"
	    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
	    "\"noNewPrivileges\":true},"
	    "\"root\":{\"path\":\"rootfs\",\"readonly\":%s},"
	    "\"hostname\":\"wren-test\","
	    "\"mounts\":["
	    "{\"destination\":\"/"
	    "proc\",\"type\":\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\",\"noexec\","
	    "\"nodev\"]},"
	    "{\"destination\":\"/"
	    "dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\","
	    "\"mode=755\",\"size=65536k\"]},"
	    "{\"destination\":\"/dev/"
	    "pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\","
	    "\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	    "{\"destination\":\"/dev/"
	    "shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\",\"noexec\","
	    "\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	    "{\"destination\":\"/dev/"
	    "mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\","
	    "\"nodev\"]},"
	    "{\"destination\":\"/"
	    "sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\","
	    "\"nodev\",\"ro\"]},"
	    "{\"destination\":\"/"
	    "tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"nodev\"]}"
	    "%s%s],"
	    "\"linux\":{\"resources\":{\"devices\":%s},"
	    "\"namespaces\":%s%s]%s,"
	    "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
	    "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/"
	    "sched_debug\","
	    "\"/sys/firmware\",\"/proc/scsi\"],"
	    "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
	    "\"/proc/sysrq-trigger\"]%s%s}%s%s}",
	    user ? user : "\"user\":{\"uid\":0,\"gid\":0}", args, caps, caps, caps,
	    b->readonly ? "true" : "false", extra_mounts ? "," : "",
	    extra_mounts ? extra_mounts : "", b->device_rules ? b->device_rules : default_rules,
	    b->namespaces ? b->namespaces : default_ns, b->user_ns ? ",{\"type\":\"user\"}" : "",
	    b->user_ns ? userns_maps : "", b->linux_extra ? "," : "",
	    b->linux_extra ? b->linux_extra : "", b->top_extra ? "," : "",
	    b->top_extra ? b->top_extra : "");
	_cleanup_free_ char *path = xasprintf("%s/config.json", b->dir);
	struct wren_err *err = NULL;

	if (write_file(path, json, strlen(json), true) < 0)
		abort();
	if (b->spec)
		rt_spec_free(b->spec);
	b->spec = NULL;
	if (rt_spec_load(b->dir, &b->spec, &err) < 0) {
		fprintf(stderr, "config.json: %s\n", err->msg);
		abort();
	}
}

static void bundle_config(struct bundle *b, const char *args, const char *user)
{
	bundle_config_mounts(b, args, user, NULL);
}

static bool bundle_cgroup_exists(const char *path)
{
	static const char *const hier[] = {"pids",  "memory", "cpu",	 "devices", "freezer",
					   "blkio", "cpuset", "systemd", "unified", ""};
	for (size_t i = 0; i < sizeof(hier) / sizeof(hier[0]); i++) {
		_cleanup_free_ char *d = xasprintf("/sys/fs/cgroup/%s%s", hier[i], path);
		struct stat st;
		if (stat(d, &st) == 0 && S_ISDIR(st.st_mode) && strcmp(path, "/") != 0)
			return true;
	}
	return false;
}

static bool bundle_has_mounts(const struct bundle *b)
{
	_cleanup_free_ char *mi = NULL;

	if (read_file("/proc/self/mountinfo", 1 << 22, &mi, NULL) < 0)
		return false;
	_cleanup_free_ char *needle = xasprintf(" %s", b->dir);
	return strstr(mi, needle) != NULL;
}

static int bundle_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(p);
	return unlink(p);
}

static void bundle_free(struct bundle *b)
{
	if (b == NULL)
		return;
	nftw(b->dir, bundle_rm, 16, FTW_DEPTH | FTW_PHYS);
	if (b->spec)
		rt_spec_free(b->spec);
	free(b->dir);
	free(b->rootfs);
	free(b);
}

#endif
