/* The parent⇄child conversation on a SOCK_SEQPACKET socketpair: one datagram per message, a fixed
 * header and a bounded text. The socket is CLOEXEC on both ends, so the child's end closing at
 * execve (EOF at the parent) is the proof that execve happened.
 *
 *   child → parent: LOG{level, text}  ERROR{errno, text}  READY  HOOKS (run createRuntime/prestart)
 *                   CONSOLE + fd (the master of the terminal the child made, SCM_RIGHTS)
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
	RT_MSG_CONSOLE = 7,
};

#define RT_SYNC_TEXT_MAX 4000

struct rt_sync_msg {
	uint32_t type;
	int32_t arg; /* log level, errno, or the host pid */
	uint32_t len;
	int fd; /* CONSOLE only: the fd that came with it (O_CLOEXEC, the receiver's); else -1 */
	char text[RT_SYNC_TEXT_MAX + 1]; /* NUL-terminated, len bytes */
};

/* Send one message (text may be NULL; longer text is cut). -1 with errno. */
int rt_sync_send(int fd, uint32_t type, int32_t arg, const char *text);
/* Send one message with fd attached (SCM_RIGHTS). -1 with errno. */
int rt_sync_send_fd(int fd, uint32_t type, int32_t arg, int passed);
/* Receive one message: 1 got one, 0 EOF, -1 with errno (EAGAIN on a non-blocking fd with nothing
 * to read, EBADMSG for a malformed message: a CONSOLE without exactly one fd, or an fd on any
 * other type). An fd that came with a message is the caller's only in m->fd of a CONSOLE;
 * otherwise it is closed here. */
int rt_sync_recv(int fd, struct rt_sync_msg *m);
/* Blocking receive for the child: waits for a message of type want; 0 on success, -1 with errno
 * (EPIPE on EOF, EPROTO on an unexpected type). *arg gets the message's arg if not NULL. */
int rt_sync_expect(int fd, uint32_t want, int32_t *arg);
/* rt_sync_send for a child that shares the daemon's memory (exec_child.c): 0 or a negative errno,
 * and errno never touched. */
long rt_sync_send_raw(int fd, uint32_t type, int32_t arg, const char *text, size_t n);

#endif
