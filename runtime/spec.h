/* The OCI runtime spec (config.json), parsed once into typed structs and validated (runtime/spec.c).
 * Nothing else in wren touches cJSON. Only what wren acts on is kept; unknown fields are ignored.
 * Strings are owned by the struct; arrays are (pointer, count) pairs; absent optional values are
 * flagged with has_* fields. */
#ifndef WREN_SPEC_H
#define WREN_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/err.h"

struct rt_rlimit {
	int resource; /* RLIMIT_* already mapped from "RLIMIT_NOFILE" etc. */
	uint64_t soft, hard;
};

struct rt_caps {
	/* each a bitmask of capability numbers (1ULL << CAP_X); names mapped at parse time */
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct rt_process {
	bool terminal;
	uint32_t console_width, console_height;
	uid_t uid;
	gid_t gid;
	uint32_t umask;
	bool has_umask;
	gid_t *additional_gids;
	size_t n_additional_gids;
	char **args; /* NULL-terminated, n_args entries */
	size_t n_args;
	char **env; /* NULL-terminated */
	size_t n_env;
	char *cwd; /* absolute; validated */
	bool has_caps;
	struct rt_caps caps;
	struct rt_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	char *selinux_label;
	int oom_score_adj;
	bool has_oom_score_adj;
};

struct rt_mount_spec {
	char *destination; /* absolute inside the container */
	char *type;	   /* may be "" for bind mounts */
	char *source;
	/* options split at parse time: */
	unsigned long flags;	   /* MS_* to set */
	unsigned long clear_flags; /* MS_* explicitly cleared (rw, suid, ...) */
	/* MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE (| MS_REC), 0 if none */
	unsigned long propagation;
	uint64_t rec_set, rec_clr; /* rro and the like: MOUNT_ATTR_* for the whole tree */
	char *data;		   /* remaining comma-joined options for the filesystem, or NULL */
	bool bind;		   /* "bind"/"rbind" or type "bind" */
};

enum rt_ns_type {
	RT_NS_PID,
	RT_NS_NETWORK,
	RT_NS_MOUNT,
	RT_NS_IPC,
	RT_NS_UTS,
	RT_NS_USER,
	RT_NS_CGROUP,
	RT_NS_TIME,
	RT_NS__MAX
};

struct rt_namespace {
	enum rt_ns_type type;
	char *path; /* NULL: create a new one; else join this one */
};

struct rt_id_map {
	uint32_t container_id, host_id, size;
};

struct rt_device {
	char *path;
	char type; /* 'c', 'b', 'u', 'p' */
	int64_t major, minor;
	uint32_t file_mode;
	bool has_file_mode;
	uid_t uid;
	gid_t gid;
	bool has_uid, has_gid;
};

struct rt_device_rule {
	bool allow;
	char type;	      /* 'a', 'c', 'b' */
	int64_t major, minor; /* -1 = wildcard */
	char *access;	      /* "rwm" subset */
};

/* The per-device lists of blockIO, in the order of their v1 files (cgroup_v1.c, cgroup_v2.c). */
enum rt_blkio_list {
	RT_BLKIO_WEIGHT_DEVICE,
	RT_BLKIO_READ_BPS,
	RT_BLKIO_WRITE_BPS,
	RT_BLKIO_READ_IOPS,
	RT_BLKIO_WRITE_IOPS,
	RT_BLKIO_NLISTS
};

struct rt_blkio_device {
	int64_t major, minor;
	bool has_weight, has_leaf_weight;
	uint16_t weight, leaf_weight;
	uint64_t rate; /* throttle lists: bytes or io per second, 0 = no limit */
};

struct rt_hugepage_limit {
	char *page_size; /* "2MB" */
	uint64_t limit;
};

/* LinuxResources: every value optional (has_*). -1 where the spec says "unlimited". */
struct rt_resources {
	bool has_memory_limit, has_memory_reservation, has_memory_swap, has_memory_swappiness,
	    has_memory_kernel, has_disable_oom_killer;
	int64_t memory_limit, memory_reservation, memory_swap, memory_kernel;
	uint64_t memory_swappiness;
	bool disable_oom_killer;
	bool has_cpu_shares, has_cpu_quota, has_cpu_period, has_cpu_realtime_runtime,
	    has_cpu_realtime_period, has_cpu_idle;
	uint64_t cpu_shares, cpu_period, cpu_realtime_period;
	int64_t cpu_quota, cpu_realtime_runtime, cpu_idle;
	char *cpu_cpus, *cpu_mems; /* cpuset, NULL if unset */
	bool has_pids_limit;
	int64_t pids_limit;
	bool has_blkio_weight, has_blkio_leaf_weight;
	uint16_t blkio_weight, blkio_leaf_weight;
	/* blockIO.weightDevice and the four throttle lists, one entry per device */
	struct rt_blkio_device *blkio_lists[RT_BLKIO_NLISTS];
	size_t n_blkio[RT_BLKIO_NLISTS];
	struct rt_device_rule *devices;
	size_t n_devices;
	struct rt_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;
	/* cgroup v2 "unified" key/values, written as is */
	char **unified_keys, **unified_values;
	size_t n_unified;
};

/* seccomp */
enum rt_seccomp_action {
	RT_SCMP_KILL,
	RT_SCMP_KILL_PROCESS,
	RT_SCMP_KILL_THREAD,
	RT_SCMP_TRAP,
	RT_SCMP_ERRNO,
	RT_SCMP_TRACE,
	RT_SCMP_ALLOW,
	RT_SCMP_LOG,
	RT_SCMP_NOTIFY,
};

struct rt_seccomp_arg {
	unsigned int index;
	uint64_t value, value_two;
	int op; /* libseccomp's enum scmp_compare, mapped at parse time */
};

struct rt_seccomp_rule {
	char **names;
	size_t n_names;
	enum rt_seccomp_action action;
	bool has_errno_ret;
	uint32_t errno_ret;
	struct rt_seccomp_arg *args;
	size_t n_args;
};

struct rt_seccomp {
	enum rt_seccomp_action default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	uint32_t *architectures; /* SCMP_ARCH_* tokens */
	size_t n_architectures;
	char **flags;
	size_t n_flags;
	struct rt_seccomp_rule *rules;
	size_t n_rules;
};

struct rt_hook {
	char *path;
	char **args; /* NULL-terminated */
	char **env;  /* NULL-terminated */
	int timeout; /* seconds, 0 = none */
};

enum rt_hook_kind {
	RT_HOOK_PRESTART,
	RT_HOOK_CREATE_RUNTIME,
	RT_HOOK_CREATE_CONTAINER,
	RT_HOOK_START_CONTAINER,
	RT_HOOK_POSTSTART,
	RT_HOOK_POSTSTOP,
	RT_HOOK__MAX
};

struct rt_sysctl {
	char *key, *value;
};

struct rt_spec {
	char *oci_version;
	char *root_path; /* absolute: resolved against the bundle at load time */
	bool root_readonly;
	char *hostname;
	char *domainname;
	/* may be NULL only for specs that never start (rejected at create) */
	struct rt_process *process;
	struct rt_mount_spec *mounts;
	size_t n_mounts;
	struct rt_hook *hooks[RT_HOOK__MAX];
	size_t n_hooks[RT_HOOK__MAX];
	char **annotation_keys, **annotation_values;
	size_t n_annotations;
	/* linux */
	struct rt_namespace *namespaces;
	size_t n_namespaces;
	struct rt_id_map *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct rt_device *devices;
	size_t n_devices;
	char *cgroups_path; /* NULL if unset */
	bool has_resources;
	struct rt_resources resources;
	struct rt_sysctl *sysctls;
	size_t n_sysctls;
	bool has_seccomp;
	struct rt_seccomp seccomp;
	char *rootfs_propagation; /* NULL if unset */
	char **masked_paths, **readonly_paths;
	size_t n_masked_paths, n_readonly_paths;
	char *mount_label;
};

/* Parse config.json text. bundle (absolute) resolves a relative root.path. Errors name the field:
 * "config.json: process.args: must be a non-empty array of strings". */
int rt_spec_parse(const char *json, size_t len, const char *bundle, struct rt_spec **out,
		  struct wren_err **err);
/* Read and parse <bundle>/config.json. */
int rt_spec_load(const char *bundle, struct rt_spec **out, struct wren_err **err);
void rt_spec_free(struct rt_spec *s);
/* The first of keys that <bundle>/config.json annotates with a non-empty value (a copy), or
 * NULL; without parsing the rest of the spec (spec_annotations.c). Never an error: an unreadable
 * or invalid spec has no annotations here, and Create reports what is wrong with it. */
char *rt_spec_peek_annotation(const char *bundle, const char *const *keys, size_t n_keys);
/* The value of an annotation, or NULL. */
const char *rt_spec_annotation(const struct rt_spec *s, const char *key);
/* The namespace entry of a type, or NULL if the spec does not ask for it. */
const struct rt_namespace *rt_spec_namespace(const struct rt_spec *s, enum rt_ns_type t);

/* An OCI "process" object on its own (an exec's spec). */
int rt_process_parse(const char *json, size_t len, struct rt_process **out, struct wren_err **err);
void rt_process_free(struct rt_process *p);

/* LinuxResources on their own (Update). */
int rt_resources_parse(const char *json, size_t len, struct rt_resources *out,
		       struct wren_err **err);
void rt_resources_clear(struct rt_resources *r);

#endif
