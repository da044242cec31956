/* The persisted container state: see state.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runtime/util.h"
#include "shim/state.h"

#define CLEANED_LINE "cleaned=1\n"

static bool same_state(const struct shim_state *a, const struct shim_state *b)
{
	return a->pid == b->pid && !strcmp(a->cgroup, b->cgroup) && a->exited == b->exited &&
	       a->exit_status == b->exit_status && a->exited_sec == b->exited_sec &&
	       a->exited_nsec == b->exited_nsec && a->cleaned == b->cleaned;
}

/* st is the file's state plus "cleaned", nothing else */
static bool only_cleaned_added(const struct shim_state *last, const struct shim_state *st)
{
	struct shim_state t = *st;

	t.cleaned = false;
	return !last->cleaned && st->cleaned && same_state(last, &t);
}

/* A new file costs ~250 us of CPU on ext4 here (allocating the inode takes most, the rename over
 * the old one forces a writeback: auto_da_alloc), an append ~17 us. The "cleaned" line is the
 * last one a full write would write, so appending it gives the same text. A reader sees the file
 * without the line or with it; a read that raced the append could at worst see part of it, and
 * an unterminated last line is ignored (shim_state_read): the delete action then cleans up,
 * which is always safe. */
static int append_cleaned(const char *path)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0 || write_all(fd, CLEANED_LINE, strlen(CLEANED_LINE)) < 0)
		return -1;
	return 0;
}

int shim_state_write(const char *bundle, const struct shim_state *st,
		     struct shim_state_cache *cache, struct wren_err **err)
{
	_cleanup_free_ char *tmp = NULL, *path = NULL, *data = NULL;

	/* callers persist at every step that may change the state; only a change costs a write */
	if (cache && cache->valid && same_state(&cache->last, st))
		return 0;
	path = xasprintf("%s/%s", bundle, SHIM_STATE_FILE);
	if (cache && cache->valid && only_cleaned_added(&cache->last, st) &&
	    append_cleaned(path) == 0) {
		cache->last = *st;
		return 0;
	}
	/* the whole text, in a new file renamed over the old one: never a torn file */
	tmp = xasprintf("%s/.%s", bundle, SHIM_STATE_FILE);
	data = xasprintf("pid=%d\ncgroup=%s\nexited=%d\nexit_status=%" PRIu32 "\nexited_at=%" PRId64
			 ".%09" PRId32 "\n%s",
			 (int)st->pid, st->cgroup, st->exited ? 1 : 0, st->exit_status,
			 st->exited_sec, st->exited_nsec, st->cleaned ? CLEANED_LINE : "");
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
	char *save = NULL, *end;

	memset(st, 0, sizeof(*st));
	if (read_file(path, 8192, &data, NULL) < 0)
		return wren_err_errno(err, errno, "read %s", path);
	/* only whole lines: a line being appended may be read in part (see append_cleaned) */
	end = strrchr(data, '\n');
	*(end ? end + 1 : data) = 0;
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
		} else if (!strcmp(line, "cleaned")) {
			st->cleaned = !strcmp(eq, "1");
		}
	}
	return 0;
}
