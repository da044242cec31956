/* The persisted container state: see state.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runtime/util.h"
#include "shim/state.h"

static bool same_state(const struct shim_state *a, const struct shim_state *b)
{
	return a->pid == b->pid && !strcmp(a->cgroup, b->cgroup) && a->exited == b->exited &&
	       a->exit_status == b->exit_status && a->exited_sec == b->exited_sec &&
	       a->exited_nsec == b->exited_nsec && a->cleaned == b->cleaned;
}

/* The file's text for st, in three parts that only ever get added in this order: who (pid,
 * cgroup), how it ended (exit_status and exited_at before exited=1), and the cleanup mark. A state
 * that differs from the last written one only by parts added at the end is written as an append
 * of those parts, which leaves the same text a whole write would. An absent key reads as zero, so
 * a running init's file has no exit lines at all. */
enum part { PART_WHO, PART_EXIT, PART_CLEANED };

static char *format_from(const struct shim_state *st, enum part from)
{
	_cleanup_free_ char *who = NULL, *end = NULL;

	if (from <= PART_WHO)
		who = xasprintf("pid=%d\ncgroup=%s\n", (int)st->pid, st->cgroup);
	if (from <= PART_EXIT && st->exited)
		end = xasprintf("exit_status=%" PRIu32 "\nexited_at=%" PRId64 ".%09" PRId32
				"\nexited=1\n",
				st->exit_status, st->exited_sec, st->exited_nsec);
	return xasprintf("%s%s%s", who ? who : "", end ? end : "",
			 st->cleaned ? "cleaned=1\n" : "");
}

/* The first part of st's text that is new against last (which differs from it); PART_WHO when
 * the file must be written whole. */
static enum part first_new_part(const struct shim_state *last, const struct shim_state *st)
{
	struct shim_state t = *st;

	if (last->cleaned)
		return PART_WHO;
	t.cleaned = false;
	if (same_state(last, &t))
		return PART_CLEANED;
	if (last->exited)
		return PART_WHO;
	t.exited = false;
	t.exit_status = 0;
	t.exited_sec = 0;
	t.exited_nsec = 0;
	return same_state(last, &t) ? PART_EXIT : PART_WHO;
}

/* A new file costs ~250 us of CPU on ext4 here (allocating the inode takes most, the rename over
 * the old one forces a writeback: auto_da_alloc), an append ~17 us. A reader sees the file
 * without the appended lines or with them; a read that raced the append could at worst see some
 * of them, and an unterminated last line is ignored (shim_state_read). Every prefix of whole lines
 * is safe: without its "exited=1" line an exit reads as no exit yet and without "cleaned=1" the
 * cleanup as not done, and the delete action then cleans up, which is always safe. */
static int append(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0 || write_all(fd, text, strlen(text)) < 0)
		return -1;
	return 0;
}

int shim_state_write(const char *bundle, const struct shim_state *st,
		     struct shim_state_cache *cache, struct wren_err **err)
{
	_cleanup_free_ char *tmp = NULL, *path = NULL, *data = NULL;
	enum part from = PART_WHO;

	/* callers persist at every step that may change the state; only a change costs a write */
	if (cache && cache->valid && same_state(&cache->last, st))
		return 0;
	path = xasprintf("%s/%s", bundle, SHIM_STATE_FILE);
	if (cache && cache->valid)
		from = first_new_part(&cache->last, st);
	if (from != PART_WHO) {
		data = format_from(st, from);
		if (append(path, data) == 0) {
			cache->last = *st;
			return 0;
		}
		free(data);
	}
	/* the whole text, in a new file renamed over the old one: never a torn file */
	tmp = xasprintf("%s/.%s", bundle, SHIM_STATE_FILE);
	data = format_from(st, PART_WHO);
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
