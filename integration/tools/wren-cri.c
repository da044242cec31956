/* wren-cri: a small CRI client (runtime.v1.RuntimeService over gRPC), so that the CRI tests drive
 * containerd's CRI plugin the way the kubelet does, with a RuntimeClass handler that maps to wren
 * (or to runc-v2, for comparison). gRPC is gRPC's C core library (Debian's libgrpc-dev); the
 * messages are protobuf-c from protos/k8s/cri/runtime/v1/runtime.proto.
 *
 *   wren-cri SOCKET version                      runtime_name=… runtime_version=… api=…
 *   wren-cri SOCKET runp NAME HANDLER LOGDIR CGROUP-PARENT [--pod-network] [--privileged]
 *       RunPodSandbox with the given runtime handler; prints the sandbox id. The pod shares the
 *       host's network, or with --pod-network has one of its own (CRI makes it and runs the CNI
 *       plugin); it has its own pid and ipc namespaces; its containers' logs go under LOGDIR.
 *       --privileged: a privileged pod, which may hold privileged containers.
 *   wren-cri SOCKET podstatus POD-ID             state=READY|NOTREADY handler=… ip=…
 *   wren-cri SOCKET create POD-ID POD-NAME LOGDIR CGROUP-PARENT NAME IMAGE [OPTION...] CMD [ARG...]
 *       CreateContainer (the sandbox's config is made again from POD-NAME, LOGDIR and
 *       CGROUP-PARENT, as the kubelet sends it again); its log is LOGDIR/NAME.log. Prints the id.
 *       Options, as the kubelet fills LinuxContainerConfig from a pod spec:
 *         --memory BYTES  --cpu-shares N  --cpu-quota US  --cpu-period US  --oom-score-adj N
 *         --user UID  --read-only  --no-new-privs  --seccomp-runtime-default  --privileged
 *         --mount HOST-PATH:CONTAINER-PATH[:ro][:host-to-container]   (a hostPath volume; up to 8)
 *   wren-cri SOCKET update ID [RESOURCE OPTION...]   UpdateContainerResources (--memory ... --oom-score-adj)
 *   wren-cri SOCKET start ID | stop ID TIMEOUT | rm ID | stopp POD-ID | rmp POD-ID
 *   wren-cri SOCKET status ID                    state=CREATED|RUNNING|EXITED|UNKNOWN exit=N reason=…
 *   wren-cri SOCKET stats ID                     cpu_ns=… memory_working_set=… memory_usage=…
 *   wren-cri SOCKET exec ID TIMEOUT CMD [ARG...]
 *       ExecSync: the command's stdout and stderr are written to ours; exits with its exit code.
 *
 * Exit status 0 on success (exec: the command's); 1 with "wren-cri: METHOD: CODE: message" on
 * stderr when the call fails; 2 for usage errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include "k8s/cri/runtime/v1/runtime.pb-c.h"

#define SERVICE	       "/runtime.v1.RuntimeService/"
#define CALL_TIMEOUT_S 120

static grpc_channel *channel;

static void usage(void)
{
	fputs(
	    "usage: wren-cri SOCKET version | runp NAME HANDLER LOGDIR CGROUP-PARENT "
	    "[--pod-network] [--privileged] | podstatus "
	    "POD | create POD POD-NAME LOGDIR CGROUP-PARENT NAME IMAGE [OPTION...] CMD [ARG...] | "
	    "update ID OPTION... | start ID | stop ID TIMEOUT | rm ID | stopp POD | rmp POD | "
	    "status ID | stats ID | exec ID TIMEOUT CMD [ARG...]\n(see the comment at the top of "
	    "integration/tools/wren-cri.c for the options)\n",
	    stderr);
	exit(2);
}

/* One unary call: the packed request out, the response unpacked by `unpack`. Exits 1 with the
 * gRPC status on a failed call. */
