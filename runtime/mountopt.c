/* Mount options → MS_* flags, the way containerd's mount package (mount_linux.go) and runc's
 * specconv read them, so that a mount means the same thing under wren as under runc. */
#include <string.h>
#include <sys/mount.h>

#include "runtime/mountopt.h"
#include "runtime/util.h"

struct flag_word {
	const char *word;
	bool clear; /* the word clears the flag instead of setting it */
	unsigned long flag;
};

static const struct flag_word flag_words[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"sync", false, MS_SYNCHRONOUS},
};

/* The OCI spec's recursive words (runtime-spec 1.1): the same attributes on the mount and every
 * mount below it, as runc applies them. */
static const struct {
	const char *word;
	bool clear;
	uint64_t attr;
} rec_words[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", false, MOUNT_ATTR_RELATIME},
    {"rnorelatime", true, MOUNT_ATTR_RELATIME},
    {"rnoatime", false, MOUNT_ATTR_NOATIME},
    {"ratime", true, MOUNT_ATTR_NOATIME},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", true, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

static const struct {
	const char *word;
	unsigned long flag;
} propagation_words[] = {
    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static bool apply_flag_word(const char *w, struct rt_mountopt *out)
{
	for (size_t i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]); i++) {
		const struct flag_word *f = &flag_words[i];

		if (strcmp(w, f->word) != 0)
			continue;
		/* A later word wins over an earlier opposite one ("ro,rw" is rw), as with mount(8).
		 */
		if (f->clear) {
			out->flags &= ~f->flag;
			out->clear_flags |= f->flag;
		} else {
			out->flags |= f->flag;
			out->clear_flags &= ~f->flag;
		}
		if (f->flag & MS_BIND)
			out->bind = true;
		return true;
	}
	return false;
}

static bool apply_propagation_word(const char *w, struct rt_mountopt *out)
{
	for (size_t i = 0; i < sizeof(propagation_words) / sizeof(propagation_words[0]); i++) {
		if (strcmp(w, propagation_words[i].word) == 0) {
			/* Only one propagation type makes sense; the last one given is the one
			 * meant. */
			out->propagation = propagation_words[i].flag;
			return true;
		}
	}
	return false;
}

static bool apply_rec_word(const char *w, struct rt_mountopt *out)
{
	for (size_t i = 0; i < sizeof(rec_words) / sizeof(rec_words[0]); i++) {
		uint64_t a = rec_words[i].attr;

		if (strcmp(w, rec_words[i].word) != 0)
			continue;
		if (rec_words[i].clear) {
			out->rec_clr |= a;
			out->rec_set &= ~a;
		} else {
			out->rec_set |= a;
			out->rec_clr &= ~a;
			/* an atime mode is a value, not a bit: mount_setattr wants the whole field
			 * cleared to set one (relatime is 0, so it is only the clearing) */
			if ((a & MOUNT_ATTR__ATIME) == a) {
				out->rec_set &= ~(uint64_t)MOUNT_ATTR__ATIME;
				out->rec_set |= a;
				out->rec_clr |= MOUNT_ATTR__ATIME;
			}
		}
		return true;
	}
	return false;
}

static void append_data(char **data, size_t *len, const char *w)
{
	size_t wl = strlen(w);

	*data = xrealloc(*data, *len + wl + 2);
	if (*len > 0)
		(*data)[(*len)++] = ',';
	memcpy(*data + *len, w, wl + 1);
	*len += wl;
}

void rt_mountopt_parse(const char *const *opts, size_t n, struct rt_mountopt *out)
{
	size_t data_len = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const char *w = opts[i];

		if (w == NULL || *w == '\0' || strcmp(w, "defaults") == 0)
			continue;
		if (apply_flag_word(w, out) || apply_propagation_word(w, out) ||
		    apply_rec_word(w, out))
			continue;
		append_data(&out->data, &data_len, w);
	}
}
