/* wren-task: call a shim's task API directly, for the methods ctr has no verb for (Update) and to
 * see exactly what a shim answers (Stats, Pause, Resume, State). Works with any shim that serves
 * containerd.task.v2.Task or (tried next) containerd.task.v3.Task: wren's and
 * containerd-shim-runc-v2 of containerd 1.6 to 2.x.
 *
 *   wren-task ADDRESS update ID JSON-FILE   Update with an OCI LinuxResources JSON ("-": stdin)
 *   wren-task ADDRESS stats ID              Stats, printed as key=value lines (cpu.usage.total=…)
 *   wren-task ADDRESS pause ID | resume ID
 *   wren-task ADDRESS state ID [EXEC-ID]    status=… pid=… exit_status=…
 *   wren-task ADDRESS exec-many ID N [PREFIX]
 *       N execs at once, each `sh -c 'exit $((i % 256))'`, over one connection: Exec, then Wait
 *       and Start, then Delete once the Wait answered. Prints "ok N" when every Wait answered its
 *       own exit code and every Delete the same; one line per mismatch or error otherwise.
 *   wren-task ADDRESS wait-abandon ID N
 *       N connections each send a Wait for the (running) init and close without reading the
 *       answer; then a State call over a new connection must still succeed.
 *   wren-task ADDRESS checkpoint ID PATH [--exit] [--work-path DIR] [--cgroups-mode MODE]
 *                                         [--empty-ns NS]
 *       Checkpoint into PATH with containerd.runc.v1.CheckpointOptions (what ctr sends only for
 *       the runc runtimes).
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

#include "containerd/runc/options/oci.pb-c.h"
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
	fprintf(stderr,
		"usage: wren-task ADDRESS|BUNDLE update ID JSON-FILE\n"
		"       wren-task ADDRESS|BUNDLE stats|pause|resume ID\n"
		"       wren-task ADDRESS|BUNDLE state ID [EXEC-ID]\n"
		"       wren-task ADDRESS|BUNDLE exec-many ID N [PREFIX]\n"
		"       wren-task ADDRESS|BUNDLE wait-abandon ID N\n"
		"       wren-task ADDRESS|BUNDLE checkpoint ID PATH [--exit] [--work-path DIR]\n"
		"                 [--cgroups-mode MODE] [--empty-ns NS]\n");
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

/* The task service the shim serves: v2, or v3 only (containerd 2.x's runc shim). */
static const char *task_service(const char *address)
{
	Containerd__Task__V2__ConnectRequest req = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	uint8_t buf[64], *resp = NULL;
	size_t n, len = 0;
	char *msg = NULL;
	int code = 0;

	req.id = "";
	n = containerd__task__v2__connect_request__pack(&req, buf);
	if (ttrpc_call_sync(address, TASK, "Connect", buf, n, TIMEOUT_MS, &code, &msg, &resp,
			    &len) < 0) {
		fprintf(stderr, "wren-task: connect %s: %s\n", address, strerror(errno));
		exit(2);
	}
	free(msg);
	free(resp);
	return code == TTRPC_UNIMPLEMENTED ? TASK_V3 : TASK;
}

/* ---- exec-many ------------------------------------------------------------------------- */

#define PROCESS_URL "types.containerd.io/opencontainers/runtime-spec/1/Process"

struct many;
struct one_exec {
	struct many *m;
	int i;
	char id[96];
	char spec[256];
	uint32_t waited, deleted;
	bool wait_done, delete_done, failed;
};

struct many {
	struct ttrpc_loop *l;
	struct ttrpc_client *cl;
	const char *service, *cid;
	int n, done, errors;
};

static void one_fail(struct one_exec *e, const char *what, int code, const char *msg)
{
	printf("exec %d (%s): %s: %s: %s\n", e->i, e->id, what, code_name(code), msg);
	e->failed = true;
	e->m->errors++;
	e->m->done++;
}

static int send_msg(struct one_exec *e, const char *method, const ProtobufCMessage *req,
		    ttrpc_reply_fn cb)
{
	size_t n = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = malloc(n ? n : 1);
	int r;

	if (!buf)
		abort();
	protobuf_c_message_pack(req, buf);
	/* no deadline on Wait (containerd sends none): the whole run is bounded instead */
	r = ttrpc_client_call(e->m->cl, e->m->service, method, buf, n,
			      strcmp(method, "Wait") ? (int64_t)TIMEOUT_MS * 1000000 * 4 : 0, NULL,
			      0, cb, e);
	free(buf);
	if (r < 0)
		one_fail(e, method, TTRPC_UNAVAILABLE, strerror(-r));
	return r;
}