static void *call(const char *method, const ProtobufCMessage *req,
		  void *(*unpack)(ProtobufCAllocator *, size_t, const uint8_t *))
{
	size_t len = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);
	gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
					     gpr_time_from_seconds(CALL_TIMEOUT_S, GPR_TIMESPAN));
	char path[128];
	grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
	grpc_metadata_array initial, trailing;
	grpc_byte_buffer *out, *in = NULL;
	grpc_status_code status = GRPC_STATUS_UNKNOWN;
	grpc_slice details = grpc_empty_slice(), payload, method_slice;
	grpc_op ops[6];
	grpc_call *c;
	grpc_event ev;
	void *resp = NULL;

	if (!buf)
		abort();
	protobuf_c_message_pack(req, buf);
	payload = grpc_slice_from_copied_buffer((const char *)buf, len);
	free(buf);
	out = grpc_raw_byte_buffer_create(&payload, 1);
	grpc_slice_unref(payload);
	snprintf(path, sizeof(path), SERVICE "%s", method);
	method_slice = grpc_slice_from_copied_string(path);
	c = grpc_channel_create_call(channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method_slice, NULL,
				     deadline, NULL);
	grpc_slice_unref(method_slice);
	grpc_metadata_array_init(&initial);
	grpc_metadata_array_init(&trailing);

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = out;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &in;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
	ops[5].data.recv_status_on_client.status = &status;
	ops[5].data.recv_status_on_client.status_details = &details;
	if (grpc_call_start_batch(c, ops, 6, (void *)1, NULL) != GRPC_CALL_OK) {
		fprintf(stderr, "wren-cri: %s: cannot start the call\n", method);
		exit(2);
	}
	ev = grpc_completion_queue_pluck(cq, (void *)1, deadline, NULL);
	if (ev.type != GRPC_OP_COMPLETE || !ev.success) {
		fprintf(stderr, "wren-cri: %s: the call did not complete\n", method);
		exit(2);
	}
	if (status != GRPC_STATUS_OK) {
		char *msg = grpc_slice_to_c_string(details);
		fprintf(stderr, "wren-cri: %s: %d: %s\n", method, (int)status, msg);
		exit(1);
	}
	if (in) {
		grpc_byte_buffer_reader r;
		grpc_slice all;

		if (!grpc_byte_buffer_reader_init(&r, in))
			abort();
		all = grpc_byte_buffer_reader_readall(&r);
		resp = unpack(NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
		grpc_slice_unref(all);
		grpc_byte_buffer_reader_destroy(&r);
		grpc_byte_buffer_destroy(in);
	} else {
		resp = unpack(NULL, 0, (const uint8_t *)"");
	}
	if (!resp) {
		fprintf(stderr, "wren-cri: %s: the response does not decode\n", method);
		exit(2);
	}
	grpc_byte_buffer_destroy(out);
	grpc_slice_unref(details);
	grpc_metadata_array_destroy(&initial);
	grpc_metadata_array_destroy(&trailing);
	grpc_call_unref(c);
	grpc_completion_queue_shutdown(cq);
	grpc_completion_queue_destroy(cq);
	return resp;
}

#define UNPACK(fn) ((void *(*)(ProtobufCAllocator *, size_t, const uint8_t *))(fn))

/* The pod's config, the same at RunPodSandbox and at every CreateContainer in it. */
struct pod {
	Runtime__V1__PodSandboxConfig config;
	Runtime__V1__PodSandboxMetadata meta;
	Runtime__V1__LinuxPodSandboxConfig lx;
	Runtime__V1__LinuxSandboxSecurityContext sec;
	Runtime__V1__NamespaceOption ns;
	char uid[160];
};

