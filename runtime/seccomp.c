/* The spec's seccomp profile → a libseccomp filter, loaded in the child. Mirrors runc's
 * libcontainer/seccomp so a profile behaves the same under wren: unknown syscalls are skipped,
 * rules that repeat the default action are dropped (libseccomp refuses them), and several
 * conditions on one argument become one rule each (libseccomp cannot AND them). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/seccomp.h"
#include "runtime/util.h"

static inline void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}
#define _cleanup_seccomp_ __attribute__((cleanup(seccomp_releasep)))

static int to_scmp_action(enum rt_seccomp_action a, bool has_ret, uint32_t ret, uint32_t *out,
			  struct wren_err **err)
{
	uint32_t r = has_ret ? ret : EPERM;

	switch (a) {
	case RT_SCMP_KILL:
	case RT_SCMP_KILL_THREAD:
		*out = SCMP_ACT_KILL_THREAD;
		return 0;
	case RT_SCMP_KILL_PROCESS:
		*out = SCMP_ACT_KILL_PROCESS;
		return 0;
	case RT_SCMP_TRAP:
		*out = SCMP_ACT_TRAP;
		return 0;
	case RT_SCMP_ERRNO:
		*out = SCMP_ACT_ERRNO(r);
		return 0;
	case RT_SCMP_TRACE:
		*out = SCMP_ACT_TRACE(r);
		return 0;
	case RT_SCMP_ALLOW:
		*out = SCMP_ACT_ALLOW;
		return 0;
	case RT_SCMP_LOG:
		*out = SCMP_ACT_LOG;
		return 0;
	case RT_SCMP_NOTIFY:
		break;
	}
	/* A listener needs listenerPath and a seccomp agent: not part of wren yet. */
	return wren_err_code(err, WREN_E_UNIMPLEMENTED, "seccomp notify not supported");
}

static int set_attr(scmp_filter_ctx ctx, enum scmp_filter_attr a, uint32_t v, const char *what,
		    struct wren_err **err)
{
	int r = seccomp_attr_set(ctx, a, v);

	if (r < 0)
		return wren_err_errno(err, -r, "seccomp: set %s", what);
	return 0;
}

static int apply_flags(scmp_filter_ctx ctx, const struct rt_seccomp *sc, struct wren_err **err)
{
	for (size_t i = 0; i < sc->n_flags; i++) {
		const char *f = sc->flags[i];
		int r = 0;

		if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			r = set_attr(ctx, SCMP_FLTATR_CTL_TSYNC, 1, f, err);
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0)
			r = set_attr(ctx, SCMP_FLTATR_CTL_LOG, 1, f, err);
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			r = set_attr(ctx, SCMP_FLTATR_CTL_SSB, 1, f, err);
		/* WAIT_KILLABLE_RECV only changes notify listeners, which wren does not have;
		 * libseccomp 2.5 has no attribute for it. */
		if (r < 0)
			return -1;
	}
	return 0;
}

static bool same_index_twice(const struct rt_seccomp_rule *r)
{
	for (size_t i = 0; i < r->n_args; i++)
		for (size_t j = i + 1; j < r->n_args; j++)
			if (r->args[i].index == r->args[j].index)
				return true;
	return false;
}

static struct scmp_arg_cmp to_cmp(const struct rt_seccomp_arg *a)
{
	return (struct scmp_arg_cmp){
	    .arg = a->index,
	    .op = (enum scmp_compare)a->op,
	    .datum_a = a->value,
	    .datum_b = a->value_two,
	};
}

static int add_rule(scmp_filter_ctx ctx, const struct rt_seccomp_rule *r, uint32_t action,
		    struct wren_err **err)
{
	struct scmp_arg_cmp cmps[6];
	size_t n = r->n_args > 6 ? 6 : r->n_args;

	for (size_t i = 0; i < n; i++)
		cmps[i] = to_cmp(&r->args[i]);
	for (size_t k = 0; k < r->n_names; k++) {
		int nr = seccomp_syscall_resolve_name(r->names[k]);
		int rc;

		if (nr == __NR_SCMP_ERROR)
			continue; /* a syscall this libseccomp does not know */
		if (!same_index_twice(r)) {
			rc = seccomp_rule_add_array(ctx, action, nr, (unsigned int)n, cmps);
		} else {
			rc = 0;
			for (size_t i = 0; i < n && rc == 0; i++)
				rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[i]);
		}
		if (rc < 0)
			return wren_err_errno(err, -rc, "seccomp: add rule for %s", r->names[k]);
	}
	return 0;
}

