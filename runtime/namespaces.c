/* Namespaces: see namespaces.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "runtime/namespaces.h"
#include "runtime/syscalls.h"
#include "runtime/util.h"

static const struct {
	uint64_t flag;
	const char *name;
} ns_table[RT_NS__MAX] = {
    [RT_NS_PID] = {CLONE_NEWPID, "pid"},	  [RT_NS_NETWORK] = {CLONE_NEWNET, "net"},
    [RT_NS_MOUNT] = {CLONE_NEWNS, "mnt"},	  [RT_NS_IPC] = {CLONE_NEWIPC, "ipc"},
    [RT_NS_UTS] = {CLONE_NEWUTS, "uts"},	  [RT_NS_USER] = {CLONE_NEWUSER, "user"},
    [RT_NS_CGROUP] = {CLONE_NEWCGROUP, "cgroup"}, [RT_NS_TIME] = {CLONE_NEWTIME, "time"},
};

uint64_t rt_ns_flag(enum rt_ns_type t)
{
	return (unsigned)t < RT_NS__MAX ? ns_table[t].flag : 0;
}

const char *rt_ns_name(enum rt_ns_type t)
{
	return (unsigned)t < RT_NS__MAX ? ns_table[t].name : "?";
}

uint64_t rt_ns_clone_flags(const struct rt_spec *spec)
{
	uint64_t flags = 0;
	bool mount_named = false;

	for (size_t i = 0; i < spec->n_namespaces; i++) {
		const struct rt_namespace *ns = &spec->namespaces[i];
		if (ns->type == RT_NS_MOUNT)
			mount_named = true;
		if (ns->path == NULL || ns->path[0] == 0)
			flags |= rt_ns_flag(ns->type);
	}
	if (!mount_named)
		flags |= CLONE_NEWNS;
	/* a cgroup namespace is rooted at the cgroup its creator is in: it is unshared by the
	 * child once it sits in the container's cgroup (attached by the parent on v1) */
	return flags & ~(uint64_t)CLONE_NEWCGROUP;
}

int rt_ns_unshare_late(const struct rt_spec *spec, struct wren_err **err)
{
	const struct rt_namespace *cg = rt_spec_namespace(spec, RT_NS_CGROUP);

	if (cg && (cg->path == NULL || cg->path[0] == 0) && unshare(CLONE_NEWCGROUP) < 0)
		return wren_err_errno(err, errno, "unshare the cgroup namespace");
	return 0;
}

static int join_one(const struct rt_namespace *ns, struct wren_err **err)
{
	_cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return wren_err_errno(err, errno, "open %s namespace %s", rt_ns_name(ns->type),
				      ns->path);
	if (setns(fd, (int)rt_ns_flag(ns->type)) < 0)
		return wren_err_errno(err, errno, "join %s namespace %s", rt_ns_name(ns->type),
				      ns->path);
	return 0;
}

int rt_ns_join_paths(const struct rt_spec *spec, struct wren_err **err)
{
	/* user first (it grants the rights to join the others), mount last (the paths of the
	 * others are resolved in the current mount namespace) */
	static const enum rt_ns_type order[] = {RT_NS_USER,   RT_NS_IPC,  RT_NS_UTS,  RT_NS_NETWORK,
						RT_NS_CGROUP, RT_NS_TIME, RT_NS_MOUNT};

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (size_t i = 0; i < spec->n_namespaces; i++) {
			const struct rt_namespace *ns = &spec->namespaces[i];
			if (ns->type != order[k] || ns->path == NULL || ns->path[0] == 0)
				continue;
			if (join_one(ns, err) < 0)
				return -1;
		}
	}
	return 0;
}

int rt_ns_enter_pid_for_children(int fd, int *saved, struct wren_err **err)
{
	*saved = -1;
	if (rt_ns_visit_pid_for_children(fd, saved, err) < 0) {
		closep(saved);
		return -1;
	}
	return 0;
}

void rt_ns_restore_pid_for_children(int *saved)
{
	if (*saved < 0)
		return;
	rt_ns_leave_pid_for_children(*saved);
	closep(saved);
}

int rt_ns_visit_pid_for_children(int fd, int *own, struct wren_err **err)
{
	if (*own < 0) {
		*own = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		if (*own < 0)
			return wren_err_errno(err, errno, "open /proc/self/ns/pid_for_children");
	}
	if (setns(fd, CLONE_NEWPID) < 0)
		return wren_err_errno(err, errno, "enter pid namespace");
	return 0;
}

void rt_ns_leave_pid_for_children(int own)
{
	if (setns(own, CLONE_NEWPID) < 0)
		abort();
}

uint64_t rt_ns_differing(pid_t pid)
{
	uint64_t flags = 0;

	for (int t = 0; t < RT_NS__MAX; t++) {
		char p[64];
		struct stat a, b;

		if (t == RT_NS_PID)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns_table[t].name);
		if (stat(p, &a) < 0)
			continue;
		snprintf(p, sizeof(p), "/proc/self/ns/%s", ns_table[t].name);
		if (stat(p, &b) < 0)
			continue;
		if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
			flags |= ns_table[t].flag;
	}
	return flags;
}
