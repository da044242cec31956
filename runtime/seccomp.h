/* seccomp filters from the spec (libseccomp), loaded in the child as the last step before execve. */
#ifndef WREN_SECCOMP_H
#define WREN_SECCOMP_H

#include <stddef.h>

#include "runtime/err.h"
#include "runtime/spec.h"

/* Build the filter and load it. Unknown syscall names are skipped (as runc does: the profile may
 * name syscalls this kernel or libseccomp does not know). */
int rt_seccomp_load(const struct rt_seccomp *sc, struct wren_err **err);

/* The same in two steps, for the init that loads its filter only after start: built while the
 * init still answers create (a filter the spec cannot give fails the create, as with runc), loaded
 * as its last step. rt_seccomp_load_built consumes b. */
struct rt_seccomp_built;
struct rt_seccomp_built *rt_seccomp_build(const struct rt_seccomp *sc, struct wren_err **err);
int rt_seccomp_load_built(struct rt_seccomp_built *b, struct wren_err **err);

/* The same filter as a BPF program, for a child that loads it with the seccomp syscall itself
 * (exec_child.c, which may not allocate): made once per container by the daemon. flags are the
 * SECCOMP_FILTER_FLAG_* seccomp_load would pass. filter is malloc'd. */
struct sock_filter;
struct rt_seccomp_prog {
	struct sock_filter *filter;
	size_t len;
	unsigned int flags;
};
int rt_seccomp_compile(const struct rt_seccomp *sc, struct rt_seccomp_prog *out,
		       struct wren_err **err);

#endif
