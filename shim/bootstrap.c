/* The `start` action's two input forms and the 2.3+ reply; see bootstrap.h. */
#include <stdlib.h>
#include <string.h>

#include "containerd/runc/options/oci.pb-c.h"
#include "containerd/runtime/bootstrap/shim_bootstrap.pb-c.h"
#include "runtime/util.h"
#include "shim/any.h"
#include "shim/bootstrap.h"

typedef Containerd__Runtime__Bootstrap__V1__BootstrapParams BootstrapParams;

/* containerd's LogLevel: 0 info, -4 debug, -8 trace; more verbose is more negative. */
#define LOG_LEVEL_DEBUG (-4)

static char *dup_nonempty(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

/* Only runc's Options mean anything to us (shim_cgroup); any other type is accepted and ignored,
 * unlike runc-v2, which fails. */
static void take_options(const Google__Protobuf__Any *any, struct shim_start_input *in)
{
	Containerd__Runc__V1__Options *o;

	if (!any || !shim_any_is(any, "containerd.runc.v1.Options") || in->shim_cgroup)
		return;
	o = containerd__runc__v1__options__unpack(NULL, any->value.len, any->value.data);
	if (!o)
		return;
	in->shim_cgroup = dup_nonempty(o->shim_cgroup);
	containerd__runc__v1__options__free_unpacked(o, NULL);
}

static bool take_bootstrap(const uint8_t *buf, size_t len, const char *id, const char *ns,
			   struct shim_start_input *in)
{
	BootstrapParams *p =
	    containerd__runtime__bootstrap__v1__bootstrap_params__unpack(NULL, len, buf);
	bool match;

	if (!p)
		return false;
	match = p->instance_id && id && !strcmp(p->instance_id, id) && p->namespace_ && ns &&
		!strcmp(p->namespace_, ns);
	if (match) {
		in->bootstrap = true;
		in->grpc_address = dup_nonempty(p->containerd_grpc_address);
		in->ttrpc_address = dup_nonempty(p->containerd_ttrpc_address);
		in->socket_dir = dup_nonempty(p->socket_dir);
		in->debug = p->log_level <= LOG_LEVEL_DEBUG;
		for (size_t i = 0; i < p->n_extensions; i++)
			take_options(p->extensions[i] ? p->extensions[i]->value : NULL, in);
	}
	containerd__runtime__bootstrap__v1__bootstrap_params__free_unpacked(p, NULL);
	return match;
}

void shim_start_input_parse(const uint8_t *buf, size_t len, const char *id, const char *ns,
			    struct shim_start_input *in)
{
	Google__Protobuf__Any *any;

	memset(in, 0, sizeof(*in));
	if (len == 0 || take_bootstrap(buf, len, id, ns, in))
		return;
	any = google__protobuf__any__unpack(NULL, len, buf);
	if (!any)
		return;
	take_options(any, in);
	google__protobuf__any__free_unpacked(any, NULL);
}

void shim_start_input_clear(struct shim_start_input *in)
{
	free(in->shim_cgroup);
	free(in->grpc_address);
	free(in->ttrpc_address);
	free(in->socket_dir);
	memset(in, 0, sizeof(*in));
}

uint8_t *shim_bootstrap_result(const char *address, size_t *len)
{
	Containerd__Runtime__Bootstrap__V1__BootstrapResult r =
	    CONTAINERD__RUNTIME__BOOTSTRAP__V1__BOOTSTRAP_RESULT__INIT;
	uint8_t *out;

	r.version = SHIM_BOOTSTRAP_VERSION;
	r.address = (char *)address;
	r.protocol = "ttrpc";
	*len = containerd__runtime__bootstrap__v1__bootstrap_result__get_packed_size(&r);
	out = xmalloc(*len ? *len : 1);
	containerd__runtime__bootstrap__v1__bootstrap_result__pack(&r, out);
	return out;
}
