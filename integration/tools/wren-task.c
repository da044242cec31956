/* wren-task: call a shim's task API directly, for the methods ctr has no verb for (Update) and to
 * see exactly what a shim answers (Stats, Pause, Resume, State). Works with any shim that serves
 * containerd.task.v2.Task or (tried next) containerd.task.v3.Task: wren's and
 * containerd-shim-runc-v2 of containerd 1.6 to 2.x.
 *
 *   wren-task ADDRESS update ID JSON-FILE   Update with an OCI LinuxResources JSON ("-": stdin)
 *   wren-task ADDRESS stats ID              Stats, printed as key=value lines (cpu.usage.total=…)
 *   wren-task ADDRESS pause ID | resume ID
 *   wren-task ADDRESS state ID [EXEC-ID]    status=… pid=… exit_status=…
 *
 * ADDRESS is the shim's socket ("unix:///run/containerd/s/…" or a path), or a bundle directory,
 * whose `address` file (or containerd 2.x's bootstrap.json) names it. Exit status 0 on success; 1
 * with "wren-task: METHOD: CODE: msg" on stderr when the shim answers an error (CODE as gRPC names
 * it: NotFound, InvalidArgument…); 2 for usage and transport errors. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containerd/task/v2/shim.pb-c.h"
#include "containerd/types/task.pb-c.h"
#include "containerd/cgroups/metrics_v1.pb-c.h"
#include "containerd/cgroups/metrics_v2.pb-c.h"
#include "ttrpc/ttrpc.h"

#define TASK	      "containerd.task.v2.Task"
#define TASK_V3	      "containerd.task.v3.Task"
#define RESOURCES_URL "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"
#define TIMEOUT_MS    30000

static const char *code_name(int code)
{
	static const char *const names[] = {
	    "OK",
	    "Canceled",
	    "Unknown",
	    "InvalidArgument",
	    "DeadlineExceeded",
	    "NotFound",
	    "AlreadyExists",
	    "PermissionDenied",
	    "ResourceExhausted",
	    "FailedPrecondition",
	    "Aborted",
	    "OutOfRange",
	    "Unimplemented",
	    "Internal",
	    "Unavailable",
	    "DataLoss",
	    "Unauthenticated",
	};
	return code >= 0 && code < (int)(sizeof(names) / sizeof(names[0])) ? names[code] : "?";
}

static void usage(void)
{
	fprintf(stderr, "usage: wren-task ADDRESS|BUNDLE update ID JSON-FILE\n"
			"       wren-task ADDRESS|BUNDLE stats|pause|resume ID\n"
			"       wren-task ADDRESS|BUNDLE state ID [EXEC-ID]\n");
	exit(2);
}

/* Read a whole file (or stdin for "-"); exits on failure. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		fprintf(stderr, "wren-task: open %s: %s\n", path, strerror(errno));
		exit(2);
	}
	for (;;) {
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "wren-task: read %s: %s\n", path, strerror(errno));
		exit(2);
	}
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The "address" string of containerd 2.x's bootstrap.json ({"version":3,"address":"unix://…",
 * "protocol":"ttrpc"}); NULL if there is none. */
static char *bootstrap_address(const char *json)
{
	const char *p = strstr(json, "\"address\"");
	const char *q;

	if (!p || !(p = strchr(p + 9, ':')) || !(p = strchr(p, '"')) || !(q = strchr(p + 1, '"')))
		return NULL;
	return strndup(p + 1, (size_t)(q - p - 1));
}

/* A bundle directory's `address` file (bootstrap.json with containerd 2.x's runc shim), or the
 * argument itself. */
