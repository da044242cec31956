/* Mount options as containerd's mount package and the OCI spec spell them: words that are MS_*
 * flags (set or cleared), propagation words, the recursive attribute words of the OCI spec (rro,
 * rnosuid, ...: mount_setattr with AT_RECURSIVE), and everything else joined as filesystem data. */
#ifndef WREN_MOUNTOPT_H
#define WREN_MOUNTOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rt_mountopt {
	unsigned long flags;	   /* MS_* to set (bind/rbind give MS_BIND[|MS_REC]) */
	unsigned long clear_flags; /* MS_* the options clear (rw, suid, dev, exec, atime, ...) */
	/* MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE [| MS_REC], or 0 */
	unsigned long propagation;
	/* MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE) on the new mount: to set, to clear */
	uint64_t rec_set, rec_clr;
	char *data; /* malloc'd comma-joined unknown words, or NULL */
	bool bind;
};

/* Never fails: unknown words go to data. Free data with free(). */
void rt_mountopt_parse(const char *const *opts, size_t n, struct rt_mountopt *out);

#endif
