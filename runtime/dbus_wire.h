/* Private to runtime/dbus*.c: a message being built (dbus_wire.c marshals its body, dbus.c adds
 * the header and sends it). */
#ifndef WREN_DBUS_WIRE_H
#define WREN_DBUS_WIRE_H

#include <stddef.h>
#include <stdint.h>

struct rt_dbus_msg {
	int type;
	char *dest, *path, *iface, *member, *sig;
	uint32_t reply_serial;
	uint8_t *b; /* the body; it starts 8-aligned in the message, so offsets align alike */
	size_t len, cap;
};

#endif