static void pod_config(struct pod *p, const char *name, const char *logdir, const char *cgparent,
		       int pod_network, int privileged)
{
	p->config = (Runtime__V1__PodSandboxConfig)RUNTIME__V1__POD_SANDBOX_CONFIG__INIT;
	p->meta = (Runtime__V1__PodSandboxMetadata)RUNTIME__V1__POD_SANDBOX_METADATA__INIT;
	p->lx = (Runtime__V1__LinuxPodSandboxConfig)RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__INIT;
	p->sec = (Runtime__V1__LinuxSandboxSecurityContext)
	    RUNTIME__V1__LINUX_SANDBOX_SECURITY_CONTEXT__INIT;
	p->ns = (Runtime__V1__NamespaceOption)RUNTIME__V1__NAMESPACE_OPTION__INIT;
	snprintf(p->uid, sizeof(p->uid), "uid-%s", name);
	p->meta.name = (char *)name;
	p->meta.uid = p->uid;
	p->meta.namespace_ = "wren-cri";
	p->ns.network =
	    pod_network ? RUNTIME__V1__NAMESPACE_MODE__POD : RUNTIME__V1__NAMESPACE_MODE__NODE;
	p->ns.pid = RUNTIME__V1__NAMESPACE_MODE__POD;
	p->ns.ipc = RUNTIME__V1__NAMESPACE_MODE__POD;
	p->sec.namespace_options = &p->ns;
	p->sec.privileged = privileged;
	p->lx.cgroup_parent = (char *)cgparent;
	p->lx.security_context = &p->sec;
	p->config.metadata = &p->meta;
	/* the kubelet names the pod's host only when it has a network (and UTS namespace) of its
	 * own: with the host's, a runtime refuses to set one */
	if (pod_network)
		p->config.hostname = (char *)name;
	p->config.log_directory = (char *)logdir;
	p->config.linux_config = &p->lx;
}

static int cmd_version(void)
{
	Runtime__V1__VersionRequest req = RUNTIME__V1__VERSION_REQUEST__INIT;
	Runtime__V1__VersionResponse *r;

	req.version = "v1";
	r = call("Version", &req.base, UNPACK(runtime__v1__version_response__unpack));
	printf("runtime_name=%s runtime_version=%s api=%s\n", r->runtime_name, r->runtime_version,
	       r->runtime_api_version);
	return 0;
}

/* NAME HANDLER LOGDIR CGROUP-PARENT [--pod-network] [--privileged] */
static int cmd_runp(char **a, int n)
{
	Runtime__V1__RunPodSandboxRequest req = RUNTIME__V1__RUN_POD_SANDBOX_REQUEST__INIT;
	Runtime__V1__RunPodSandboxResponse *r;
	const char *handler;
	int pod_network = 0, privileged = 0;
	struct pod p;

	if (n < 4)
		usage();
	for (int i = 4; i < n; i++) {
		if (!strcmp(a[i], "--pod-network"))
			pod_network = 1;
		else if (!strcmp(a[i], "--privileged"))
			privileged = 1;
		else
			usage();
	}
	handler = a[1];
	pod_config(&p, a[0], a[2], a[3], pod_network, privileged);
	req.config = &p.config;
	req.runtime_handler = (char *)handler;
	r = call("RunPodSandbox", &req.base, UNPACK(runtime__v1__run_pod_sandbox_response__unpack));
	printf("%s\n", r->pod_sandbox_id);
	return 0;
}

static int cmd_podstatus(const char *id)
{
	Runtime__V1__PodSandboxStatusRequest req = RUNTIME__V1__POD_SANDBOX_STATUS_REQUEST__INIT;
	Runtime__V1__PodSandboxStatusResponse *r;

	req.pod_sandbox_id = (char *)id;
	r = call("PodSandboxStatus", &req.base,
		 UNPACK(runtime__v1__pod_sandbox_status_response__unpack));
	if (!r->status) {
		fputs("wren-cri: PodSandboxStatus: no status in the answer\n", stderr);
		return 1;
	}
	printf("state=%s handler=%s ip=%s\n",
	       r->status->state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY ? "READY"
										 : "NOTREADY",
	       r->status->runtime_handler, r->status->network ? r->status->network->ip : "");
	return 0;
}

/* A container's LinuxContainerConfig from command-line options. */
struct linux_opts {
	Runtime__V1__LinuxContainerConfig cfg;
	Runtime__V1__LinuxContainerResources res;
	Runtime__V1__LinuxContainerSecurityContext sec;
	Runtime__V1__Int64Value user;
	Runtime__V1__SecurityProfile seccomp;
	int any_res, any_sec;
	Runtime__V1__Mount mounts[8], *mount_ptrs[8];
	size_t n_mounts;
};

