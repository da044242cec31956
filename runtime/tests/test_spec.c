/* config.json parsing: every field lands in its typed place, and bad input is refused with a
 * message that names the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libgen.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <linux/capability.h>

#include "runtime/spec.h"
#include "runtime/util.h"

#define MINIMAL_PROCESS "\"process\":{\"args\":[\"/bin/true\"],\"cwd\":\"/\"}"
#define MINIMAL_ROOT	"\"root\":{\"path\":\"/rootfs\"}"

static char *fixture(const char *name)
{
	_cleanup_free_ char *src = xstrdup(__FILE__);
	_cleanup_free_ char *path = xasprintf("%s/data/%s", dirname(src), name);
	char *buf = NULL;

	if (read_file(path, 1 << 20, &buf, NULL) < 0)
		fail_msg("read %s", path);
	return buf;
}

static struct rt_spec *parse_ok(const char *json)
{
	struct wren_err *err = NULL;
	struct rt_spec *s = NULL;

	if (rt_spec_parse(json, strlen(json), "/run/b", &s, &err) < 0)
		fail_msg("parse: %s", err->msg);
	return s;
}

/* Parse, expect failure with exactly this message and INVALID_ARGUMENT. */
static void parse_fails(const char *json, const char *msg)
{
	struct wren_err *err = NULL;
	struct rt_spec *s = NULL;

	assert_int_equal(rt_spec_parse(json, strlen(json), "/run/b", &s, &err), -1);
	assert_null(s);
	assert_non_null(err);
	assert_string_equal(err->msg, msg);
	assert_int_equal(err->code, WREN_E_INVALID_ARGUMENT);
	wren_err_free(err);
}

static void test_full_spec_fills_process(void **state)
{
	_cleanup_free_ char *json = fixture("config_full.json");
	struct rt_spec *s = parse_ok(json);
	struct rt_process *p = s->process;

	assert_string_equal(s->oci_version, "1.0.2-dev");
	assert_true(p->terminal);
	assert_int_equal(p->console_width, 80);
	assert_int_equal(p->console_height, 25);
	assert_int_equal(p->uid, 1000);
	assert_int_equal(p->gid, 1001);
	assert_true(p->has_umask);
	assert_int_equal(p->umask, 18);
	assert_int_equal(p->n_additional_gids, 2);
	assert_int_equal(p->additional_gids[1], 6);
	assert_int_equal(p->n_args, 3);
	assert_string_equal(p->args[2], "echo hi");
	assert_null(p->args[3]);
	assert_int_equal(p->n_env, 2);
	assert_string_equal(p->env[1], "TERM=xterm");
	assert_null(p->env[2]);
	assert_string_equal(p->cwd, "/work");
	assert_true(p->has_caps);
	assert_int_equal(p->caps.bounding, (1ULL << CAP_CHOWN) | (1ULL << CAP_KILL));
	assert_int_equal(p->caps.effective, 1ULL << CAP_KILL);
	assert_int_equal(p->caps.inheritable, 0);
	assert_int_equal(p->caps.permitted, (1ULL << CAP_KILL) | (1ULL << CAP_NET_BIND_SERVICE));
	assert_int_equal(p->caps.ambient, 1ULL << CAP_NET_BIND_SERVICE);
	assert_int_equal(p->n_rlimits, 2);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(p->rlimits[0].soft, 512);
	assert_int_equal(p->rlimits[0].hard, 1024);
	assert_int_equal(p->rlimits[1].resource, RLIMIT_CORE);
	assert_true(p->rlimits[1].hard == UINT64_MAX);
	assert_true(p->no_new_privileges);
	assert_string_equal(p->apparmor_profile, "wren-default");
	assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0");
	assert_true(p->has_oom_score_adj);
	assert_int_equal(p->oom_score_adj, 100);
	rt_spec_free(s);
}

