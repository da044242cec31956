/* Task API replies: see reply.h. */
#include <stdint.h>
#include <stdlib.h>

#include "runtime/util.h"
#include "shim/reply.h"
#include "shim/shim.h"

void shim_reply(struct ttrpc_call *call, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	_cleanup_free_ uint8_t *buf = xmalloc(n);

	protobuf_c_message_pack(m, buf);
	ttrpc_call_reply(call, buf, n);
}

void shim_reply_empty(struct ttrpc_call *call)
{
	ttrpc_call_reply(call, NULL, 0);
}

int shim_status_code(const struct wren_err *err)
{
	switch (err ? err->code : WREN_E_UNKNOWN) {
	case WREN_E_INVALID_ARGUMENT:
		return TTRPC_INVALID_ARGUMENT;
	case WREN_E_NOT_FOUND:
		return TTRPC_NOT_FOUND;
	case WREN_E_ALREADY_EXISTS:
		return TTRPC_ALREADY_EXISTS;
	case WREN_E_FAILED_PRECONDITION:
		return TTRPC_FAILED_PRECONDITION;
	case WREN_E_UNIMPLEMENTED:
		return TTRPC_UNIMPLEMENTED;
	case WREN_E_UNAVAILABLE:
		return TTRPC_UNAVAILABLE;
	default:
		return TTRPC_UNKNOWN;
	}
}

void shim_reply_err(struct ttrpc_call *call, const struct wren_err *err)
{
	ttrpc_call_reply_error(call, shim_status_code(err), "%s", err ? err->msg : "unknown error");
}

void shim_timestamp(Google__Protobuf__Timestamp *ts, bool exited, const struct timespec *t)
{
	google__protobuf__timestamp__init(ts);
	if (exited) {
		ts->seconds = t->tv_sec;
		ts->nanos = (int32_t)t->tv_nsec;
	} else {
		ts->seconds = SHIM_ZERO_TIME_SECONDS;
	}
}