/* HOST:CONTAINER[:ro][:host-to-container] (the string is split in place) */
static void parse_mount(struct linux_opts *o, char *spec)
{
	Runtime__V1__Mount *m;
	char *opt;

	if (o->n_mounts == 8)
		usage();
	m = &o->mounts[o->n_mounts];
	*m = (Runtime__V1__Mount)RUNTIME__V1__MOUNT__INIT;
	m->host_path = strsep(&spec, ":");
	m->container_path = strsep(&spec, ":");
	if (!m->container_path || !*m->host_path || !*m->container_path)
		usage();
	while ((opt = strsep(&spec, ":"))) {
		if (!strcmp(opt, "ro"))
			m->readonly = 1;
		else if (!strcmp(opt, "host-to-container"))
			m->propagation =
			    RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_HOST_TO_CONTAINER;
		else
			usage();
	}
	o->mount_ptrs[o->n_mounts] = m;
	o->n_mounts++;
}

static void linux_opts_init(struct linux_opts *o)
{
	o->cfg = (Runtime__V1__LinuxContainerConfig)RUNTIME__V1__LINUX_CONTAINER_CONFIG__INIT;
	o->res = (Runtime__V1__LinuxContainerResources)RUNTIME__V1__LINUX_CONTAINER_RESOURCES__INIT;
	o->sec = (Runtime__V1__LinuxContainerSecurityContext)
	    RUNTIME__V1__LINUX_CONTAINER_SECURITY_CONTEXT__INIT;
	o->user = (Runtime__V1__Int64Value)RUNTIME__V1__INT64_VALUE__INIT;
	o->seccomp = (Runtime__V1__SecurityProfile)RUNTIME__V1__SECURITY_PROFILE__INIT;
	o->any_res = o->any_sec = 0;
	o->n_mounts = 0;
}

/* Consume the options at a[0..n); returns how many were. */
static int linux_opts_parse(struct linux_opts *o, char **a, int n)
{
	/* the kubelet's resources: each an int64 of LinuxContainerResources */
	const struct {
		const char *opt;
		int64_t *field;
	} res_opts[] = {
	    {"--memory", &o->res.memory_limit_in_bytes}, {"--cpu-shares", &o->res.cpu_shares},
	    {"--cpu-quota", &o->res.cpu_quota},		 {"--cpu-period", &o->res.cpu_period},
	    {"--oom-score-adj", &o->res.oom_score_adj},
	};
	int i = 0;

	while (i < n && !strncmp(a[i], "--", 2)) {
		const char *opt = a[i];
		int has_value = i + 1 < n;
		size_t r;

		for (r = 0; r < sizeof(res_opts) / sizeof(res_opts[0]); r++)
			if (!strcmp(opt, res_opts[r].opt))
				break;
		if (has_value && r < sizeof(res_opts) / sizeof(res_opts[0])) {
			*res_opts[r].field = atoll(a[++i]);
			o->any_res = 1;
		} else if (!strcmp(opt, "--read-only")) {
			o->sec.readonly_rootfs = 1;
			o->any_sec = 1;
		} else if (!strcmp(opt, "--privileged")) {
			o->sec.privileged = 1;
			o->any_sec = 1;
		} else if (!strcmp(opt, "--no-new-privs")) {
			o->sec.no_new_privs = 1;
			o->any_sec = 1;
		} else if (!strcmp(opt, "--seccomp-runtime-default")) {
			o->seccomp.profile_type =
			    RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault;
			o->sec.seccomp = &o->seccomp;
			o->any_sec = 1;
		} else if (has_value && !strcmp(opt, "--mount")) {
			parse_mount(o, a[++i]);
		} else if (has_value && !strcmp(opt, "--user")) {
			o->user.value = atoll(a[++i]);
			o->sec.run_as_user = &o->user;
			o->any_sec = 1;
		} else {
			usage();
		}
		i++;
	}
	if (o->any_res)
		o->cfg.resources = &o->res;
	if (o->any_sec)
		o->cfg.security_context = &o->sec;
	return i;
}