static char *resolve_address(const char *arg)
{
	struct stat st;
	size_t len;
	char *path, *addr;

	if (stat(arg, &st) < 0 || !S_ISDIR(st.st_mode))
		return strdup(arg);
	if (asprintf(&path, "%s/address", arg) < 0)
		abort();
	if (access(path, F_OK) < 0) {
		char *json;

		free(path);
		if (asprintf(&path, "%s/bootstrap.json", arg) < 0)
			abort();
		json = slurp(path, &len);
		addr = bootstrap_address(json);
		free(json);
		if (!addr) {
			fprintf(stderr, "wren-task: %s: no address\n", path);
			exit(2);
		}
		free(path);
		return addr;
	}
	addr = slurp(path, &len);
	free(path);
	while (len > 0 && (addr[len - 1] == '\n' || addr[len - 1] == ' '))
		addr[--len] = '\0';
	return addr;
}

/* One call; exits unless the shim answered OK. The response payload is returned (may be NULL). */
static uint8_t *call(const char *address, const char *method, const ProtobufCMessage *req,
		     size_t *resp_len)
{
	size_t n = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = malloc(n ? n : 1), *resp = NULL;
	char *msg = NULL;
	int code = 0, r;

	if (!buf)
		abort();
	protobuf_c_message_pack(req, buf);
	r = ttrpc_call_sync(address, TASK, method, buf, n, TIMEOUT_MS, &code, &msg, &resp,
			    resp_len);
	if (r == 0 && code == TTRPC_UNIMPLEMENTED) {
		/* containerd 2.x's runc shim serves only the v3 name (same messages) */
		free(msg);
		free(resp);
		resp = NULL;
		r = ttrpc_call_sync(address, TASK_V3, method, buf, n, TIMEOUT_MS, &code, &msg,
				    &resp, resp_len);
	}
	free(buf);
	if (r < 0) {
		fprintf(stderr, "wren-task: %s: connect %s: %s\n", method, address, strerror(-r));
		exit(2);
	}
	if (code != 0) {
		fprintf(stderr, "wren-task: %s: %s: %s\n", method, code_name(code), msg);
		exit(1);
	}
	free(msg);
	return resp;
}

/* Print every field of a message as prefix.name=value, recursing into sub-messages; repeated
 * scalars are comma-separated, repeated messages get [i]. Zero values are printed too, so that a
 * test can tell "0" from "missing". */
static void print_message(const char *prefix, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m + f->offset;
		char name[512];

		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", f->name);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t count = *(const size_t *)((const char *)m + f->quantifier_offset);
			void *arr = *(void *const *)base;

			if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				for (size_t k = 0; k < count; k++) {
					char sub[600];
					snprintf(sub, sizeof(sub), "%s[%zu]", name, k);
					print_message(sub, ((ProtobufCMessage **)arr)[k]);
				}
				continue;
			}
			printf("%s=", name);
			for (size_t k = 0; k < count; k++) {
				if (f->type == PROTOBUF_C_TYPE_UINT64)
					printf("%s%" PRIu64, k ? "," : "", ((uint64_t *)arr)[k]);
				else if (f->type == PROTOBUF_C_TYPE_STRING)
					printf("%s%s", k ? "," : "", ((char **)arr)[k]);
			}
			printf("\n");
			continue;
		}
		switch (f->type) {
		case PROTOBUF_C_TYPE_MESSAGE: {
			const ProtobufCMessage *sub = *(ProtobufCMessage *const *)base;
			if (sub)
				print_message(name, sub);
			break;
		}
		case PROTOBUF_C_TYPE_UINT64:
			printf("%s=%" PRIu64 "\n", name, *(const uint64_t *)base);
			break;
		case PROTOBUF_C_TYPE_UINT32:
			printf("%s=%" PRIu32 "\n", name, *(const uint32_t *)base);
			break;
		case PROTOBUF_C_TYPE_STRING:
			printf("%s=%s\n", name, *(char *const *)base ? *(char *const *)base : "");
			break;
		default:
			break;
		}
	}
}