static void test_full_spec_fills_root_mounts_hooks_annotations(void **state)
{
	_cleanup_free_ char *json = fixture("config_full.json");
	struct rt_spec *s = parse_ok(json);

	assert_string_equal(s->root_path, "/run/b/rootfs");
	assert_true(s->root_readonly);
	assert_string_equal(s->hostname, "box");
	assert_string_equal(s->domainname, "example.org");
	assert_int_equal(s->n_mounts, 4);
	assert_string_equal(s->mounts[0].type, "proc");
	assert_null(s->mounts[0].data);
	assert_int_equal(s->mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
	assert_string_equal(s->mounts[1].data, "mode=755,size=65536k");
	assert_true(s->mounts[2].bind);
	assert_int_equal(s->mounts[2].flags, MS_BIND | MS_REC | MS_RDONLY);
	assert_int_equal(s->mounts[2].propagation, MS_PRIVATE | MS_REC);
	assert_string_equal(s->mounts[3].type, "");
	assert_string_equal(s->mounts[3].source, "/srv/data");
	assert_true(s->mounts[3].bind);

	assert_int_equal(s->n_hooks[RT_HOOK_PRESTART], 1);
	assert_string_equal(s->hooks[RT_HOOK_PRESTART][0].args[1], "arg1");
	assert_string_equal(s->hooks[RT_HOOK_PRESTART][0].env[0], "key1=value1");
	assert_int_equal(s->hooks[RT_HOOK_CREATE_RUNTIME][0].timeout, 5);
	/* no args: argv is the path alone, as Go's exec.Cmd makes it for runc */
	assert_string_equal(s->hooks[RT_HOOK_CREATE_RUNTIME][0].args[0], "/usr/bin/netns");
	assert_null(s->hooks[RT_HOOK_CREATE_RUNTIME][0].args[1]);
	assert_null(s->hooks[RT_HOOK_CREATE_RUNTIME][0].env[0]);
	assert_int_equal(s->n_hooks[RT_HOOK_CREATE_CONTAINER], 1);
	assert_int_equal(s->n_hooks[RT_HOOK_START_CONTAINER], 1);
	assert_int_equal(s->n_hooks[RT_HOOK_POSTSTART], 2);
	assert_string_equal(s->hooks[RT_HOOK_POSTSTOP][0].path, "/usr/sbin/cleanup.sh");

	assert_string_equal(rt_spec_annotation(s, "io.kubernetes.cri.container-type"), "sandbox");
	assert_null(rt_spec_annotation(s, "nope"));
	rt_spec_free(s);
}

static void test_full_spec_fills_linux(void **state)
{
	_cleanup_free_ char *json = fixture("config_full.json");
	struct rt_spec *s = parse_ok(json);

	assert_int_equal(s->n_namespaces, 8);
	assert_non_null(rt_spec_namespace(s, RT_NS_TIME));
	assert_string_equal(rt_spec_namespace(s, RT_NS_NETWORK)->path, "/var/run/netns/x");
	assert_null(rt_spec_namespace(s, RT_NS_PID)->path);
	assert_int_equal(s->n_uid_mappings, 1);
	assert_int_equal(s->uid_mappings[0].host_id, 100000);
	assert_int_equal(s->gid_mappings[0].host_id, 200000);
	assert_int_equal(s->gid_mappings[0].size, 65536);
	assert_int_equal(s->n_devices, 2);
	assert_int_equal(s->devices[0].type, 'c');
	assert_int_equal(s->devices[0].minor, 229);
	assert_true(s->devices[0].has_file_mode);
	assert_int_equal(s->devices[0].file_mode, 0666);
	assert_true(s->devices[0].has_uid);
	assert_false(s->devices[1].has_uid);
	assert_string_equal(s->cgroups_path, "/myRuntime/myContainer");
	assert_int_equal(s->n_sysctls, 2);
	assert_string_equal(s->sysctls[0].key, "net.ipv4.ip_forward");
	assert_string_equal(s->sysctls[1].value, "4294967295");
	assert_string_equal(s->rootfs_propagation, "rslave");
	assert_int_equal(s->n_masked_paths, 2);
	assert_string_equal(s->readonly_paths[0], "/proc/sys");
	assert_string_equal(s->mount_label, "system_u:object_r:container_file_t:s0");
	rt_spec_free(s);
}

static void test_full_spec_fills_resources(void **state)
{
	_cleanup_free_ char *json = fixture("config_full.json");
	struct rt_spec *s = parse_ok(json);
	struct rt_resources *r = &s->resources;

	assert_true(s->has_resources);
	assert_true(r->has_memory_limit);
	assert_int_equal(r->memory_limit, 536870912);
	assert_int_equal(r->memory_reservation, 268435456);
	assert_int_equal(r->memory_swap, 1073741824);
	assert_int_equal(r->memory_kernel, -1);
	assert_true(r->has_memory_swappiness);
	assert_int_equal(r->memory_swappiness, 10);
	assert_true(r->disable_oom_killer);
	assert_int_equal(r->cpu_shares, 1024);
	assert_int_equal(r->cpu_quota, 50000);
	assert_int_equal(r->cpu_period, 100000);
	assert_int_equal(r->cpu_realtime_runtime, 950000);
	assert_int_equal(r->cpu_realtime_period, 1000000);
	assert_string_equal(r->cpu_cpus, "0-1");
	assert_string_equal(r->cpu_mems, "0");
	assert_true(r->has_cpu_idle);
	assert_int_equal(r->pids_limit, 32771);
	assert_int_equal(r->blkio_weight, 500);
	assert_int_equal(r->n_devices, 3);
	assert_false(r->devices[0].allow);
	assert_int_equal(r->devices[0].type, 'a');
	assert_int_equal(r->devices[0].major, -1);
	assert_int_equal(r->devices[1].minor, 229);
	assert_string_equal(r->devices[1].access, "rw");
	assert_int_equal(r->devices[2].minor, -1);
	assert_string_equal(r->devices[2].access, "rwm");
	assert_int_equal(r->n_hugepage_limits, 1);
	assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
	assert_int_equal(r->hugepage_limits[0].limit, 209715200);
	assert_int_equal(r->n_unified, 2);
	assert_string_equal(r->unified_keys[1], "io.max");
	assert_string_equal(r->unified_values[1], "8:0 rbps=1000");
	rt_spec_free(s);
}

static void test_full_spec_fills_seccomp(void **state)
{
	_cleanup_free_ char *json = fixture("config_full.json");
	struct rt_spec *s = parse_ok(json);
	struct rt_seccomp *sc = &s->seccomp;

	assert_true(s->has_seccomp);
	assert_int_equal(sc->default_action, RT_SCMP_ERRNO);
	assert_true(sc->has_default_errno_ret);
	assert_int_equal(sc->default_errno_ret, 38);
	/* the unknown architecture is skipped */
	assert_int_equal(sc->n_architectures, 2);
	assert_int_equal(sc->architectures[0], SCMP_ARCH_X86_64);
	assert_int_equal(sc->architectures[1], SCMP_ARCH_X86);
	assert_int_equal(sc->n_flags, 1);
	assert_int_equal(sc->n_rules, 2);
	assert_int_equal(sc->rules[0].n_names, 2);
	assert_string_equal(sc->rules[0].names[1], "chmod");
	assert_int_equal(sc->rules[0].action, RT_SCMP_ALLOW);
	assert_false(sc->rules[0].has_errno_ret);
	assert_true(sc->rules[1].has_errno_ret);
	assert_int_equal(sc->rules[1].errno_ret, 1);
	assert_int_equal(sc->rules[1].n_args, 2);
	assert_int_equal(sc->rules[1].args[0].op, SCMP_CMP_EQ);
	assert_int_equal(sc->rules[1].args[0].value, 8);
	assert_int_equal(sc->rules[1].args[1].index, 1);
	assert_int_equal(sc->rules[1].args[1].value_two, 4);
	assert_int_equal(sc->rules[1].args[1].op, SCMP_CMP_MASKED_EQ);
	rt_spec_free(s);
}

static void test_minimal_spec_leaves_optional_parts_empty(void **state)
{
	struct rt_spec *s =
	    parse_ok("{\"ociVersion\":\"1.0.2\"," MINIMAL_PROCESS "," MINIMAL_ROOT "}");

	assert_string_equal(s->root_path, "/rootfs");
	assert_false(s->root_readonly);
	assert_null(s->hostname);
	assert_int_equal(s->n_mounts, 0);
	assert_null(s->cgroups_path);
	assert_false(s->has_resources);
	assert_false(s->has_seccomp);
	assert_false(s->process->has_caps);
	assert_false(s->process->has_umask);
	assert_false(s->process->has_oom_score_adj);
	/* env is always a NULL-terminated vector, ready for execve */
	assert_non_null(s->process->env);
	assert_null(s->process->env[0]);
	assert_null(rt_spec_namespace(s, RT_NS_PID));
	rt_spec_free(s);
}

static void test_spec_without_process_parses(void **state)
{
	struct rt_spec *s = parse_ok("{" MINIMAL_ROOT "}");

	assert_null(s->process);
	rt_spec_free(s);
}

static void test_malformed_json_names_the_byte(void **state)
{
	const char *json = "{\"ociVersion\": \"1.0\",, }";
	struct wren_err *err = NULL;
	struct rt_spec *s = NULL;

	assert_int_equal(rt_spec_parse(json, strlen(json), "/b", &s, &err), -1);
	assert_int_equal(err->code, WREN_E_INVALID_ARGUMENT);
	/* cJSON stops just after the second comma */
	assert_string_equal(err->msg, "config.json: invalid JSON near byte 22");
	wren_err_free(err);
}

static void test_data_after_the_document_is_refused(void **state)
{
	parse_fails("{" MINIMAL_ROOT "} {}",
		    "config.json: invalid JSON near byte 28: data after the document");
}

static void test_out_of_range_values_name_the_bounds(void **state)
{
	parse_fails(
	    "{\"process\":{\"args\":[\"x\"],\"cwd\":\"/\",\"oomScoreAdj\":1e19}," MINIMAL_ROOT "}",
	    "config.json: process.oomScoreAdj: must be between -1000 and 1000");
	parse_fails("{" MINIMAL_ROOT ",\"hooks\":{\"prestart\":[{\"path\":\"/x\",\"timeout\":0}]}}",
		    "config.json: hooks.prestart[0].timeout: must be between 1 and 2147483647");
}

static void test_non_object_document_is_refused(void **state)
{
	parse_fails("[1,2]", "config.json: must be a JSON object");
}

static void test_missing_args_are_refused(void **state)
{
	parse_fails("{\"process\":{\"cwd\":\"/\"}," MINIMAL_ROOT "}",
		    "config.json: process.args: must be a non-empty array of strings");
	parse_fails("{\"process\":{\"args\":[],\"cwd\":\"/\"}," MINIMAL_ROOT "}",
		    "config.json: process.args: must be a non-empty array of strings");
	parse_fails("{\"process\":{\"args\":[1],\"cwd\":\"/\"}," MINIMAL_ROOT "}",
		    "config.json: process.args: must be a non-empty array of strings");
}

static void test_relative_cwd_is_refused(void **state)
{
	parse_fails("{\"process\":{\"args\":[\"x\"],\"cwd\":\"work\"}," MINIMAL_ROOT "}",
		    "config.json: process.cwd: must be an absolute path");
}

static void test_wrong_types_name_the_field(void **state)
{
	parse_fails(
	    "{\"process\":{\"terminal\":\"yes\",\"args\":[\"x\"],\"cwd\":\"/\"}," MINIMAL_ROOT "}",
	    "config.json: process.terminal: must be a boolean");
	parse_fails("{" MINIMAL_ROOT ",\"linux\":{\"resources\":{\"memory\":{\"limit\":1.5}}}}",
		    "config.json: linux.resources.memory.limit: must be an integer");
	parse_fails(
	    "{" MINIMAL_ROOT ",\"linux\":{\"uidMappings\":[{\"containerID\":-1,\"hostID\":0,"
	    "\"size\":1}]}}",
	    "config.json: linux.uidMappings[0].containerID: must be a non-negative integer");
}

static void test_missing_root_is_refused(void **state)
{
	parse_fails("{" MINIMAL_PROCESS "}", "config.json: root: must be an object");
}

static void test_unknown_namespace_type_is_refused(void **state)
{
	parse_fails("{" MINIMAL_ROOT
		    ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"net\"}]}}",
		    "config.json: linux.namespaces[1].type: unknown namespace type \"net\"");
}

static void test_duplicate_namespace_is_refused(void **state)
{
	parse_fails("{" MINIMAL_ROOT
		    ",\"linux\":{\"namespaces\":[{\"type\":\"ipc\"},{\"type\":\"ipc\"}]}}",
		    "config.json: linux.namespaces[1].type: duplicate namespace type \"ipc\"");
}

/* a new user namespace needs both maps; one joined by path has its own */
static void test_new_user_namespace_without_maps_is_refused(void **state)
{
	parse_fails("{" MINIMAL_ROOT ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],"
		    "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}}",
		    "config.json: linux: a new user namespace needs uidMappings and gidMappings");
	struct rt_spec *s = parse_ok("{" MINIMAL_ROOT ",\"linux\":{\"namespaces\":[{\"type\":"
				     "\"user\",\"path\":\"/proc/1/ns/user\"}]}}");
	rt_spec_free(s);
}