static int cmd_create(char **a, int n)
{
	Runtime__V1__CreateContainerRequest req = RUNTIME__V1__CREATE_CONTAINER_REQUEST__INIT;
	Runtime__V1__ContainerConfig cfg = RUNTIME__V1__CONTAINER_CONFIG__INIT;
	Runtime__V1__ContainerMetadata meta = RUNTIME__V1__CONTAINER_METADATA__INIT;
	Runtime__V1__ImageSpec image = RUNTIME__V1__IMAGE_SPEC__INIT;
	Runtime__V1__CreateContainerResponse *r;
	struct linux_opts lo;
	char log_path[256];
	struct pod p;
	int used;

	/* POD POD-NAME LOGDIR CGROUP-PARENT NAME IMAGE [OPTION...] CMD [ARG...] */
	if (n < 7)
		usage();
	meta.name = a[4];
	image.image = a[5];
	snprintf(log_path, sizeof(log_path), "%s.log", a[4]);
	linux_opts_init(&lo);
	used = linux_opts_parse(&lo, a + 6, n - 6);
	/* a privileged container lives in a privileged pod, whose config the kubelet sends again */
	pod_config(&p, a[1], a[2], a[3], 0, lo.sec.privileged);
	if (6 + used >= n)
		usage();
	cfg.metadata = &meta;
	cfg.image = &image;
	cfg.command = &a[6 + used];
	cfg.n_command = (size_t)(n - 6 - used);
	cfg.log_path = log_path;
	cfg.linux_config = &lo.cfg;
	cfg.mounts = lo.mount_ptrs;
	cfg.n_mounts = lo.n_mounts;
	req.pod_sandbox_id = a[0];
	req.config = &cfg;
	req.sandbox_config = &p.config;
	r = call("CreateContainer", &req.base,
		 UNPACK(runtime__v1__create_container_response__unpack));
	printf("%s\n", r->container_id);
	return 0;
}

static int cmd_update(char **a, int n)
{
	Runtime__V1__UpdateContainerResourcesRequest req =
	    RUNTIME__V1__UPDATE_CONTAINER_RESOURCES_REQUEST__INIT;
	struct linux_opts lo;

	/* ID [OPTION...] */
	if (n < 2)
		usage();
	linux_opts_init(&lo);
	if (linux_opts_parse(&lo, a + 1, n - 1) != n - 1 || lo.any_sec || lo.n_mounts)
		usage();
	req.container_id = a[0];
	req.linux_resources = &lo.res;
	call("UpdateContainerResources", &req.base,
	     UNPACK(runtime__v1__update_container_resources_response__unpack));
	return 0;
}

static int cmd_status(const char *id)
{
	static const char *const states[] = {"CREATED", "RUNNING", "EXITED", "UNKNOWN"};
	Runtime__V1__ContainerStatusRequest req = RUNTIME__V1__CONTAINER_STATUS_REQUEST__INIT;
	Runtime__V1__ContainerStatusResponse *r;

	req.container_id = (char *)id;
	r = call("ContainerStatus", &req.base,
		 UNPACK(runtime__v1__container_status_response__unpack));
	if (!r->status) {
		fputs("wren-cri: ContainerStatus: no status in the answer\n", stderr);
		return 1;
	}
	printf("state=%s exit=%d reason=%s\n",
	       (unsigned)r->status->state < 4 ? states[r->status->state] : "?",
	       r->status->exit_code, r->status->reason);
	return 0;
}

static int cmd_stats(const char *id)
{
	Runtime__V1__ContainerStatsRequest req = RUNTIME__V1__CONTAINER_STATS_REQUEST__INIT;
	Runtime__V1__ContainerStatsResponse *r;
	const Runtime__V1__ContainerStats *st;

	req.container_id = (char *)id;
	r = call("ContainerStats", &req.base,
		 UNPACK(runtime__v1__container_stats_response__unpack));
	st = r->stats;
	if (!st || !st->cpu || !st->cpu->usage_core_nano_seconds || !st->memory ||
	    !st->memory->working_set_bytes || !st->memory->usage_bytes) {
		fputs("wren-cri: ContainerStats: cpu or memory usage missing from the answer\n",
		      stderr);
		return 1;
	}
	printf("cpu_ns=%llu memory_working_set=%llu memory_usage=%llu\n",
	       (unsigned long long)st->cpu->usage_core_nano_seconds->value,
	       (unsigned long long)st->memory->working_set_bytes->value,
	       (unsigned long long)st->memory->usage_bytes->value);
	return 0;
}