static int cmd_stats(const char *address, const char *id)
{
	Containerd__Task__V2__StatsRequest req = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
	Containerd__Task__V2__StatsResponse *resp;
	ProtobufCMessage *metrics = NULL;
	const char *url, *slash;
	size_t len = 0;
	uint8_t *buf;

	req.id = (char *)id;
	buf = call(address, "Stats", &req.base, &len);
	resp = containerd__task__v2__stats_response__unpack(NULL, len, buf);
	free(buf);
	if (!resp || !resp->stats || !resp->stats->type_url) {
		fprintf(stderr, "wren-task: Stats: no stats in the response\n");
		return 1;
	}
	url = resp->stats->type_url;
	slash = strrchr(url, '/');
	if (slash)
		url = slash + 1;
	printf("type=%s\n", url);
	if (!strcmp(url, "io.containerd.cgroups.v1.Metrics"))
		metrics = (ProtobufCMessage *)io__containerd__cgroups__v1__metrics__unpack(
		    NULL, resp->stats->value.len, resp->stats->value.data);
	else if (!strcmp(url, "io.containerd.cgroups.v2.Metrics"))
		metrics = (ProtobufCMessage *)io__containerd__cgroups__v2__metrics__unpack(
		    NULL, resp->stats->value.len, resp->stats->value.data);
	if (!metrics) {
		fprintf(stderr, "wren-task: Stats: cannot decode %s\n", url);
		containerd__task__v2__stats_response__free_unpacked(resp, NULL);
		return 1;
	}
	print_message("", metrics);
	protobuf_c_message_free_unpacked(metrics, NULL);
	containerd__task__v2__stats_response__free_unpacked(resp, NULL);
	return 0;
}

static int cmd_update(const char *address, const char *id, const char *file)
{
	Containerd__Task__V2__UpdateTaskRequest req =
	    CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	size_t len;
	char *json = slurp(file, &len);

	any.type_url = RESOURCES_URL;
	any.value.data = (uint8_t *)json;
	any.value.len = len;
	req.id = (char *)id;
	req.resources = &any;
	free(call(address, "Update", &req.base, &len));
	free(json);
	return 0;
}

static int cmd_state(const char *address, const char *id, const char *exec_id)
{
	static const char *const status[] = {"UNKNOWN", "CREATED", "RUNNING",
					     "STOPPED", "PAUSED",  "PAUSING"};
	Containerd__Task__V2__StateRequest req = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	Containerd__Task__V2__StateResponse *resp;
	size_t len = 0;
	uint8_t *buf;

	req.id = (char *)id;
	req.exec_id = (char *)(exec_id ? exec_id : "");
	buf = call(address, "State", &req.base, &len);
	resp = containerd__task__v2__state_response__unpack(NULL, len, buf);
	free(buf);
	if (!resp) {
		fprintf(stderr, "wren-task: State: cannot decode the response\n");
		return 1;
	}
	printf("status=%s\npid=%u\nexit_status=%u\n",
	       (unsigned)resp->status < 6 ? status[resp->status] : "?", resp->pid,
	       resp->exit_status);
	containerd__task__v2__state_response__free_unpacked(resp, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;
	char *address;
	size_t len;
	int rc;

	if (argc < 4)
		usage();
	address = resolve_address(argv[1]);
	cmd = argv[2];
	if (!strcmp(cmd, "update") && argc == 5) {
		rc = cmd_update(address, argv[3], argv[4]);
	} else if (!strcmp(cmd, "stats") && argc == 4) {
		rc = cmd_stats(address, argv[3]);
	} else if (!strcmp(cmd, "state") && (argc == 4 || argc == 5)) {
		rc = cmd_state(address, argv[3], argc == 5 ? argv[4] : NULL);
	} else if (!strcmp(cmd, "pause") && argc == 4) {
		Containerd__Task__V2__PauseRequest req = CONTAINERD__TASK__V2__PAUSE_REQUEST__INIT;
		req.id = argv[3];
		free(call(address, "Pause", &req.base, &len));
		rc = 0;
	} else if (!strcmp(cmd, "resume") && argc == 4) {
		Containerd__Task__V2__ResumeRequest req =
		    CONTAINERD__TASK__V2__RESUME_REQUEST__INIT;
		req.id = argv[3];
		free(call(address, "Resume", &req.base, &len));
		rc = 0;
	} else {
		usage();
	}
	free(address);
	return rc;
}
