/* The persisted container state: see state.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runtime/util.h"
#include "shim/state.h"

static bool same_state(const struct shim_state *a, const struct shim_state *b)
{
	return a->pid == b->pid && !strcmp(a->cgroup, b->cgroup) && a->exited == b->exited &&
	       a->exit_status == b->exit_status && a->exited_sec == b->exited_sec &&
	       a->exited_nsec == b->exited_nsec;
}

int shim_state_write(const char *bundle, const struct shim_state *st,
		     struct shim_state_cache *cache, struct wren_err **err)
{
	_cleanup_free_ char *tmp = NULL, *path = NULL, *data = NULL;

	/* Each write replaces the inode, which on ext4 also forces a writeback of the new data
	 * (auto_da_alloc): callers persist at every step that may change the state, and only the
	 * ones that do change it may cost a write. */
	if (cache && cache->valid && same_state(&cache->last, st))
		return 0;
	tmp = xasprintf("%s/.%s", bundle, SHIM_STATE_FILE);
	path = xasprintf("%s/%s", bundle, SHIM_STATE_FILE);
	data = xasprintf("pid=%d\ncgroup=%s\nexited=%d\nexit_status=%" PRIu32 "\nexited_at=%" PRId64
			 ".%09" PRId32 "\n",
			 (int)st->pid, st->cgroup, st->exited ? 1 : 0, st->exit_status,
			 st->exited_sec, st->exited_nsec);
	if (write_file(tmp, data, strlen(data), true) < 0)
		return wren_err_errno(err, errno, "write %s", tmp);
	if (rename(tmp, path) < 0)
		return wren_err_errno(err, errno, "rename %s", tmp);
	if (cache) {
		cache->last = *st;
		cache->valid = true;
	}
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