static int cmd_exec(const char *id, const char *timeout, char **cmd, int n)
{
	Runtime__V1__ExecSyncRequest req = RUNTIME__V1__EXEC_SYNC_REQUEST__INIT;
	Runtime__V1__ExecSyncResponse *r;

	req.container_id = (char *)id;
	req.timeout = atoll(timeout);
	req.cmd = cmd;
	req.n_cmd = (size_t)n;
	r = call("ExecSync", &req.base, UNPACK(runtime__v1__exec_sync_response__unpack));
	fwrite(r->stdout.data, 1, r->stdout.len, stdout);
	fwrite(r->stderr.data, 1, r->stderr.len, stderr);
	fflush(stdout);
	return r->exit_code;
}

/* The calls that take one id and answer nothing. */
static int cmd_simple(const char *verb, const char *id, const char *timeout)
{
	if (!strcmp(verb, "start")) {
		Runtime__V1__StartContainerRequest req = RUNTIME__V1__START_CONTAINER_REQUEST__INIT;
		req.container_id = (char *)id;
		call("StartContainer", &req.base,
		     UNPACK(runtime__v1__start_container_response__unpack));
	} else if (!strcmp(verb, "stop")) {
		Runtime__V1__StopContainerRequest req = RUNTIME__V1__STOP_CONTAINER_REQUEST__INIT;
		req.container_id = (char *)id;
		req.timeout = timeout ? atoll(timeout) : 0;
		call("StopContainer", &req.base,
		     UNPACK(runtime__v1__stop_container_response__unpack));
	} else if (!strcmp(verb, "rm")) {
		Runtime__V1__RemoveContainerRequest req =
		    RUNTIME__V1__REMOVE_CONTAINER_REQUEST__INIT;
		req.container_id = (char *)id;
		call("RemoveContainer", &req.base,
		     UNPACK(runtime__v1__remove_container_response__unpack));
	} else if (!strcmp(verb, "stopp")) {
		Runtime__V1__StopPodSandboxRequest req =
		    RUNTIME__V1__STOP_POD_SANDBOX_REQUEST__INIT;
		req.pod_sandbox_id = (char *)id;
		call("StopPodSandbox", &req.base,
		     UNPACK(runtime__v1__stop_pod_sandbox_response__unpack));
	} else if (!strcmp(verb, "rmp")) {
		Runtime__V1__RemovePodSandboxRequest req =
		    RUNTIME__V1__REMOVE_POD_SANDBOX_REQUEST__INIT;
		req.pod_sandbox_id = (char *)id;
		call("RemovePodSandbox", &req.base,
		     UNPACK(runtime__v1__remove_pod_sandbox_response__unpack));
	} else {
		usage();
	}
	return 0;
}

int main(int argc, char **argv)
{
	char target[4200];
	grpc_channel_credentials *creds;
	const char *verb;
	int rc;

	if (argc < 3)
		usage();
	snprintf(target, sizeof(target), "unix://%s", argv[1]);
	verb = argv[2];
	grpc_init();
	creds = grpc_insecure_credentials_create();
	channel = grpc_channel_create(target, creds, NULL);
	grpc_channel_credentials_release(creds);

	if (!strcmp(verb, "version"))
		rc = cmd_version();
	else if (!strcmp(verb, "runp"))
		rc = cmd_runp(argv + 3, argc - 3);
	else if (!strcmp(verb, "podstatus") && argc == 4)
		rc = cmd_podstatus(argv[3]);
	else if (!strcmp(verb, "create"))
		rc = cmd_create(argv + 3, argc - 3);
	else if (!strcmp(verb, "update"))
		rc = cmd_update(argv + 3, argc - 3);
	else if (!strcmp(verb, "stats") && argc == 4)
		rc = cmd_stats(argv[3]);
	else if (!strcmp(verb, "status") && argc == 4)
		rc = cmd_status(argv[3]);
	else if (!strcmp(verb, "exec") && argc >= 6)
		rc = cmd_exec(argv[3], argv[4], argv + 5, argc - 5);
	else if (!strcmp(verb, "stop") && argc == 5)
		rc = cmd_simple(verb, argv[3], argv[4]);
	else if (argc == 4)
		rc = cmd_simple(verb, argv[3], NULL);
	else
		usage();
	/* exit without grpc_shutdown: its threads may still be winding down, and the process
	 * ends here anyway */
	fflush(NULL);
	_exit(rc);
}