static void test_relative_mount_destination_is_refused(void **state)
{
	parse_fails("{" MINIMAL_ROOT ",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"},"
		    "{\"destination\":\"dev\",\"type\":\"tmpfs\"}]}",
		    "config.json: mounts[1].destination: must be an absolute path");
}

static void test_unknown_seccomp_action_is_refused(void **state)
{
	parse_fails("{" MINIMAL_ROOT
		    ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		    "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_MAYBE\"}]}}}",
		    "config.json: linux.seccomp.syscalls[0].action: unknown seccomp action "
		    "\"SCMP_ACT_MAYBE\"");
	parse_fails("{" MINIMAL_ROOT ",\"linux\":{\"seccomp\":{\"defaultAction\":\"ALLOW\"}}}",
		    "config.json: linux.seccomp.defaultAction: unknown seccomp action \"ALLOW\"");
}

static void test_unknown_seccomp_operator_is_refused(void **state)
{
	parse_fails("{" MINIMAL_ROOT
		    ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		    "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":"
		    "[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XX\"}]}]}}}",
		    "config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "
		    "\"SCMP_CMP_XX\"");
}

static void test_unknown_rlimit_is_refused(void **state)
{
	parse_fails(
	    "{\"process\":{\"args\":[\"x\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_FOO\","
	    "\"soft\":1,\"hard\":1}]}," MINIMAL_ROOT "}",
	    "config.json: process.rlimits[0].type: unknown rlimit type \"RLIMIT_FOO\"");
}

