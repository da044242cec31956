/* The D-Bus marshalling format (the specification's "Marshaling (Wire Format)"), both ways:
 * building a message body, and the typed cursor over a received one. Little-endian only, see
 * dbus.h. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/dbus.h"
#include "runtime/dbus_wire.h"
#include "runtime/util.h"

/* ---- building ------------------------------------------------------------------------------- */

static void reserve(struct rt_dbus_msg *m, size_t n)
{
	if (m->len + n <= m->cap)
		return;
	m->cap = (m->len + n) * 2 + 64;
	m->b = xrealloc(m->b, m->cap);
}

static void align(struct rt_dbus_msg *m, size_t a)
{
	size_t pad = (a - m->len % a) % a;

	if (pad == 0) /* m->b may still be NULL: no memset(NULL, 0, 0) */
		return;
	reserve(m, pad);
	memset(m->b + m->len, 0, pad);
	m->len += pad;
}

static void put_raw(struct rt_dbus_msg *m, const void *p, size_t n)
{
	reserve(m, n);
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

struct rt_dbus_msg *rt_dbus_call_new(const char *dest, const char *path, const char *iface,
				     const char *member, const char *sig)
{
	struct rt_dbus_msg *m = xzalloc(sizeof(*m));

	m->type = RT_DBUS_METHOD_CALL;
	m->dest = dest ? xstrdup(dest) : NULL;
	m->path = path ? xstrdup(path) : NULL;
	m->iface = iface ? xstrdup(iface) : NULL;
	m->member = member ? xstrdup(member) : NULL;
	m->sig = xstrdup(sig ? sig : "");
	return m;
}

void rt_dbus_msg_free(struct rt_dbus_msg *m)
{
	if (m == NULL)
		return;
	free(m->dest);
	free(m->path);
	free(m->iface);
	free(m->member);
	free(m->sig);
	free(m->b);
	free(m);
}

void rt_dbus_put_byte(struct rt_dbus_msg *m, uint8_t v)
{
	put_raw(m, &v, 1);
}

void rt_dbus_put_u32(struct rt_dbus_msg *m, uint32_t v)
{
	align(m, 4);
	put_raw(m, &v, 4); /* little-endian host: see dbus.h */
}

void rt_dbus_put_bool(struct rt_dbus_msg *m, bool v)
{
	rt_dbus_put_u32(m, v ? 1 : 0);
}

void rt_dbus_put_u64(struct rt_dbus_msg *m, uint64_t v)
{
	align(m, 8);
	put_raw(m, &v, 8);
}

void rt_dbus_put_str(struct rt_dbus_msg *m, const char *s)
{
	size_t n = strlen(s);

	rt_dbus_put_u32(m, (uint32_t)n);
	put_raw(m, s, n + 1);
}

void rt_dbus_put_sig(struct rt_dbus_msg *m, const char *s)
{
	size_t n = strlen(s);

	rt_dbus_put_byte(m, (uint8_t)n);
	put_raw(m, s, n + 1);
}

size_t rt_dbus_open_array(struct rt_dbus_msg *m, size_t elem_align)
{
	size_t at;

	rt_dbus_put_u32(m, 0);
	at = m->len - 4;
	/* the padding to the first element is not part of the length */
	align(m, elem_align);
	return at | (m->len - at - 4) << 56;
}

void rt_dbus_close_array(struct rt_dbus_msg *m, size_t handle)
{
	size_t at = handle & ((1ull << 56) - 1), pad = handle >> 56;
	uint32_t n = (uint32_t)(m->len - at - 4 - pad);

	memcpy(m->b + at, &n, 4);
}

void rt_dbus_open_struct(struct rt_dbus_msg *m)
{
	align(m, 8);
}

void rt_dbus_open_variant(struct rt_dbus_msg *m, const char *sig)
{
	rt_dbus_put_sig(m, sig);
}

static void prop(struct rt_dbus_msg *m, const char *name, const char *sig)
{
	rt_dbus_open_struct(m);
	rt_dbus_put_str(m, name);
	rt_dbus_open_variant(m, sig);
}

void rt_dbus_prop_str(struct rt_dbus_msg *m, const char *name, const char *v)
{
	prop(m, name, "s");
	rt_dbus_put_str(m, v);
}

void rt_dbus_prop_bool(struct rt_dbus_msg *m, const char *name, bool v)
{
	prop(m, name, "b");
	rt_dbus_put_bool(m, v);
}

void rt_dbus_prop_u64(struct rt_dbus_msg *m, const char *name, uint64_t v)
{
	prop(m, name, "t");
	rt_dbus_put_u64(m, v);
}

void rt_dbus_prop_au32(struct rt_dbus_msg *m, const char *name, const uint32_t *v, size_t n)
{
	size_t a;

	prop(m, name, "au");
	a = rt_dbus_open_array(m, 4);
	for (size_t i = 0; i < n; i++)
		rt_dbus_put_u32(m, v[i]);
	rt_dbus_close_array(m, a);
}

void rt_dbus_prop_au64(struct rt_dbus_msg *m, const char *name, const uint64_t *v, size_t n)
{
	size_t a;

	prop(m, name, "at");
	a = rt_dbus_open_array(m, 8);
	for (size_t i = 0; i < n; i++)
		rt_dbus_put_u64(m, v[i]);
	rt_dbus_close_array(m, a);
}

void rt_dbus_prop_astr(struct rt_dbus_msg *m, const char *name, const char *const *v, size_t n)
{
	size_t a;

	prop(m, name, "as");
	a = rt_dbus_open_array(m, 4);
	for (size_t i = 0; i < n; i++)
		rt_dbus_put_str(m, v[i]);
	rt_dbus_close_array(m, a);
}

void rt_dbus_prop_bytes(struct rt_dbus_msg *m, const char *name, const uint8_t *v, size_t n)
{
	size_t a;

	prop(m, name, "ay");
	a = rt_dbus_open_array(m, 1);
	put_raw(m, v, n);
	rt_dbus_close_array(m, a);
}

/* ---- reading -------------------------------------------------------------------------------- */

void rt_dbus_reply_free(struct rt_dbus_reply *r)
{
	if (r == NULL)
		return;
	free(r->sender);
	free(r->path);
	free(r->iface);
	free(r->member);
	free(r->error_name);
	free(r->sig);
	free(r->buf);
	free(r);
}

static int it_align(struct rt_dbus_iter *it, size_t a)
{
	size_t p = (it->pos + a - 1) / a * a;

	if (p > it->len)
		return -1;
	it->pos = p;
	return 0;
}

static int want(struct rt_dbus_iter *it, char t)
{
	if (it->sig == NULL || it->sig[0] != t)
		return -1;
	return 0;
}

static int fixed(struct rt_dbus_iter *it, char t, size_t n, void *v)
{
	if (want(it, t) < 0 || it_align(it, n) < 0 || it->len - it->pos < n)
		return -1;
	memcpy(v, it->buf + it->pos, n);
	it->pos += n;
	it->sig++;
	return 0;
}

int rt_dbus_get_byte(struct rt_dbus_iter *it, uint8_t *v)
{
	return fixed(it, 'y', 1, v);
}

int rt_dbus_get_bool(struct rt_dbus_iter *it, bool *v)
{
	uint32_t u;

	if (fixed(it, 'b', 4, &u) < 0 || u > 1)
		return -1;
	*v = u;
	return 0;
}

int rt_dbus_get_u32(struct rt_dbus_iter *it, uint32_t *v)
{
	return fixed(it, 'u', 4, v);
}

int rt_dbus_get_u64(struct rt_dbus_iter *it, uint64_t *v)
{
	return fixed(it, 't', 8, v);
}

int rt_dbus_get_str(struct rt_dbus_iter *it, const char **v)
{
	uint32_t n;
	char t = it->sig ? it->sig[0] : 0;

	if (t == 'g') {
		if (it->pos >= it->len)
			return -1;
		n = it->buf[it->pos++];
	} else if (t == 's' || t == 'o') {
		if (it_align(it, 4) < 0 || it->len - it->pos < 4)
			return -1;
		memcpy(&n, it->buf + it->pos, 4);
		it->pos += 4;
	} else {
		return -1;
	}
	if (it->len - it->pos < (size_t)n + 1 || it->buf[it->pos + n] != '\0')
		return -1;
	*v = (const char *)it->buf + it->pos;
	it->pos += n + 1;
	it->sig++;
	return 0;
}

/* The end of the single complete type at sig, or NULL. */
static const char *type_end(const char *sig)
{
	int depth = 0;

	do {
		while (*sig == 'a')
			sig++; /* an array's element type follows */
		switch (*sig) {
		case '(':
		case '{':
			depth++;
			break;
		case ')':
		case '}':
			depth--;
			break;
		case '\0':
			return NULL;
		}
		sig++;
	} while (depth > 0);
	return sig;
}

static size_t type_align(char t)
{
	switch (t) {
	case 'y':
	case 'g':
	case 'v':
		return 1;
	case 'n':
	case 'q':
		return 2;
	case 't':
	case 'x':
	case 'd':
	case '(':
	case '{':
		return 8;
	default:
		return 4;
	}
}

int rt_dbus_enter_array(struct rt_dbus_iter *it, struct rt_dbus_iter *sub)
{
	uint32_t n;
	const char *end;

	if (want(it, 'a') < 0 || (end = type_end(it->sig)) == NULL || it_align(it, 4) < 0 ||
	    it->len - it->pos < 4)
		return -1;
	memcpy(&n, it->buf + it->pos, 4);
	it->pos += 4;
	if (it_align(it, type_align(it->sig[1])) < 0 || it->len - it->pos < n)
		return -1;
	*sub = (struct rt_dbus_iter){
	    .buf = it->buf, .len = it->pos + n, .pos = it->pos, .sig = it->sig + 1};
	it->pos += n;
	it->sig = end;
	return 0;
}

int rt_dbus_enter_struct(struct rt_dbus_iter *it)
{
	if (it->sig == NULL || (it->sig[0] != '(' && it->sig[0] != '{') || it_align(it, 8) < 0)
		return -1;
	it->sig++;
	return 0;
}

int rt_dbus_leave_struct(struct rt_dbus_iter *it)
{
	if (it->sig == NULL || (it->sig[0] != ')' && it->sig[0] != '}'))
		return -1;
	it->sig++;
	return 0;
}

int rt_dbus_enter_variant(struct rt_dbus_iter *it, struct rt_dbus_iter *sub)
{
	const char *vsig, *rest;
	struct rt_dbus_iter s;

	if (want(it, 'v') < 0)
		return -1;
	rest = it->sig + 1;
	it->sig = "g";
	if (rt_dbus_get_str(it, &vsig) < 0 || type_end(vsig) == NULL)
		return -1;
	s = (struct rt_dbus_iter){.buf = it->buf, .len = it->len, .pos = it->pos, .sig = vsig};
	if (rt_dbus_skip(&s) < 0)
		return -1;
	*sub = (struct rt_dbus_iter){.buf = it->buf, .len = s.pos, .pos = it->pos, .sig = vsig};
	it->pos = s.pos;
	it->sig = rest;
	return 0;
}

int rt_dbus_skip(struct rt_dbus_iter *it)
{
	uint8_t y;
	const char *s;
	struct rt_dbus_iter sub;

	if (it->sig == NULL)
		return -1;
	switch (it->sig[0]) {
	case 'y':
		return rt_dbus_get_byte(it, &y);
	case 'b':
	case 'u':
	case 'i':
	case 'h':
		if (it_align(it, 4) < 0 || it->len - it->pos < 4)
			return -1;
		it->pos += 4;
		it->sig++;
		return 0;
	case 'n':
	case 'q':
		if (it_align(it, 2) < 0 || it->len - it->pos < 2)
			return -1;
		it->pos += 2;
		it->sig++;
		return 0;
	case 't':
	case 'x':
	case 'd':
		if (it_align(it, 8) < 0 || it->len - it->pos < 8)
			return -1;
		it->pos += 8;
		it->sig++;
		return 0;
	case 's':
	case 'o':
	case 'g':
		return rt_dbus_get_str(it, &s);
	case 'v':
		return rt_dbus_enter_variant(it, &sub);
	case 'a':
		return rt_dbus_enter_array(it, &sub);
	case '(':
	case '{':
		if (rt_dbus_enter_struct(it) < 0)
			return -1;
		while (it->sig[0] != ')' && it->sig[0] != '}')
			if (rt_dbus_skip(it) < 0)
				return -1;
		return rt_dbus_leave_struct(it);
	default:
		return -1;
	}
}

void rt_dbus_iter_init(struct rt_dbus_iter *it, const struct rt_dbus_reply *r)
{
	*it = (struct rt_dbus_iter){
	    .buf = r->buf, .len = r->len, .pos = r->body, .sig = r->sig ? r->sig : ""};
}
