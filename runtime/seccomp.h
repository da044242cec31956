/* seccomp filters from the spec (libseccomp), loaded in the child as the last step before execve. */
#ifndef WREN_SECCOMP_H
#define WREN_SECCOMP_H

#include "runtime/err.h"
#include "runtime/spec.h"

/* Build the filter and load it. Unknown syscall names are skipped (as runc does: the profile may
 * name syscalls this kernel or libseccomp does not know). */
int rt_seccomp_load(const struct rt_seccomp *sc, struct wren_err **err);

#endif
