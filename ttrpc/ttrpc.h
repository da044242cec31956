/* ttrpc: containerd's lightweight RPC protocol over unix sockets, for one thread and one epoll
 * loop. Bytes in, bytes out, status codes: it knows nothing of containerd's messages. */
#ifndef TTRPC_TTRPC_H
#define TTRPC_TTRPC_H

#include "ttrpc/client.h"
#include "ttrpc/frame.h"
#include "ttrpc/loop.h"
#include "ttrpc/server.h"
#include "ttrpc/status.h"

#endif
