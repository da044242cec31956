/* The sync socket's message format: see sync.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "runtime/sync.h"

struct wire_hdr {
	uint32_t type;
	int32_t arg;
	uint32_t len;
};

int rt_sync_send(int fd, uint32_t type, int32_t arg, const char *text)
{
	size_t n = text ? strnlen(text, RT_SYNC_TEXT_MAX) : 0;
	struct wire_hdr h = {.type = type, .arg = arg, .len = (uint32_t)n};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)text, n}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n ? 2 : 1};

	for (;;) {
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w >= 0)
			return w == (ssize_t)(sizeof(h) + n) ? 0 : (errno = EMSGSIZE, -1);
		if (errno != EINTR)
			return -1;
	}
}

int rt_sync_recv(int fd, struct rt_sync_msg *m)
{
	struct wire_hdr h;
	struct iovec iov[2] = {{&h, sizeof(h)}, {m->text, RT_SYNC_TEXT_MAX}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	ssize_t r;

	do
		r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	if ((size_t)r < sizeof(h) || (mh.msg_flags & MSG_TRUNC) || h.len > RT_SYNC_TEXT_MAX ||
	    (size_t)r != sizeof(h) + h.len) {
		errno = EBADMSG;
		return -1;
	}
	m->type = h.type;
	m->arg = h.arg;
	m->len = h.len;
	m->text[h.len] = 0;
	return 1;
}

int rt_sync_expect(int fd, uint32_t want, int32_t *arg)
{
	struct rt_sync_msg m;
	int r = rt_sync_recv(fd, &m);

	if (r < 0)
		return -1;
	if (r == 0) {
		errno = EPIPE;
		return -1;
	}
	if (m.type != want) {
		errno = EPROTO;
		return -1;
	}
	if (arg)
		*arg = m.arg;
	return 0;
}