static void on_delete(void *ud, int code, const char *msg, const uint8_t *p, size_t len)
{
	struct one_exec *e = ud;
	Containerd__Task__V2__DeleteResponse *r;

	if (e->failed)
		return;
	if (code) {
		one_fail(e, "Delete", code, msg);
		return;
	}
	r = containerd__task__v2__delete_response__unpack(NULL, len, p);
	e->deleted = r ? r->exit_status : 9999;
	if (r)
		containerd__task__v2__delete_response__free_unpacked(r, NULL);
	e->delete_done = true;
	e->m->done++;
}

static void on_wait(void *ud, int code, const char *msg, const uint8_t *p, size_t len)
{
	struct one_exec *e = ud;
	Containerd__Task__V2__WaitResponse *r;
	Containerd__Task__V2__DeleteRequest del = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;

	if (e->failed)
		return;
	if (code) {
		one_fail(e, "Wait", code, msg);
		return;
	}
	r = containerd__task__v2__wait_response__unpack(NULL, len, p);
	e->waited = r ? r->exit_status : 9999;
	if (r)
		containerd__task__v2__wait_response__free_unpacked(r, NULL);
	e->wait_done = true;
	del.id = (char *)e->m->cid;
	del.exec_id = e->id;
	send_msg(e, "Delete", &del.base, on_delete);
}

static void on_start(void *ud, int code, const char *msg, const uint8_t *p, size_t len)
{
	struct one_exec *e = ud;

	if (!e->failed && code)
		one_fail(e, "Start", code, msg);
}

static void on_exec(void *ud, int code, const char *msg, const uint8_t *p, size_t len)
{
	struct one_exec *e = ud;
	Containerd__Task__V2__WaitRequest w = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	Containerd__Task__V2__StartRequest st = CONTAINERD__TASK__V2__START_REQUEST__INIT;

	if (code) {
		one_fail(e, "Exec", code, msg);
		return;
	}
	/* ctr's order: the Wait is in place before the process can exit */
	w.id = st.id = (char *)e->m->cid;
	w.exec_id = st.exec_id = e->id;
	if (send_msg(e, "Wait", &w.base, on_wait) == 0)
		send_msg(e, "Start", &st.base, on_start);
}

static int cmd_exec_many(const char *address, const char *cid, int n, const char *prefix)
{
	struct many m = {.service = task_service(address), .cid = cid, .n = n};
	struct one_exec *ex = calloc((size_t)n, sizeof(*ex));
	uint64_t deadline = ttrpc_now_ns() + (uint64_t)TIMEOUT_MS * 1000000 * 4;
	int r, bad = 0;

	if (!ex || ttrpc_loop_new(&m.l) < 0)
		abort();
	r = ttrpc_client_dial(m.l, address, &m.cl);
	if (r < 0) {
		fprintf(stderr, "wren-task: connect %s: %s\n", address, strerror(-r));
		exit(2);
	}
	for (int i = 0; i < n; i++) {
		struct one_exec *e = &ex[i];
		Containerd__Task__V2__ExecProcessRequest req =
		    CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
		Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;

		e->m = &m;
		e->i = i;
		snprintf(e->id, sizeof(e->id), "%s%d", prefix, i);
		snprintf(e->spec, sizeof(e->spec),
			 "{\"args\":[\"/bin/sh\",\"-c\",\"exit %d\"],\"cwd\":\"/\","
			 "\"env\":[\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"],"
			 "\"user\":{\"uid\":0,\"gid\":0}}",
			 i % 256);
		any.type_url = PROCESS_URL;
		any.value.data = (uint8_t *)e->spec;
		any.value.len = strlen(e->spec);
		req.id = (char *)cid;
		req.exec_id = e->id;
		req.spec = &any;
		send_msg(e, "Exec", &req.base, on_exec);
	}
	while (m.done < n && ttrpc_now_ns() < deadline && !ttrpc_client_closed(m.cl))
		ttrpc_loop_run_once(m.l, 1000);
	for (int i = 0; i < n; i++) {
		struct one_exec *e = &ex[i];
		uint32_t want = (uint32_t)(i % 256);

		if (e->failed)
			bad++;
		else if (!e->wait_done || !e->delete_done)
			printf("exec %d (%s): no answer (wait %d, delete %d)\n", i, e->id,
			       e->wait_done, e->delete_done),
			    bad++;
		else if (e->waited != want || e->deleted != want)
			printf("exec %d (%s): Wait said %u, Delete %u, wanted %u\n", i, e->id,
			       e->waited, e->deleted, want),
			    bad++;
	}
	ttrpc_client_free(m.cl);
	ttrpc_loop_free(m.l);
	free(ex);
	if (bad) {
		printf("bad %d of %d\n", bad, n);
		return 1;
	}
	printf("ok %d\n", n);
	return 0;
}

