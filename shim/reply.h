/* Replies on the task API: messages packed into a Response, and the one place where a wren error
 * becomes a ttrpc status (conventions.md: exactly one function maps errors to codes). */
#ifndef WREN_SHIM_REPLY_H
#define WREN_SHIM_REPLY_H

#include <stdbool.h>
#include <time.h>

#include <protobuf-c/protobuf-c.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "runtime/err.h"
#include "ttrpc/ttrpc.h"

void shim_reply(struct ttrpc_call *call, const ProtobufCMessage *m);
void shim_reply_empty(struct ttrpc_call *call);
/* Map err's code to a ttrpc status and reply with its message. */
void shim_reply_err(struct ttrpc_call *call, const struct wren_err *err);
int shim_status_code(const struct wren_err *err);
/* exited_at as containerd 1.6 wants it: the exit time, or Go's zero time while running. */
void shim_timestamp(Google__Protobuf__Timestamp *ts, bool exited, const struct timespec *t);

#endif
