/* The parent⇄child conversation on a SOCK_SEQPACKET socketpair: one datagram per message, a fixed
 * header and a bounded text. The socket is CLOEXEC on both ends, so the child's end closing at
 * execve (EOF at the parent) is the proof that execve happened.
 *
 *   child → parent: LOG{level, text}  ERROR{errno, text}  READY  HOOKS (run createRuntime/prestart)
 *   parent → child: CONTINUE{host pid}  GO */
#ifndef WREN_SYNC_H
#define WREN_SYNC_H

#include <stddef.h>
#include <stdint.h>

enum rt_sync_type {
	RT_MSG_LOG = 1,
	RT_MSG_ERROR = 2,
	RT_MSG_READY = 3,
	RT_MSG_HOOKS = 4,
	RT_MSG_CONTINUE = 5,
	RT_MSG_GO = 6,
};

#define RT_SYNC_TEXT_MAX 4000

struct rt_sync_msg {
	uint32_t type;
	int32_t arg; /* log level, errno, or the host pid */
	uint32_t len;
	char text[RT_SYNC_TEXT_MAX + 1]; /* NUL-terminated, len bytes */
};

/* Send one message (text may be NULL; longer text is cut). -1 with errno. */
int rt_sync_send(int fd, uint32_t type, int32_t arg, const char *text);
/* Receive one message: 1 got one, 0 EOF, -1 with errno (EAGAIN on a non-blocking fd with nothing
 * to read, EBADMSG for a malformed message). */
int rt_sync_recv(int fd, struct rt_sync_msg *m);
/* Blocking receive for the child: waits for a message of type want; 0 on success, -1 with errno
 * (EPIPE on EOF, EPROTO on an unexpected type). *arg gets the message's arg if not NULL. */
int rt_sync_expect(int fd, uint32_t want, int32_t *arg);

#endif
