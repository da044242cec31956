/* The persisted container state: see state.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runtime/util.h"
#include "shim/state.h"

int shim_state_write(const char *bundle, const struct shim_state *st, struct wren_err **err)
{
	_cleanup_free_ char *tmp = xasprintf("%s/.%s", bundle, SHIM_STATE_FILE);
	_cleanup_free_ char *path = xasprintf("%s/%s", bundle, SHIM_STATE_FILE);
	_cleanup_free_ char *data = xasprintf("pid=%d\ncgroup=%s\nexited=%d\nexit_status=%" PRIu32
					      "\nexited_at=%" PRId64 ".%09" PRId32 "\n",
					      (int)st->pid, st->cgroup, st->exited ? 1 : 0,
					      st->exit_status, st->exited_sec, st->exited_nsec);
	_cleanup_free_ char *cur = NULL;
	size_t cur_len = 0;

	/* The daemon persists at create, when the init is created, at its exit and at delete; two
	 * of those change nothing. Replacing a file by rename costs a new inode and, on ext4, a
	 * forced writeback of the new data (auto_da_alloc); reading the current text is cheaper. */
	if (read_file(path, 4096, &cur, &cur_len) == 0 && cur_len == strlen(data) &&
	    memcmp(cur, data, cur_len) == 0)
		return 0;
	if (write_file(tmp, data, strlen(data), true) < 0)
		return wren_err_errno(err, errno, "write %s", tmp);
	if (rename(tmp, path) < 0)
		return wren_err_errno(err, errno, "rename %s", tmp);
	return 0;
}

int shim_state_read(const char *bundle, struct shim_state *st, struct wren_err **err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", bundle, SHIM_STATE_FILE);
	_cleanup_free_ char *data = NULL;
	char *save = NULL;

	memset(st, 0, sizeof(*st));
	if (read_file(path, 8192, &data, NULL) < 0)
		return wren_err_errno(err, errno, "read %s", path);
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq++ = 0;
		if (!strcmp(line, "pid"))
			st->pid = (pid_t)strtol(eq, NULL, 10);
		else if (!strcmp(line, "cgroup"))
			snprintf(st->cgroup, sizeof(st->cgroup), "%s", eq);
		else if (!strcmp(line, "exited"))
			st->exited = strtol(eq, NULL, 10) != 0;
		else if (!strcmp(line, "exit_status"))
			st->exit_status = (uint32_t)strtoul(eq, NULL, 10);
		else if (!strcmp(line, "exited_at")) {
			char *dot;
			st->exited_sec = strtoll(eq, &dot, 10);
			if (*dot == '.')
				st->exited_nsec = (int32_t)strtol(dot + 1, NULL, 10);
		}
	}
	return 0;
}
