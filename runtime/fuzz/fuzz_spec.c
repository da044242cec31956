/* libFuzzer target: arbitrary bytes as config.json (rt_spec_parse), as an exec's process object
 * (rt_process_parse), and through the start action's annotation scan (spec_annotations.c), the
 * places where a user's JSON enters the runtime. Beyond the sanitizers' findings it checks two
 * contracts.
 *
 * The one the shim relies on to give containerd a clear error: a parse either succeeds with no
 * error or fails with one that has a message; a parsed spec's seccomp profile compiles to BPF or
 * fails the same way.
 *
 * The scan skips most of the document by hand: whenever the document is valid JSON, it must find
 * the annotation that cJSON's parse of the whole document finds. A difference would put a container
 * into the wrong pod's shim.
 *
 * Built and run by hack/fuzz.sh. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "runtime/err.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "runtime/spec_json.h"

static const char *const keys[] = {"io.kubernetes.cri.sandbox-id", "k"};

/* A failed call must say why; a successful one must say nothing. */
static void check_err(int r, struct wren_err *err, const char *what)
{
	if (r < 0 && (err == NULL || err->msg == NULL || err->msg[0] == 0)) {
		fprintf(stderr, "%s failed without a message\n", what);
		abort();
	}
	if (r == 0 && err != NULL) {
		fprintf(stderr, "%s succeeded with an error: %s\n", what, err->msg);
		abort();
	}
}

/* What the daemon reads from a spec after the parse, touched so the sanitizers see every field the
 * parser filled in. */
static void walk_spec(const struct rt_spec *s)
{
	size_t sum = 0;

	if (s->root_path == NULL || s->root_path[0] != '/') {
		fprintf(stderr, "root.path not absolute after the parse\n");
		abort();
	}
	for (int t = 0; t < RT_NS__MAX; t++) {
		const struct rt_namespace *ns = rt_spec_namespace(s, (enum rt_ns_type)t);

		if (ns && ns->path)
			sum += strlen(ns->path);
	}
	for (size_t i = 0; i < s->n_mounts; i++)
		sum += strlen(s->mounts[i].destination) + strlen(s->mounts[i].source);
	for (size_t i = 0; i < s->n_annotations; i++)
		sum += strlen(rt_spec_annotation(s, s->annotation_keys[i]) ?: "");
	if (s->process)
		for (size_t i = 0; i < s->process->n_args; i++)
			sum += strlen(s->process->args[i]);
	/* keeps the loops from being optimised away */
	if (sum == (size_t)-1)
		abort();
}

/* What the scan must find: the first of keys, in the whole document as cJSON reads it. */
static void check_peek(const uint8_t *data, size_t size)
{
	char *got = spec_peek_annotation_json((const char *)data, size, keys, 2);
	cJSON *root = cJSON_ParseWithLength((const char *)data, size);
	const char *want = NULL;

	if (root == NULL) {
		free(got);
		return;
	}
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(root, "annotations");

	for (size_t i = 0; cJSON_IsObject(ann) && i < 2 && want == NULL; i++) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(ann, keys[i]);

		if (cJSON_IsString(e) && e->valuestring[0])
			want = e->valuestring;
	}
	if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0)) {
		fprintf(stderr, "annotation scan found \"%s\", the whole document says \"%s\"\n",
			got ? got : "(none)", want ? want : "(none)");
		abort();
	}
	cJSON_Delete(root);
	free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wren_err *err = NULL;
	struct rt_spec *s = NULL;
	struct rt_process *p = NULL;
	int r;

	r = rt_spec_parse((const char *)data, size, "/run/bundle", &s, &err);
	check_err(r, err, "rt_spec_parse");
	wren_err_free(err);
	err = NULL;
	if (r == 0) {
		walk_spec(s);
		if (s->has_seccomp) {
			struct rt_seccomp_prog prog = {0};

			r = rt_seccomp_compile(&s->seccomp, &prog, &err);
			check_err(r, err, "rt_seccomp_compile");
			wren_err_free(err);
			err = NULL;
			free(prog.filter);
		}
		rt_spec_free(s);
	}

	check_peek(data, size);

	r = rt_process_parse((const char *)data, size, &p, &err);
	check_err(r, err, "rt_process_parse");
	wren_err_free(err);
	if (r == 0)
		rt_process_free(p);
	return 0;
}
