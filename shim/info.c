/* `-info` (containerd 2.x): read the runtime options Any on stdin and print a RuntimeInfo with our
 * name, version and the OCI runtime features document, so that containerd's introspection API
 * shows what wren supports. The features list only what wren really does; each list is kept next
 * to the code that implements it in spirit, and the integration tests check the few containerd
 * acts on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "containerd/types/introspection.pb-c.h"
#include "runtime/util.h"
#include "shim/shim.h"

#define FEATURES_URL "types.containerd.io/opencontainers/runtime-spec/1/features/Features"

static const char *const namespaces[] = {"cgroup", "ipc",  "mount", "network",
					 "pid",	   "time", "user",  "uts"};
static const char *const hooks[] = {"prestart",	      "createRuntime", "createContainer",
				    "startContainer", "poststart",     "poststop"};
static const char *const mount_options[] = {
    "async",	   "atime",	   "bind",	  "defaults",
    "dev",	   "diratime",	   "dirsync",	  "exec",
    "mand",	   "noatime",	   "nodev",	  "nodiratime",
    "noexec",	   "nomand",	   "norelatime",  "nostrictatime",
    "nosuid",	   "nosymfollow",  "private",	  "ratime",
    "rbind",	   "rdev",	   "rdiratime",	  "relatime",
    "remount",	   "rexec",	   "rnoatime",	  "rnodev",
    "rnodiratime", "rnoexec",	   "rnorelatime", "rnostrictatime",
    "rnosuid",	   "rnosymfollow", "ro",	  "rprivate",
    "rrelatime",   "rro",	   "rrw",	  "rshared",
    "rslave",	   "rstrictatime", "rsuid",	  "rsymfollow",
    "runbindable", "rw",	   "shared",	  "slave",
    "strictatime", "suid",	   "symfollow",	  "sync",
    "unbindable"};
static const char *const seccomp_actions[] = {
    "SCMP_ACT_ALLOW",	    "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",	"SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",   "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"};
static const char *const seccomp_ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
					  "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
					  "SCMP_CMP_NE"};

static void json_list(FILE *f, const char *const *v, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", v[i]);
	fputc(']', f);
}

#define LIST(f, a) json_list(f, a, sizeof(a) / sizeof(a[0]))

/* The capability names this kernel and libcap know, upper case as the spec spells them. */
static void json_caps(FILE *f)
{
	fputc('[', f);
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		char *name = cap_to_name(c);
		if (!name)
			continue;
		fprintf(f, "%s\"", c ? "," : "");
		for (char *p = name; *p; p++)
			fputc(*p >= 'a' && *p <= 'z' ? *p - 32 : *p, f);
		fputc('"', f);
		cap_free(name);
	}
	fputc(']', f);
}

static char *features_json(size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	fputs("{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.1.0\",\"hooks\":", f);
	LIST(f, hooks);
	fputs(",\"mountOptions\":", f);
	LIST(f, mount_options);
	fputs(",\"linux\":{\"namespaces\":", f);
	LIST(f, namespaces);
	fputs(",\"capabilities\":", f);
	json_caps(f);
	fputs(",\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":true,\"systemdUser\":false,"
	      "\"rdma\":false},\"seccomp\":{\"enabled\":true,\"actions\":",
	      f);
	LIST(f, seccomp_actions);
	fputs(",\"operators\":", f);
	LIST(f, seccomp_ops);
	fputs(
	    "},\"apparmor\":{\"enabled\":true},\"selinux\":{\"enabled\":false},"
	    "\"intelRdt\":{\"enabled\":false},\"mountExtensions\":{\"idmap\":{\"enabled\":false}}}"
	    ",\"annotations\":{\"io.containerd.wren.version\":\"" WREN_VERSION "\"}}",
	    f);
	if (fclose(f) != 0)
		abort();
	return buf;
}

int shim_action_info(void)
{
	Containerd__Types__RuntimeInfo info = CONTAINERD__TYPES__RUNTIME_INFO__INIT;
	Containerd__Types__RuntimeVersion ver = CONTAINERD__TYPES__RUNTIME_VERSION__INIT;
	Google__Protobuf__Any features = GOOGLE__PROTOBUF__ANY__INIT;
	Google__Protobuf__Any *options = NULL;
	_cleanup_free_ char *json = NULL;
	_cleanup_free_ uint8_t *in = NULL, *out = NULL;
	size_t n = 0, cap = 0, jlen = 0, olen;

	for (;;) {
		ssize_t r;
		if (n == cap) {
			if (cap >= (1u << 20))
				break;
			cap = cap ? cap * 2 : 4096;
			in = xrealloc(in, cap);
		}
		r = read(STDIN_FILENO, in + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (n > 0)
		options = google__protobuf__any__unpack(NULL, n, in);

	json = features_json(&jlen);
	features.type_url = FEATURES_URL;
	features.value.data = (uint8_t *)json;
	features.value.len = jlen;
	ver.version = WREN_VERSION;
	info.name = "io.containerd.wren.v2";
	info.version = &ver;
	info.options = options;
	info.features = &features;

	olen = containerd__types__runtime_info__get_packed_size(&info);
	out = xmalloc(olen);
	containerd__types__runtime_info__pack(&info, out);
	if (options)
		google__protobuf__any__free_unpacked(options, NULL);
	return write_all(STDOUT_FILENO, out, olen) < 0 ? 1 : 0;
}
