/* The event publisher: task events to containerd's Events/Forward on $TTRPC_ADDRESS, from one
 * ordered queue, one request in flight at a time, so that containerd sees create, start, exit,
 * delete in the order they happened. While containerd is away (restarting), events wait and are
 * retried with backoff; nothing here blocks the loop. */
#ifndef WREN_SHIM_EVENTS_H
#define WREN_SHIM_EVENTS_H

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

#include "ttrpc/ttrpc.h"

struct shim_publisher;

struct shim_publisher *shim_publisher_new(struct ttrpc_loop *loop, const char *ttrpc_address,
					  const char *ns);
/* Queue an event: topic "/tasks/exit", type "containerd.events.TaskExit". */
void shim_publish(struct shim_publisher *p, const char *topic, const char *type,
		  const ProtobufCMessage *event);
/* Nothing queued or in flight. */
bool shim_publisher_idle(const struct shim_publisher *p);
void shim_publisher_free(struct shim_publisher *p);

#endif