/* A set repeating an earlier one's list takes its mask; a list that only starts the same, or a
 * set that is not a list of strings, is still read for itself. */
static void test_capability_sets_repeating_a_list_get_its_mask(void **state)
{
	struct rt_spec *s = parse_ok(
	    "{\"process\":{\"args\":[\"x\"],\"cwd\":\"/\",\"capabilities\":{"
	    "\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"],\"effective\":[\"CAP_CHOWN\",\"CAP_KILL\"],"
	    "\"permitted\":[\"CAP_CHOWN\"],\"ambient\":[]}}," MINIMAL_ROOT "}");
	const struct rt_process *p = s->process;

	assert_int_equal(p->caps.bounding, (1ULL << CAP_CHOWN) | (1ULL << CAP_KILL));
	assert_int_equal(p->caps.effective, p->caps.bounding);
	assert_int_equal(p->caps.inheritable, 0);
	assert_int_equal(p->caps.permitted, 1ULL << CAP_CHOWN);
	assert_int_equal(p->caps.ambient, 0);
	rt_spec_free(s);
	parse_fails("{\"process\":{\"args\":[\"x\"],\"cwd\":\"/\",\"capabilities\":{"
		    "\"bounding\":[\"CAP_KILL\",1],\"effective\":[\"CAP_KILL\",1]}}," MINIMAL_ROOT
		    "}",
		    "config.json: process.capabilities.bounding: must be an array of strings");
}

