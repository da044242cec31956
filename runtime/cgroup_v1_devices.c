/* Device rules on a cgroup v1 devices controller. Plain cgroupfs writes (see cgroup.c for why not
 * libcgroup).
 *
 * The rules are applied as runc applies them: "a" to devices.deny, then each rule in order. That
 * denies every device for a moment, harmless on a new cgroup but not on a running container, and
 * containerd's CRI sends the whole device list again with every resource update. So when the
 * rules would leave the cgroup exactly as it already is, nothing is written. The rules are
 * simulated the way the kernel keeps them (a default behaviour plus a list of exceptions whose
 * access bits merge and clear) and compared with devices.list. Rule sets of other shapes (a final
 * allow-all) are always written. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cgroup_fs.h"
#include "runtime/util.h"

enum { ACC_R = 1, ACC_W = 2, ACC_M = 4 };

struct dev_exc {
	char type;
	int64_t major, minor; /* -1 = '*' */
	unsigned access;
};

struct dev_list {
	struct dev_exc *e;
	size_t n;
};

static unsigned access_bits(const char *a)
{
	unsigned b = 0;

	for (; a && *a; a++)
		b |= *a == 'r' ? ACC_R : *a == 'w' ? ACC_W : *a == 'm' ? ACC_M : 0;
	return b;
}

static struct dev_exc *find(struct dev_list *l, char type, int64_t major, int64_t minor)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].type == type && l->e[i].major == major && l->e[i].minor == minor)
			return &l->e[i];
	return NULL;
}

/* The exceptions a default-deny cgroup holds after the rules; false when the rules end in
 * allow-all mode (then devices.list says "a *:* rwm" and there is nothing cheap to compare). */
static bool simulate(const struct rt_resources *r, struct dev_list *out)
{
	out->e = xzalloc((r->n_devices + 1) * sizeof(*out->e));
	out->n = 0;
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct rt_device_rule *d = &r->devices[i];
		struct dev_exc *x;

		if (d->type == 'a') {
			/* The kernel reads any "a" rule as the whole default: allow or deny all. */
			if (d->allow)
				return false;
			out->n = 0;
			continue;
		}
		x = find(out, d->type, d->major, d->minor);
		if (d->allow) {
			if (x == NULL) {
				x = &out->e[out->n++];
				*x = (struct dev_exc){d->type, d->major, d->minor, 0};
			}
			x->access |= access_bits(d->access);
		} else if (x != NULL) {
			x->access &= ~access_bits(d->access);
			if (x->access == 0)
				*x = out->e[--out->n];
		}
	}
	return true;
}

static int64_t parse_num(const char *s, char **end)
{
	if (*s == '*') {
		*end = (char *)s + 1;
		return -1;
	}
	return strtoll(s, end, 10);
}

/* devices.list: "c 1:3 rwm" per line; "a *:* rwm" when everything is allowed. */
static bool parse_list(char *text, struct dev_list *out)
{
	char *save = NULL;
	size_t cap = 0;

	out->e = NULL;
	out->n = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct dev_exc x = {.type = l[0]};
		char *p = l + 1, *end;

		if ((x.type != 'c' && x.type != 'b') || *p++ != ' ')
			return false;
		x.major = parse_num(p, &end);
		if (end == p || *end != ':')
			return false;
		p = end + 1;
		x.minor = parse_num(p, &end);
		if (end == p || *end != ' ')
			return false;
		x.access = access_bits(end + 1);
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->e = xrealloc(out->e, cap * sizeof(*out->e));
		}
		out->e[out->n++] = x;
	}
	return true;
}

static bool unchanged(const struct rt_cgfs_dir *d, const struct rt_resources *r)
{
	_cleanup_free_ char *text = NULL;
	struct dev_list want = {0}, have = {0};
	bool same = false;

	if (!simulate(r, &want) || rt_cgfs_read_at(d, "devices.list", &text) < 0 ||
	    !parse_list(text, &have) || want.n != have.n)
		goto out;
	same = true;
	for (size_t i = 0; i < want.n && same; i++) {
		struct dev_exc *h = find(&have, want.e[i].type, want.e[i].major, want.e[i].minor);
		same = h != NULL && h->access == want.e[i].access;
	}
out:
	free(want.e);
	free(have.e);
	return same;
}

/* A device number, or "*" for -1. */
static char *put_id(char *p, int64_t v)
{
	char t[20];
	size_t k = 0;

	if (v < 0) {
		*p++ = '*';
		return p;
	}
	do
		t[k++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (k > 0)
		*p++ = t[--k];
	return p;
}

/* "c 1:3 rwm", cut to RULE_MAX - 1 as snprintf would cut it. By hand: a create writes a dozen
 * rules, and the three snprintf calls a rule took cost more than the rest of this file. */
#define RULE_MAX 80
static void rule_text(const struct rt_device_rule *d, char b[static RULE_MAX])
{
	char *p = b; /* at most 44 bytes before the access string */
	size_t n;

	*p++ = d->type;
	*p++ = ' ';
	p = put_id(p, d->major);
	*p++ = ':';
	p = put_id(p, d->minor);
	*p++ = ' ';
	n = strnlen(d->access, RULE_MAX - 1 - (size_t)(p - b));
	memcpy(p, d->access, n);
	p[n] = '\0';
}

/* Write one rule to devices.allow or .deny through *fd, opened at the first rule for that file: the
 * kernel takes one rule per write(2), so one open file serves them all. */
static int write_rule(const struct rt_cgfs_dir *d, const char *file, int *fd, const char *rule,
		      struct wren_err **err)
{
	if (*fd < 0 && (*fd = rt_cgfs_open_at(d, file, O_WRONLY | O_TRUNC)) < 0)
		return wren_err_errno(err, errno, "cgroup: open %s/%s", d->path, file);
	if (write_all(*fd, rule, strlen(rule)) < 0)
		return wren_err_errno(err, errno, "cgroup: write %s/%s = \"%s\"", d->path, file,
				      rule);
	return 0;
}

int rt_cg1_set_devices(const struct rt_cgfs_dir *d, const struct rt_resources *r, bool creating,
		       struct wren_err **err)
{
	_cleanup_close_ int allow = -1, deny = -1;

	if (!creating && unchanged(d, r))
		return 0;
	/* A rule list that starts by denying "a" (every spec runc and containerd make) does the
	 * deny-all itself: the kernel takes any "a" rule as the whole new default, exceptions
	 * cleared. */
	if (!(r->n_devices > 0 && r->devices[0].type == 'a' && !r->devices[0].allow) &&
	    write_rule(d, "devices.deny", &deny, "a", err) < 0)
		return -1;
	for (size_t i = 0; i < r->n_devices; i++) {
		bool al = r->devices[i].allow;
		char b[RULE_MAX];

		rule_text(&r->devices[i], b);
		if (write_rule(d, al ? "devices.allow" : "devices.deny", al ? &allow : &deny, b,
			       err) < 0)
			return -1;
	}
	return 0;
}
