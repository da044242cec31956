/* Capability names (libcap) and the kernel's last capability. The child sets its capabilities with
 * rt_raw_set_user (proc_raw.h). */
#ifndef WREN_CAPS_H
#define WREN_CAPS_H

#include <stdint.h>

#include "runtime/err.h"
#include "runtime/spec.h"

/* Capability number for a name like "CAP_CHOWN", or -1. */
int rt_cap_from_name(const char *name);

/* Read the kernel's last capability now (once per process): children cloned after this use the
 * value they inherit. */
void rt_caps_prime(void);
/* The kernel's last capability (or -1 with *err), and after rt_caps_prime the spec's name of
 * capability c ("CAP_KILL"; NULL when unknown), both kept for the process's life. */
int rt_caps_last(struct wren_err **err);
const char *rt_caps_name(int c);

#endif
