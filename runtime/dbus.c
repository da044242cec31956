/* The D-Bus connection, client side (the D-Bus specification, "Message Protocol" and
 * "Authentication Protocol"): connect, authenticate, send, receive, call. The body marshalling is
 * dbus_wire.c. See dbus.h for what it offers and what it leaves out. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "runtime/dbus.h"
#include "runtime/dbus_wire.h"
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

/* ---- time and io ---------------------------------------------------------------------------- */

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
