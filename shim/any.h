/* google.protobuf.Any as the task API uses it: bare type URLs ("containerd.events.TaskExit"),
 * accepted with any prefix ("types.example/x.y.Z") since typeurl resolves only the last part. */
#ifndef WREN_SHIM_ANY_H
#define WREN_SHIM_ANY_H

#include <stdbool.h>

#include "google/protobuf/any.pb-c.h"

bool shim_any_is(const Google__Protobuf__Any *any, const char *full_name);
/* Pack msg into a heap Any with type URL full_name; free with shim_any_free. */
Google__Protobuf__Any *shim_any_pack(const char *full_name, const ProtobufCMessage *msg);
void shim_any_free(Google__Protobuf__Any *any);

#endif