static void test_unknown_capability_is_ignored(void **state)
{
	struct rt_spec *s =
	    parse_ok("{\"process\":{\"args\":[\"x\"],\"cwd\":\"/\",\"capabilities\":{\"bounding\":"
		     "[\"CAP_FROBNICATE\",\"CAP_SYS_ADMIN\"]}}," MINIMAL_ROOT "}");

	assert_int_equal(s->process->caps.bounding, 1ULL << CAP_SYS_ADMIN);
	rt_spec_free(s);
}

static void test_unknown_fields_are_ignored(void **state)
{
	struct rt_spec *s =
	    parse_ok("{\"windows\":{\"x\":1},\"vm\":null,\"process\":{\"args\":[\"x\"],"
		     "\"cwd\":\"/\",\"commandLine\":\"x\"}," MINIMAL_ROOT "}");

	assert_string_equal(s->process->args[0], "x");
	rt_spec_free(s);
}

static void test_type_bind_mount_is_a_bind_without_the_option(void **state)
{
	struct rt_spec *s = parse_ok("{" MINIMAL_ROOT ",\"mounts\":[{\"destination\":\"/x\","
				     "\"type\":\"bind\",\"source\":\"/y\",\"options\":[\"ro\"]}]}");

	assert_true(s->mounts[0].bind);
	assert_int_equal(s->mounts[0].flags, MS_BIND | MS_RDONLY);
	rt_spec_free(s);
}