/* The spec's filter as a libseccomp context, not loaded. */
static scmp_filter_ctx build(const struct rt_seccomp *sc, struct wren_err **err)
{
	_cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
	uint32_t def;
	int r;

	if (to_scmp_action(sc->default_action, sc->has_default_errno_ret, sc->default_errno_ret,
			   &def, err) < 0)
		return NULL;
	ctx = seccomp_init(def);
	if (ctx == NULL) {
		wren_err_code(err, WREN_E_INVALID_ARGUMENT,
			      "seccomp: cannot initialise a filter with the default action");
		return NULL;
	}
	/* no_new_privs is the spec's process.noNewPrivileges, set by the caller, not libseccomp. */
	if (set_attr(ctx, SCMP_FLTATR_CTL_NNP, 0, "no_new_privs off", err) < 0 ||
	    apply_flags(ctx, sc, err) < 0)
		return NULL;
	for (size_t i = 0; i < sc->n_architectures; i++) {
		r = seccomp_arch_add(ctx, sc->architectures[i]);
		if (r < 0 && r != -EEXIST) {
			wren_err_errno(err, -r, "seccomp: add architecture %#x",
				       sc->architectures[i]);
			return NULL;
		}
	}
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct rt_seccomp_rule *rule = &sc->rules[i];
		uint32_t act;

		if (to_scmp_action(rule->action, rule->has_errno_ret, rule->errno_ret, &act, err) <
		    0) {
			wren_err_wrap(err, "seccomp: syscalls[%zu]", i);
			return NULL;
		}
		if (act == def)
			continue; /* libseccomp rejects a rule that repeats the default */
		if (add_rule(ctx, rule, act, err) < 0)
			return NULL;
	}
	return steal_ptr(&ctx);
}

int rt_seccomp_load(const struct rt_seccomp *sc, struct wren_err **err)
{
	_cleanup_seccomp_ scmp_filter_ctx ctx = build(sc, err);
	int r;

	if (ctx == NULL)
		return -1;
	r = seccomp_load(ctx);
	if (r < 0)
		return wren_err_errno(err, -r, "seccomp: load the filter");
	return 0;
}

struct rt_seccomp_built *rt_seccomp_build(const struct rt_seccomp *sc, struct wren_err **err)
{
	return (struct rt_seccomp_built *)build(sc, err);
}

int rt_seccomp_load_built(struct rt_seccomp_built *b, struct wren_err **err)
{
	_cleanup_seccomp_ scmp_filter_ctx ctx = (scmp_filter_ctx)b;
	int r = seccomp_load(ctx);

	if (r < 0)
		return wren_err_errno(err, -r, "seccomp: load the filter");
	return 0;
}

int rt_seccomp_compile(const struct rt_seccomp *sc, struct rt_seccomp_prog *out,
		       struct wren_err **err)
{
	_cleanup_seccomp_ scmp_filter_ctx ctx = build(sc, err);
	_cleanup_close_ int fd = -1;
	off_t size;
	int r;

	if (ctx == NULL)
		return -1;
	/* libseccomp 2.5 exports the program it would load only to an fd */
	fd = memfd_create("wren-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return wren_err_errno(err, errno, "seccomp: memfd_create");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return wren_err_errno(err, -r, "seccomp: export the filter");
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return wren_err_code(err, WREN_E_UNKNOWN, "seccomp: exported filter of %lld bytes",
				     (long long)size);
	out->len = (size_t)size / sizeof(struct sock_filter);
	out->filter = xmalloc((size_t)size);
	if (pread(fd, out->filter, (size_t)size, 0) != size) {
		int e = errno;
		free(out->filter);
		out->filter = NULL;
		return wren_err_errno(err, e, "seccomp: read the exported filter");
	}
	/* what seccomp_load would pass from the same attributes (apply_flags) */
	out->flags = 0;
	for (size_t i = 0; i < sc->n_flags; i++) {
		if (strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			out->flags |= SECCOMP_FILTER_FLAG_TSYNC;
		else if (strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_LOG") == 0)
			out->flags |= SECCOMP_FILTER_FLAG_LOG;
		else if (strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			out->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	}
	return 0;
}
