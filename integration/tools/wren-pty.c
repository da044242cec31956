/* wren-pty: run a command on a new pty of a given size, for tests of `ctr -t` (tty.bats).
 *
 *   wren-pty ROWS COLS CMD [ARG...]
 *
 * Copies its stdin to the pty (at stdin's EOF it just stops: no EOF character is typed) and
 * everything the pty shows to its stdout, until the last holder of the pty's slave has closed it
 * (read EIO), so nothing written before an exit is lost. util-linux script(1) loses the end of the
 * output: it stops draining 10 ms after its child exits, and its child, a session leader with the
 * pty as controlling terminal, hangs the pty up when it exits, which can flush what is unread. Exit
 * status: the command's (128+N for a signal N); 2 for usage and set-up errors. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The command gets the pty as its fds 0-2 in a session of its own, but NOT as its controlling
 * terminal: when a session leader exits, the kernel hangs up its controlling terminal, and that
 * hangup can flush what the master has not read yet (we saw the last ~4 KiB of ctr's output go).
 * ctr -t needs a terminal on its stdio (size, raw mode), not a controlling one. */
static _Noreturn void child(int slave, char **argv)
{
	if (setsid() < 0) {
		perror("wren-pty: setsid");
		_exit(2);
	}
	for (int i = 0; i < 3; i++)
		dup2(slave, i);
	if (slave > 2)
		close(slave);
	execvp(argv[0], argv);
	fprintf(stderr, "wren-pty: exec %s: %m\n", argv[0]);
	_exit(127);
}

/* Copy until the pty hangs up (EIO once its output is read). */
static void copy(int master)
{
	struct pollfd p[2] = {{.fd = master, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
	char buf[65536];

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[1].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n <= 0 || write_all(master, buf, (size_t)n) < 0)
				p[1].fd = -1; /* stdin done: stop reading it, the pty stays */
		}
		if (p[0].revents) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				return;
			if (write_all(1, buf, (size_t)n) < 0)
				return;
		}
	}
}

int main(int argc, char **argv)
{
	struct winsize ws = {0};
	int master, slave, status;
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: wren-pty ROWS COLS CMD [ARG...]\n");
		return 2;
	}
	ws.ws_row = (unsigned short)atoi(argv[1]);
	ws.ws_col = (unsigned short)atoi(argv[2]);
	if (openpty(&master, &slave, NULL, NULL, &ws) < 0) {
		perror("wren-pty: openpty");
		return 2;
	}
	fcntl(master, F_SETFD, FD_CLOEXEC);
	pid = fork();
	if (pid < 0) {
		perror("wren-pty: fork");
		return 2;
	}
	if (pid == 0)
		child(slave, argv + 3);
	close(slave);
	copy(master);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
