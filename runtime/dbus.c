/* The D-Bus wire protocol, client side (the D-Bus specification, "Message Protocol" and
 * "Authentication Protocol"): see dbus.h for what it offers and what it leaves out. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "runtime/dbus.h"
#include "runtime/util.h"

/* The specification's limit on a whole message. */
#define MAX_MESSAGE (128u << 20)

enum {
	F_PATH = 1,
	F_INTERFACE,
	F_MEMBER,
	F_ERROR_NAME,
	F_REPLY_SERIAL,
	F_DESTINATION,
	F_SENDER,
	F_SIGNATURE
};

struct rt_dbus {
	int fd;
	int timeout_ms;
	uint32_t serial;
	char *unique_name;
};

struct rt_dbus_msg {
	int type;
	char *dest, *path, *iface, *member, *sig;
	uint32_t reply_serial;
	uint8_t *b; /* the body; it starts 8-aligned in the message, so offsets align alike */
	size_t len, cap;
};

/* ---- time and io ------------------------------------------------------------------------------
 */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(struct rt_dbus *bus, short ev, int64_t deadline, struct wren_err **err)
{
	struct pollfd p = {.fd = bus->fd, .events = ev};

	for (;;) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return wren_err_errno(err, ETIMEDOUT, "d-bus: no answer after %d ms",
					      bus->timeout_ms);
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return wren_err_errno(err, errno, "d-bus: poll");
	}
}

