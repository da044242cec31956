/* The sync socket's message format: see sync.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "runtime/rawsys.h"
#include "runtime/sync.h"

struct wire_hdr {
	uint32_t type;
	int32_t arg;
	uint32_t len;
};

static int send_msg(int fd, struct msghdr *mh, size_t want)
{
	for (;;) {
		ssize_t w = sendmsg(fd, mh, MSG_NOSIGNAL);
		if (w >= 0)
			return w == (ssize_t)want ? 0 : (errno = EMSGSIZE, -1);
		if (errno != EINTR)
			return -1;
	}
}

int rt_sync_send(int fd, uint32_t type, int32_t arg, const char *text)
{
	size_t n = text ? strnlen(text, RT_SYNC_TEXT_MAX) : 0;
	struct wire_hdr h = {.type = type, .arg = arg, .len = (uint32_t)n};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)text, n}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n ? 2 : 1};

	return send_msg(fd, &mh, sizeof(h) + n);
}

int rt_sync_send_fd(int fd, uint32_t type, int32_t arg, int passed)
{
	struct wire_hdr h = {.type = type, .arg = arg, .len = 0};
	struct iovec iov = {&h, sizeof(h)};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *cm;

	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &passed, sizeof(int));
	return send_msg(fd, &mh, sizeof(h));
}

/* The fds that came with mh: the first one in *fd, any other closed. Returns how many came. */
static int take_fds(struct msghdr *mh, int *fd)
{
	int n = 0;

	*fd = -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++, n++) {
			int got;

			memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*fd < 0)
				*fd = got;
			else
				close(got);
		}
	}
	return n;
}

int rt_sync_recv(int fd, struct rt_sync_msg *m)
{
	struct wire_hdr h;
	struct iovec iov[2] = {{&h, sizeof(h)}, {m->text, RT_SYNC_TEXT_MAX}};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh = {.msg_iov = iov,
			    .msg_iovlen = 2,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	int passed, nfds;
	ssize_t r;

	m->fd = -1;
	do
		r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	nfds = take_fds(&mh, &passed);
	if (r == 0) {
		if (passed >= 0)
			close(passed);
		return 0;
	}
	if ((size_t)r < sizeof(h) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    h.len > RT_SYNC_TEXT_MAX || (size_t)r != sizeof(h) + h.len ||
	    (h.type == RT_MSG_CONSOLE) != (nfds == 1)) {
		if (passed >= 0)
			close(passed);
		errno = EBADMSG;
		return -1;
	}
	m->type = h.type;
	m->arg = h.arg;
	m->len = h.len;
	m->text[h.len] = 0;
	m->fd = passed;
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
		if (m.fd >= 0)
			close(m.fd);
		errno = EPROTO;
		return -1;
	}
	if (arg)
		*arg = m.arg;
	return 0;
}

/* ---- for a child sharing the daemon's memory (rawsys.h): no errno, no libc wrapper ---------- */

long rt_sync_send_raw(int fd, uint32_t type, int32_t arg, const char *text, size_t n)
{
	struct wire_hdr h = {.type = type, .arg = arg, .len = (uint32_t)n};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)text, n}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n ? 2 : 1};
	long w;

	if (n > RT_SYNC_TEXT_MAX)
		return -EMSGSIZE;
	do
		w = rt_raw3(SYS_sendmsg, fd, &mh, MSG_NOSIGNAL);
	while (w == -EINTR);
	return w < 0 ? w : 0;
}
