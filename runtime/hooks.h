/* OCI hooks: run a list of hooks with the container state JSON on stdin, each to completion or to
 * its timeout. Used by the daemon (prestart, createRuntime, poststart, poststop) and by the child
 * (createContainer, startContainer). */
#ifndef WREN_HOOKS_H
#define WREN_HOOKS_H

#include <stddef.h>
#include <sys/types.h>

#include "runtime/err.h"
#include "runtime/spec.h"

/* The OCI state document: {"ociVersion","id","status","pid","bundle","annotations"}. malloc'd. */
char *rt_state_json(const struct rt_spec *spec, const char *id, const char *status, pid_t pid,
		    const char *bundle);
/* Run hooks in order; the first failure stops and is returned as
 * "<kind> hook <path>: exit status N" (or "...: timed out after Ns"). */
int rt_hooks_run(const struct rt_hook *hooks, size_t n, const char *kind, const char *state_json,
		 struct wren_err **err);

#endif