static int send_all(struct rt_dbus *bus, const void *data, size_t n, struct wren_err **err)
{
	const uint8_t *p = data;
	int64_t deadline = now_ms() + bus->timeout_ms;

	while (n > 0) {
		ssize_t w = send(bus->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (wait_fd(bus, POLLOUT, deadline, err) < 0)
				return -1;
			continue;
		}
		if (w < 0)
			return wren_err_errno(err, errno, "d-bus: send");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int recv_all(struct rt_dbus *bus, void *data, size_t n, int64_t deadline,
		    struct wren_err **err)
{
	uint8_t *p = data;

	while (n > 0) {
		ssize_t r = recv(bus->fd, p, n, MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			if (wait_fd(bus, POLLIN, deadline, err) < 0)
				return -1;
			continue;
		}
		if (r < 0)
			return wren_err_errno(err, errno, "d-bus: receive");
		if (r == 0)
			return wren_err_errno(err, ECONNRESET, "d-bus: connection closed");
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One "\r\n"-terminated line of the SASL conversation. */
static int recv_line(struct rt_dbus *bus, char *line, size_t max, struct wren_err **err)
{
	int64_t deadline = now_ms() + bus->timeout_ms;
	size_t n = 0;

	for (;;) {
		if (n + 1 >= max)
			return wren_err_code(err, WREN_E_UNKNOWN,
					     "d-bus: authentication line too long");
		if (recv_all(bus, line + n, 1, deadline, err) < 0)
			return -1;
		if (line[n] == '\n' && n > 0 && line[n - 1] == '\r') {
			line[n - 1] = '\0';
			return 0;
		}
		n++;
	}
}

/* ---- connect -------------------------------------------------------------------------------- */

static int authenticate(struct rt_dbus *bus, struct wren_err **err)
{
	char uid[16], hex[40], line[512];
	_cleanup_free_ char *auth = NULL;
	size_t i;

	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	for (i = 0; uid[i]; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)uid[i]);
	auth = xasprintf("AUTH EXTERNAL %s\r\n", hex);
	/* the credentials byte, then the command */
	if (send_all(bus, "", 1, err) < 0 || send_all(bus, auth, strlen(auth), err) < 0 ||
	    recv_line(bus, line, sizeof(line), err) < 0)
		return wren_err_wrap(err, "d-bus: authenticate");
	if (strncmp(line, "OK ", 3) != 0)
		return wren_err_code(err, WREN_E_UNKNOWN, "d-bus: authentication refused: %s",
				     line);
	return send_all(bus, "BEGIN\r\n", 7, err);
}

static int hello(struct rt_dbus *bus, struct wren_err **err)
{
	struct rt_dbus_reply *r = NULL;
	struct rt_dbus_iter it;
	const char *name;
	int ret = -1;

	if (rt_dbus_call(bus,
			 rt_dbus_call_new("org.freedesktop.DBus", "/org/freedesktop/DBus",
					  "org.freedesktop.DBus", "Hello", ""),
			 &r, err) < 0)
		return wren_err_wrap(err, "d-bus: Hello");
	rt_dbus_iter_init(&it, r);
	if (rt_dbus_get_str(&it, &name) < 0)
		wren_err_code(err, WREN_E_UNKNOWN, "d-bus: Hello: bad reply");
	else {
		bus->unique_name = xstrdup(name);
		ret = 0;
	}
	rt_dbus_reply_free(r);
	return ret;
}

int rt_dbus_open(const char *path, bool say_hello, int timeout_ms, struct rt_dbus **out,
		 struct wren_err **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct rt_dbus *bus;
	int64_t deadline;

	*out = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return wren_err_code(err, WREN_E_INVALID_ARGUMENT, "d-bus: path too long: %s",
				     path);
	strcpy(sa.sun_path, path);
	bus = xzalloc(sizeof(*bus));
	bus->timeout_ms = timeout_ms > 0 ? timeout_ms : RT_DBUS_TIMEOUT_MS;
	bus->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (bus->fd < 0) {
		wren_err_errno(err, errno, "d-bus: socket");
		goto fail;
	}
	deadline = now_ms() + bus->timeout_ms;
	if (connect(bus->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int so = 0;
		socklen_t sl = sizeof(so);

		if (errno != EINPROGRESS && errno != EAGAIN) {
			wren_err_errno(err, errno, "connect %s", path);
			goto fail;
		}
		if (wait_fd(bus, POLLOUT, deadline, err) < 0 ||
		    getsockopt(bus->fd, SOL_SOCKET, SO_ERROR, &so, &sl) < 0 || so != 0) {
			wren_err_errno(err, so, "connect %s", path);
			goto fail;
		}
	}
	if (authenticate(bus, err) < 0 || (say_hello && hello(bus, err) < 0)) {
		wren_err_wrap(err, "%s", path);
		goto fail;
	}
	*out = bus;
	return 0;
fail:
	rt_dbus_close(bus);
	return -1;
}

int rt_dbus_open_system(struct rt_dbus **out, struct wren_err **err)
{
	_cleanup_err_ struct wren_err *first = NULL;

	if (rt_dbus_open(RT_DBUS_SYSTEM_BUS, true, RT_DBUS_TIMEOUT_MS, out, &first) == 0)
		return 0;
	if (geteuid() != 0 || access(RT_DBUS_SYSTEMD_PRIVATE, F_OK) < 0) {
		wren_err_move(err, &first);
		return -1;
	}
	return rt_dbus_open(RT_DBUS_SYSTEMD_PRIVATE, false, RT_DBUS_TIMEOUT_MS, out, err);
}

const char *rt_dbus_unique_name(const struct rt_dbus *bus)
{
	return bus->unique_name;
}

void rt_dbus_close(struct rt_dbus *bus)
{
	if (bus == NULL)
		return;
	closep(&bus->fd);
	free(bus->unique_name);
	free(bus);
}

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

/* The header fields a(yv) into r. */
static int parse_fields(struct rt_dbus_reply *r, size_t fields_end)
{
	struct rt_dbus_iter it = {.buf = r->buf, .len = fields_end, .pos = 16, .sig = "(yv)"};

	while (it.pos < fields_end) {
		struct rt_dbus_iter v;
		const char *s = NULL;
		uint8_t code;
		uint32_t u;
		char **slot = NULL;

		it.sig = "(yv)";
		if (rt_dbus_enter_struct(&it) < 0 || rt_dbus_get_byte(&it, &code) < 0 ||
		    rt_dbus_enter_variant(&it, &v) < 0)
			return -1;
		it.sig = ")";
		if (rt_dbus_leave_struct(&it) < 0)
			return -1;
		switch (code) {
		case F_PATH:
			slot = &r->path;
			break;
		case F_INTERFACE:
			slot = &r->iface;
			break;
		case F_MEMBER:
			slot = &r->member;
			break;
		case F_ERROR_NAME:
			slot = &r->error_name;
			break;
		case F_SENDER:
			slot = &r->sender;
			break;
		case F_SIGNATURE:
			slot = &r->sig;
			break;
		case F_REPLY_SERIAL:
			if (rt_dbus_get_u32(&v, &u) < 0)
				return -1;
			r->reply_serial = u;
			continue;
		default:
			continue;
		}
		if (rt_dbus_get_str(&v, &s) < 0)
			return -1;
		free(*slot);
		*slot = xstrdup(s);
	}
	return 0;
}

int rt_dbus_read(struct rt_dbus *bus, struct rt_dbus_reply **out, struct wren_err **err)
{
	int64_t deadline = now_ms() + bus->timeout_ms;
	uint8_t h[16];
	uint32_t body_len, fields_len, serial;
	size_t fields_end, total;
	struct rt_dbus_reply *r;

	*out = NULL;
	if (recv_all(bus, h, sizeof(h), deadline, err) < 0)
		return -1;
	if (h[0] != 'l' || h[3] != 1)
		return wren_err_code(err, WREN_E_UNKNOWN,
				     "d-bus: unsupported message (endianness '%c', version %u)",
				     h[0], h[3]);
	memcpy(&body_len, h + 4, 4);
	memcpy(&serial, h + 8, 4);
	memcpy(&fields_len, h + 12, 4);
	fields_end = 16 + (size_t)fields_len;
	total = (fields_end + 7) / 8 * 8 + body_len;
	if (total > MAX_MESSAGE)
		return wren_err_code(err, WREN_E_UNKNOWN, "d-bus: message of %zu bytes", total);
	r = xzalloc(sizeof(*r));
	r->buf = xmalloc(total);
	memcpy(r->buf, h, sizeof(h));
	r->len = total;
	r->body = total - body_len;
	r->type = h[1];
	r->serial = serial;
	if (recv_all(bus, r->buf + 16, total - 16, deadline, err) < 0) {
		rt_dbus_reply_free(r);
		return -1;
	}
	if (parse_fields(r, fields_end) < 0) {
		rt_dbus_reply_free(r);
		return wren_err_code(err, WREN_E_UNKNOWN, "d-bus: malformed message header");
	}
	*out = r;
	return 0;
}

/* ---- sending -------------------------------------------------------------------------------- */

static void field_str(struct rt_dbus_msg *h, uint8_t code, const char *sig, const char *v)
{
	if (v == NULL)
		return;
	rt_dbus_open_struct(h);
	rt_dbus_put_byte(h, code);
	rt_dbus_open_variant(h, sig);
	if (sig[0] == 'g')
		rt_dbus_put_sig(h, v);
	else
		rt_dbus_put_str(h, v);
}

static int send_msg(struct rt_dbus *bus, struct rt_dbus_msg *m, uint32_t *serial,
		    struct wren_err **err)
{
	struct rt_dbus_msg h = {0};
	size_t fields;
	uint32_t body_len = (uint32_t)m->len, s = ++bus->serial;
	int r;

	if (s == 0)
		s = ++bus->serial; /* 0 is not a valid serial */
	rt_dbus_put_byte(&h, 'l');
	rt_dbus_put_byte(&h, (uint8_t)m->type);
	rt_dbus_put_byte(&h, 0);
	rt_dbus_put_byte(&h, 1);
	rt_dbus_put_u32(&h, body_len);
	rt_dbus_put_u32(&h, s);
	fields = rt_dbus_open_array(&h, 8);
	field_str(&h, F_PATH, "o", m->path);
	field_str(&h, F_INTERFACE, "s", m->iface);
	field_str(&h, F_MEMBER, "s", m->member);
	field_str(&h, F_DESTINATION, "s", m->dest);
	if (m->reply_serial) {
		rt_dbus_open_struct(&h);
		rt_dbus_put_byte(&h, F_REPLY_SERIAL);
		rt_dbus_open_variant(&h, "u");
		rt_dbus_put_u32(&h, m->reply_serial);
	}
	if (m->sig[0])
		field_str(&h, F_SIGNATURE, "g", m->sig);
	rt_dbus_close_array(&h, fields);
	rt_dbus_open_struct(&h); /* the body starts 8-aligned */
	r = send_all(bus, h.b, h.len, err);
	if (r == 0 && m->len > 0)
		r = send_all(bus, m->b, m->len, err);
	free(h.b);
	if (r == 0 && serial)
		*serial = s;
	return r;
}

int rt_dbus_send(struct rt_dbus *bus, struct rt_dbus_msg *m, uint32_t *serial,
		 struct wren_err **err)
{
	int r = send_msg(bus, m, serial, err);

	rt_dbus_msg_free(m);
	return r;
}

int rt_dbus_send_return(struct rt_dbus *bus, const struct rt_dbus_reply *call,
			struct rt_dbus_msg *m, struct wren_err **err)
{
	m->type = RT_DBUS_METHOD_RETURN;
	m->reply_serial = call->serial;
	free(m->dest);
	m->dest = call->sender ? xstrdup(call->sender) : NULL;
	return rt_dbus_send(bus, m, NULL, err);
}

static bool not_found_name(const char *name)
{
	return strstr(name, "Unknown") || strstr(name, "NoSuch") ||
	       strstr(name, "NameHasNoOwner") || strstr(name, "ServiceUnknown");
}

int rt_dbus_call(struct rt_dbus *bus, struct rt_dbus_msg *m, struct rt_dbus_reply **reply,
		 struct wren_err **err)
{
	_cleanup_free_ char *what = xasprintf("%s.%s", m->iface ? m->iface : "", m->member);
	int64_t deadline = now_ms() + bus->timeout_ms;
	uint32_t serial;

	if (reply)
		*reply = NULL;
	if (rt_dbus_send(bus, m, &serial, err) < 0)
		return -1;
	while (now_ms() < deadline) {
		struct rt_dbus_reply *r = NULL;

		if (rt_dbus_read(bus, &r, err) < 0)
			return -1;
		if ((r->type != RT_DBUS_METHOD_RETURN && r->type != RT_DBUS_ERROR) ||
		    r->reply_serial != serial) {
			rt_dbus_reply_free(r); /* a signal, or someone else's answer */
			continue;
		}
		if (r->type == RT_DBUS_ERROR) {
			struct rt_dbus_iter it;
			const char *msg = "";
			const char *name = r->error_name ? r->error_name : "(no error name)";

			rt_dbus_iter_init(&it, r);
			if (it.sig[0] == 's')
				rt_dbus_get_str(&it, &msg);
			wren_err_code(err, not_found_name(name) ? WREN_E_NOT_FOUND : WREN_E_UNKNOWN,
				      "%s: %s: %s", what, name, msg);
			rt_dbus_reply_free(r);
			return -1;
		}
		if (reply)
			*reply = r;
		else
			rt_dbus_reply_free(r);
		return 0;
	}
	return wren_err_errno(err, ETIMEDOUT, "%s: no answer after %d ms", what, bus->timeout_ms);
}