static void test_config_over_16mib_is_refused(void **state)
{
	size_t len = (16u << 20) + 1;
	char *big = xmalloc(len + 1);
	struct wren_err *err = NULL;
	struct rt_spec *s = NULL;

	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	big[len] = '\0';
	assert_int_equal(rt_spec_parse(big, len, "/b", &s, &err), -1);
	assert_int_equal(err->code, WREN_E_INVALID_ARGUMENT);
	assert_non_null(strstr(err->msg, "larger than"));
	wren_err_free(err);
	free(big);
}

static void test_load_reads_the_bundles_config(void **state)
{
	char dir[] = "/tmp/wren-spec-XXXXXX";
	_cleanup_free_ char *cfg = NULL;
	const char *json = "{" MINIMAL_PROCESS ",\"root\":{\"path\":\"rootfs\"}}";
	struct wren_err *err = NULL;
	struct rt_spec *s = NULL;

	assert_non_null(mkdtemp(dir));
	cfg = xasprintf("%s/config.json", dir);
	assert_int_equal(write_file(cfg, json, strlen(json), true), 0);
	if (rt_spec_load(dir, &s, &err) < 0)
		fail_msg("load: %s", err->msg);
	{
		_cleanup_free_ char *want = xasprintf("%s/rootfs", dir);
		assert_string_equal(s->root_path, want);
	}
	rt_spec_free(s);
	unlink(cfg);
	rmdir(dir);
	assert_int_equal(rt_spec_load(dir, &s, &err), -1);
	assert_int_equal(err->code, WREN_E_NOT_FOUND);
	wren_err_free(err);
}

static void test_process_parse_reads_an_exec_spec(void **state)
{
	const char *json =
	    "{\"args\":[\"sh\"],\"cwd\":\"/tmp\",\"env\":[\"A=1\"],\"user\":{\"uid\":7,"
	    "\"gid\":8},\"terminal\":true}";
	struct wren_err *err = NULL;
	struct rt_process *p = NULL;

	if (rt_process_parse(json, strlen(json), &p, &err) < 0)
		fail_msg("parse: %s", err->msg);
	assert_int_equal(p->uid, 7);
	assert_true(p->terminal);
	assert_string_equal(p->env[0], "A=1");
	rt_process_free(p);
	assert_int_equal(rt_process_parse("{\"cwd\":\"/\"}", 11, &p, &err), -1);
	assert_string_equal(err->msg, "process: args: must be a non-empty array of strings");
	wren_err_free(err);
}

static void test_resources_parse_reads_an_update(void **state)
{
	const char *json =
	    "{\"memory\":{\"limit\":67108864,\"swappiness\":-1},\"pids\":{\"limit\":-1},"
	    "\"cpu\":{\"quota\":-1}}";
	struct wren_err *err = NULL;
	struct rt_resources r;

	if (rt_resources_parse(json, strlen(json), &r, &err) < 0)
		fail_msg("parse: %s", err->msg);
	assert_int_equal(r.memory_limit, 67108864);
	/* Docker's -1 means "leave it alone" */
	assert_false(r.has_memory_swappiness);
	assert_true(r.has_pids_limit);
	assert_int_equal(r.pids_limit, -1);
	assert_int_equal(r.cpu_quota, -1);
	rt_resources_clear(&r);
	assert_int_equal(rt_resources_parse("{\"memory\":{\"swappiness\":101}}", 30, &r, &err), -1);
	assert_string_equal(err->msg, "resources.memory.swappiness: must be between 0 and 100");
	wren_err_free(err);
}

