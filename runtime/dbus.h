/* A small blocking D-Bus client, just enough to talk to systemd (runtime/cgroup_systemd.c): connect
 * to a unix socket, SASL EXTERNAL, marshal a method call, wait (bounded) for its return or error.
 * No libdbus/sd-bus: the dependencies are fixed. Little-endian messages only (what systemd and
 * dbus-daemon send on x86 and arm64 hosts); no fd passing.
 *
 * Every round trip blocks the caller for at most the connection's timeout: the shim's loop is
 * single-threaded, so a wedged systemd costs one bounded wait per call, not a hang. */
#ifndef WREN_DBUS_H
#define WREN_DBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/err.h"

#define RT_DBUS_SYSTEM_BUS	"/run/dbus/system_bus_socket"
#define RT_DBUS_SYSTEMD_PRIVATE "/run/systemd/private"
#define RT_DBUS_TIMEOUT_MS	5000

enum rt_dbus_type {
	RT_DBUS_METHOD_CALL = 1,
	RT_DBUS_METHOD_RETURN = 2,
	RT_DBUS_ERROR = 3,
	RT_DBUS_SIGNAL = 4,
};

struct rt_dbus;

/* Connect to a unix socket path and authenticate (EXTERNAL, our uid). With hello, call
 * org.freedesktop.DBus.Hello (a bus daemon wants it; systemd's private socket does not). */
int rt_dbus_open(const char *path, bool hello, int timeout_ms, struct rt_dbus **out,
		 struct wren_err **err);
/* The system bus, else systemd's private socket (root only). */
int rt_dbus_open_system(struct rt_dbus **out, struct wren_err **err);
/* Our unique name after Hello (":1.42"), else NULL. */
const char *rt_dbus_unique_name(const struct rt_dbus *bus);
void rt_dbus_close(struct rt_dbus *bus);

/* ---- building a message -------------------------------------------------------------------- */

struct rt_dbus_msg;

/* dest may be NULL (a peer-to-peer connection). sig is the body's signature ("" for none); the
 * caller then appends exactly that with the put/open/close calls. */
struct rt_dbus_msg *rt_dbus_call_new(const char *dest, const char *path, const char *iface,
				     const char *member, const char *sig);
void rt_dbus_msg_free(struct rt_dbus_msg *m);
void rt_dbus_put_byte(struct rt_dbus_msg *m, uint8_t v);
void rt_dbus_put_bool(struct rt_dbus_msg *m, bool v);
void rt_dbus_put_u32(struct rt_dbus_msg *m, uint32_t v);
void rt_dbus_put_u64(struct rt_dbus_msg *m, uint64_t v);
/* 's', 'o' (string with a u32 length) */
void rt_dbus_put_str(struct rt_dbus_msg *m, const char *s);
/* 'g' (signature: u8 length) */
void rt_dbus_put_sig(struct rt_dbus_msg *m, const char *s);
/* Arrays: open with the element's alignment (1 y, 4 u/s/a, 8 t/struct), close with the handle. */
size_t rt_dbus_open_array(struct rt_dbus_msg *m, size_t elem_align);
void rt_dbus_close_array(struct rt_dbus_msg *m, size_t handle);
void rt_dbus_open_struct(struct rt_dbus_msg *m);
/* A variant's signature; its value follows. */
void rt_dbus_open_variant(struct rt_dbus_msg *m, const char *sig);

/* One "(sv)" element of an a(sv) property array. */
void rt_dbus_prop_str(struct rt_dbus_msg *m, const char *name, const char *v);
void rt_dbus_prop_bool(struct rt_dbus_msg *m, const char *name, bool v);
void rt_dbus_prop_u64(struct rt_dbus_msg *m, const char *name, uint64_t v);
void rt_dbus_prop_au32(struct rt_dbus_msg *m, const char *name, const uint32_t *v, size_t n);
void rt_dbus_prop_au64(struct rt_dbus_msg *m, const char *name, const uint64_t *v, size_t n);
void rt_dbus_prop_astr(struct rt_dbus_msg *m, const char *name, const char *const *v, size_t n);
void rt_dbus_prop_bytes(struct rt_dbus_msg *m, const char *name, const uint8_t *v, size_t n);

/* ---- a received message ---------------------------------------------------------------------- */

struct rt_dbus_reply {
	int type; /* enum rt_dbus_type */
	uint32_t serial, reply_serial;
	char *sender, *path, *iface, *member, *error_name, *sig;
	uint8_t *buf; /* the whole message; the body starts at body */
	size_t len, body;
};
void rt_dbus_reply_free(struct rt_dbus_reply *r);

/* A cursor on a received body. Each get checks the type against the signature and the bounds
 * against the message: -1 (no err) on a mismatch. */
struct rt_dbus_iter {
	const uint8_t *buf;
	size_t len, pos;
	const char *sig; /* what is left to read */
};
void rt_dbus_iter_init(struct rt_dbus_iter *it, const struct rt_dbus_reply *r);
int rt_dbus_get_byte(struct rt_dbus_iter *it, uint8_t *v);
int rt_dbus_get_bool(struct rt_dbus_iter *it, bool *v);
int rt_dbus_get_u32(struct rt_dbus_iter *it, uint32_t *v);
int rt_dbus_get_u64(struct rt_dbus_iter *it, uint64_t *v);
/* 's', 'o' or 'g'; *v points into the message. */
int rt_dbus_get_str(struct rt_dbus_iter *it, const char **v);
/* Enter an array: *sub iterates its elements (sub->sig is the element type, repeated while
 * sub->pos < sub->len). */
int rt_dbus_enter_array(struct rt_dbus_iter *it, struct rt_dbus_iter *sub);
/* Enter a struct "(...)": the fields are read from it directly, then rt_dbus_leave_struct. */
int rt_dbus_enter_struct(struct rt_dbus_iter *it);
int rt_dbus_leave_struct(struct rt_dbus_iter *it);
/* Enter a variant: *sub reads its value (sub->sig is the variant's signature). */
int rt_dbus_enter_variant(struct rt_dbus_iter *it, struct rt_dbus_iter *sub);
/* Skip one complete type. */
int rt_dbus_skip(struct rt_dbus_iter *it);

/* ---- calls ---------------------------------------------------------------------------------- */

/* Send m (consumed), wait for its return. An ERROR reply becomes err "<name>: <message>" with
 * code NOT_FOUND for the "unknown"/"no such" names, else UNKNOWN; *reply is set on success
 * (may be NULL to drop it). Messages that are not the answer (signals) are dropped. */
int rt_dbus_call(struct rt_dbus *bus, struct rt_dbus_msg *m, struct rt_dbus_reply **reply,
		 struct wren_err **err);
/* Send m (consumed) without waiting; *serial is its serial. */
int rt_dbus_send(struct rt_dbus *bus, struct rt_dbus_msg *m, uint32_t *serial,
		 struct wren_err **err);
/* Read the next message, whatever it is (bounded by the timeout). */
int rt_dbus_read(struct rt_dbus *bus, struct rt_dbus_reply **out, struct wren_err **err);
/* Answer a METHOD_CALL with an empty return or with (sig, body built in m) — for tests, whose
 * peer echoes. m is built with rt_dbus_call_new(NULL, NULL, NULL, NULL, sig). */
int rt_dbus_send_return(struct rt_dbus *bus, const struct rt_dbus_reply *call,
			struct rt_dbus_msg *m, struct wren_err **err);

#endif
