/* Capabilities (libcap): applied in the container's child after its uid/gid are set. */
#ifndef WREN_CAPS_H
#define WREN_CAPS_H

#include <stdint.h>

#include "runtime/err.h"
#include "runtime/spec.h"

/* Capability number for a name like "CAP_CHOWN", or -1. */
int rt_cap_from_name(const char *name);
/* Drop the bounding set to caps->bounding (needs CAP_SETPCAP: call before dropping it). */
int rt_caps_drop_bounding(const struct rt_caps *caps, struct wren_err **err);
/* Set effective, permitted, inheritable and ambient sets. Call after setuid with
 * PR_SET_KEEPCAPS. */
int rt_caps_apply(const struct rt_caps *caps, struct wren_err **err);

/* Read the kernel's last capability now (once per process): children cloned after this use the
 * value they inherit. */
void rt_caps_prime(void);
/* The kernel's last capability (or -1 with *err), and after rt_caps_prime the spec's name of
 * capability c ("CAP_KILL"; NULL when unknown), both kept for the process's life. */
int rt_caps_last(struct wren_err **err);
const char *rt_caps_name(int c);

#endif