static void test_resources_parse_block_io_device_lists(void **state)
{
	const char *json = "{\"blockIO\":{\"weight\":300,\"leafWeight\":200,"
			   "\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":500}],"
			   "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576}],"
			   "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":16,\"rate\":0},"
			   "{\"major\":253,\"minor\":1,\"rate\":100}]}}";
	const char *bad = "{\"blockIO\":{\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":0}]}}";
	struct wren_err *err = NULL;
	struct rt_resources r;

	if (rt_resources_parse(json, strlen(json), &r, &err) < 0)
		fail_msg("parse: %s", err->msg);
	assert_int_equal(r.blkio_weight, 300);
	assert_int_equal(r.blkio_leaf_weight, 200);
	assert_int_equal(r.n_blkio[RT_BLKIO_WEIGHT_DEVICE], 1);
	assert_true(r.blkio_lists[RT_BLKIO_WEIGHT_DEVICE][0].has_weight);
	assert_false(r.blkio_lists[RT_BLKIO_WEIGHT_DEVICE][0].has_leaf_weight);
	assert_int_equal(r.blkio_lists[RT_BLKIO_WEIGHT_DEVICE][0].weight, 500);
	assert_int_equal(r.n_blkio[RT_BLKIO_READ_BPS], 1);
	assert_int_equal(r.blkio_lists[RT_BLKIO_READ_BPS][0].rate, 1048576);
	assert_int_equal(r.n_blkio[RT_BLKIO_WRITE_BPS], 0);
	assert_int_equal(r.n_blkio[RT_BLKIO_WRITE_IOPS], 2);
	assert_int_equal(r.blkio_lists[RT_BLKIO_WRITE_IOPS][1].major, 253);
	assert_int_equal(r.blkio_lists[RT_BLKIO_WRITE_IOPS][1].rate, 100);
	rt_resources_clear(&r);
	assert_int_equal(rt_resources_parse(bad, strlen(bad), &r, &err), -1);
	assert_string_equal(err->msg,
			    "resources.blockIO.throttleWriteBpsDevice[0].rate: is required");
	wren_err_free(err);
}

static void test_huge_values_are_clamped_not_wrapped(void **state)
{
	struct rt_spec *s = parse_ok("{" MINIMAL_ROOT ",\"linux\":{\"resources\":{\"memory\":"
				     "{\"limit\":9223372036854775807}}}}");

	assert_true(s->resources.memory_limit == INT64_MAX);
	rt_spec_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_spec_fills_process),
	    cmocka_unit_test(test_full_spec_fills_root_mounts_hooks_annotations),
	    cmocka_unit_test(test_full_spec_fills_linux),
	    cmocka_unit_test(test_full_spec_fills_resources),
	    cmocka_unit_test(test_full_spec_fills_seccomp),
	    cmocka_unit_test(test_minimal_spec_leaves_optional_parts_empty),
	    cmocka_unit_test(test_spec_without_process_parses),
	    cmocka_unit_test(test_malformed_json_names_the_byte),
	    cmocka_unit_test(test_non_object_document_is_refused),
	    cmocka_unit_test(test_data_after_the_document_is_refused),
	    cmocka_unit_test(test_out_of_range_values_name_the_bounds),
	    cmocka_unit_test(test_missing_args_are_refused),
	    cmocka_unit_test(test_relative_cwd_is_refused),
	    cmocka_unit_test(test_wrong_types_name_the_field),
	    cmocka_unit_test(test_missing_root_is_refused),
	    cmocka_unit_test(test_unknown_namespace_type_is_refused),
	    cmocka_unit_test(test_duplicate_namespace_is_refused),
	    cmocka_unit_test(test_new_user_namespace_without_maps_is_refused),
	    cmocka_unit_test(test_relative_mount_destination_is_refused),
	    cmocka_unit_test(test_unknown_seccomp_action_is_refused),
	    cmocka_unit_test(test_unknown_seccomp_operator_is_refused),
	    cmocka_unit_test(test_unknown_rlimit_is_refused),
	    cmocka_unit_test(test_capability_sets_repeating_a_list_get_its_mask),
	    cmocka_unit_test(test_unknown_capability_is_ignored),
	    cmocka_unit_test(test_unknown_fields_are_ignored),
	    cmocka_unit_test(test_type_bind_mount_is_a_bind_without_the_option),
	    cmocka_unit_test(test_config_over_16mib_is_refused),
	    cmocka_unit_test(test_load_reads_the_bundles_config),
	    cmocka_unit_test(test_process_parse_reads_an_exec_spec),
	    cmocka_unit_test(test_resources_parse_reads_an_update),
	    cmocka_unit_test(test_resources_parse_block_io_device_lists),
	    cmocka_unit_test(test_huge_values_are_clamped_not_wrapped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