/* ---- wait-abandon ---------------------------------------------------------------------- */

static void on_ignored(void *ud, int code, const char *msg, const uint8_t *p, size_t len)
{
}

static int cmd_wait_abandon(const char *address, const char *cid, int n)
{
	const char *service = task_service(address);
	Containerd__Task__V2__WaitRequest w = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	uint8_t buf[256];
	size_t len;
	struct ttrpc_loop *l;

	w.id = (char *)cid;
	w.exec_id = "";
	len = containerd__task__v2__wait_request__pack(&w, buf);
	if (ttrpc_loop_new(&l) < 0)
		abort();
	for (int i = 0; i < n; i++) {
		struct ttrpc_client *cl;
		int r = ttrpc_client_dial(l, address, &cl);

		if (r < 0) {
			fprintf(stderr, "wren-task: connect %s: %s\n", address, strerror(-r));
			exit(2);
		}
		ttrpc_client_call(cl, service, "Wait", buf, len, 0, NULL, 0, on_ignored, NULL);
		/* long enough for the connect and the write: then the shim holds a deferred Wait */
		for (int k = 0; k < 5 && !ttrpc_client_closed(cl); k++)
			ttrpc_loop_run_once(l, 10);
		ttrpc_client_free(cl); /* closes the connection, the Wait unanswered */
	}
	ttrpc_loop_free(l);
	return cmd_state(address, cid, NULL);
}

/* ---- checkpoint ------------------------------------------------------------------------ */

static int cmd_checkpoint(const char *address, const char *id, const char *path, int argc,
			  char **argv)
{
	Containerd__Task__V2__CheckpointTaskRequest req =
	    CONTAINERD__TASK__V2__CHECKPOINT_TASK_REQUEST__INIT;
	Containerd__Runc__V1__CheckpointOptions o = CONTAINERD__RUNC__V1__CHECKPOINT_OPTIONS__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	char *ns[1];
	size_t len;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--exit"))
			o.exit = true;
		else if (!strcmp(argv[i], "--work-path") && i + 1 < argc)
			o.work_path = argv[++i];
		else if (!strcmp(argv[i], "--cgroups-mode") && i + 1 < argc)
			o.cgroups_mode = argv[++i];
		else if (!strcmp(argv[i], "--empty-ns") && i + 1 < argc) {
			ns[0] = argv[++i];
			o.empty_namespaces = ns;
			o.n_empty_namespaces = 1;
		} else
			usage();
	}
	len = containerd__runc__v1__checkpoint_options__get_packed_size(&o);
	any.type_url = "containerd.runc.v1.CheckpointOptions";
	any.value.data = malloc(len ? len : 1);
	if (!any.value.data)
		abort();
	any.value.len = containerd__runc__v1__checkpoint_options__pack(&o, any.value.data);
	req.id = (char *)id;
	req.path = (char *)path;
	req.options = &any;
	free(call(address, "Checkpoint", &req.base, &len));
	free(any.value.data);
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
	} else if (!strcmp(cmd, "exec-many") && (argc == 5 || argc == 6)) {
		rc = cmd_exec_many(address, argv[3], atoi(argv[4]), argc == 6 ? argv[5] : "many-");
	} else if (!strcmp(cmd, "wait-abandon") && argc == 5) {
		rc = cmd_wait_abandon(address, argv[3], atoi(argv[4]));
	} else if (!strcmp(cmd, "checkpoint") && argc >= 5) {
		rc = cmd_checkpoint(address, argv[3], argv[4], argc - 5, argv + 5);
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
