/* Checkpoint's pure parts: where criu is found, the dump's command line (options and external
 * mounts), and the reason a failed dump gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "shim/checkpoint.h"

/* The init's mountinfo as a wren container on hybrid cgroups shows it: overlay root, /proc with a
 * read-only bind of /proc/bus, /dev/null over the masked /proc/kcore, a v1 cgroup bind, a bind of
 * a host file from the spec, and a space in a mount point. */
static const char MOUNTINFO[] =
    "600 500 0:60 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n"
    "601 600 0:61 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "602 601 0:61 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "603 601 0:5 /null /proc/kcore rw,nosuid - devtmpfs udev rw,size=1000k\n"
    "604 600 0:62 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
    "605 604 0:63 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620\n"
    "606 600 0:64 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs rw\n"
    "607 606 0:30 /default/c1 /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n"
    "608 600 254:1 /srv/data /data rw,relatime - ext4 /dev/vda rw\n"
    "609 600 254:1 /srv/my\\040files /my\\040files rw,relatime - ext4 /dev/vda rw\n";

static struct rt_mount_spec spec_mounts[] = {
    {.destination = "/proc", .type = "proc"},
    {.destination = "/data", .type = "", .source = "/srv/data", .bind = true},
    {.destination = "/my files", .type = "bind", .source = "/srv/my files", .bind = true},
};

static char **argv_for(const struct shim_checkpoint_opts *o)
{
	struct rt_spec spec = {0};
	struct shim_checkpoint_target t = {.pid = 4242,
					   .root = "/run/b/rootfs",
					   .freeze_cgroup = "/sys/fs/cgroup/freezer/default/c1",
					   .mountinfo = MOUNTINFO,
					   .spec = &spec};
	struct wren_err *err = NULL;
	char **argv = NULL;

	spec.mounts = spec_mounts;
	spec.n_mounts = sizeof(spec_mounts) / sizeof(spec_mounts[0]);
	assert_int_equal(
	    shim_checkpoint_argv("/usr/sbin/criu", &t, o, "/run/b/criu-work", &argv, &err), 0);
	assert_null(err);
	return argv;
}

static bool has(char **argv, const char *arg)
{
	for (; *argv; argv++)
		if (strcmp(*argv, arg) == 0)
			return true;
	return false;
}

static void test_checkpoint_dump_names_tree_images_work_root_and_freezer(void **st)
{
	struct shim_checkpoint_opts o = {.image_path = "/tmp/img"};
	char **a = argv_for(&o);

	assert_string_equal(a[0], "/usr/sbin/criu");
	assert_string_equal(a[1], "dump");
	assert_true(has(a, "--tree=4242"));
	assert_true(has(a, "--images-dir=/tmp/img"));
	assert_true(has(a, "--work-dir=/run/b/criu-work"));
	assert_true(has(a, "--root=/run/b/rootfs"));
	assert_true(has(a, "--freeze-cgroup=/sys/fs/cgroup/freezer/default/c1"));
	assert_true(has(a, "--manage-cgroups"));
	for (char **p = a; *p; p++)
		assert_null(strstr(*p, "--network-lock")); /* criu's default unless told */
	shim_checkpoint_argv_free(a);
}

static void test_checkpoint_passes_the_network_lock_method(void **st)
{
	struct shim_checkpoint_opts o = {.image_path = "/tmp/img"};
	struct shim_checkpoint_target t = {
	    .pid = 1, .root = "/", .mountinfo = "", .network_lock = "nftables"};
	struct wren_err *err = NULL;
	char **a = NULL;

	assert_int_equal(shim_checkpoint_argv("criu", &t, &o, "/w", &a, &err), 0);
	assert_true(has(a, "--network-lock=nftables"));
	shim_checkpoint_argv_free(a);
}

static void test_checkpoint_leaves_the_tree_running_unless_exit_is_asked(void **st)
{
	struct shim_checkpoint_opts o = {.image_path = "/tmp/img"};
	char **a = argv_for(&o);

	assert_true(has(a, "--leave-running"));
	shim_checkpoint_argv_free(a);
	o.exit = true;
	a = argv_for(&o);
	assert_false(has(a, "--leave-running"));
	shim_checkpoint_argv_free(a);
}

static void test_checkpoint_maps_runc_options_to_criu_flags(void **st)
{
	char *ns[] = {"network"};
	struct shim_checkpoint_opts o = {.image_path = "/tmp/img",
					 .open_tcp = true,
					 .external_unix_sockets = true,
					 .terminal = true,
					 .file_locks = true,
					 .empty_namespaces = ns,
					 .n_empty_namespaces = 1,
					 .cgroups_mode = "strict"};
	char **a = argv_for(&o);

	assert_true(has(a, "--tcp-established"));
	assert_true(has(a, "--ext-unix-sk"));
	assert_true(has(a, "--shell-job"));
	assert_true(has(a, "--file-locks"));
	assert_true(has(a, "--empty-ns=net"));
	assert_true(has(a, "--manage-cgroups=strict"));
	assert_false(has(a, "--manage-cgroups"));
	shim_checkpoint_argv_free(a);
}

static void test_checkpoint_marks_mounts_from_outside_the_container_external(void **st)
{
	struct shim_checkpoint_opts o = {.image_path = "/tmp/img"};
	char **a = argv_for(&o);
	int n = 0;

	assert_true(has(a, "--external=mnt[/proc/kcore]:/proc/kcore"));
	assert_true(has(a, "--external=mnt[/sys/fs/cgroup/memory]:/sys/fs/cgroup/memory"));
	assert_true(has(a, "--external=mnt[/data]:/data"));
	assert_true(has(a, "--external=mnt[/my files]:/my files"));
	/* a bind of part of the container's own /proc, and the rootfs, are criu's to handle */
	assert_false(has(a, "--external=mnt[/proc/bus]:/proc/bus"));
	assert_false(has(a, "--external=mnt[/]:/"));
	for (char **p = a; *p; p++)
		n += strncmp(*p, "--external=", 11) == 0;
	assert_int_equal(n, 4);
	shim_checkpoint_argv_free(a);
}

static void test_checkpoint_marks_stdio_files_on_host_mounts_external(void **st)
{
	struct shim_checkpoint_file files[] = {
	    {.mnt_id = 30, .ino = 0x1f2e}, /* a FIFO under the host's /run */
	    {.mnt_id = 604, .ino = 6},	   /* the container's own /dev: criu finds it */
	};
	struct shim_checkpoint_opts o = {.image_path = "/tmp/img"};
	struct shim_checkpoint_target t = {
	    .pid = 1, .root = "/", .mountinfo = MOUNTINFO, .files = files, .n_files = 2};
	struct wren_err *err = NULL;
	char **a = NULL;
	int n = 0;

	assert_int_equal(shim_checkpoint_argv("criu", &t, &o, "/w", &a, &err), 0);
	assert_true(has(a, "--external=file[1e:1f2e]"));
	for (char **p = a; *p; p++)
		n += strncmp(*p, "--external=file[", 16) == 0;
	assert_int_equal(n, 1);
	shim_checkpoint_argv_free(a);
}

static void test_checkpoint_refuses_an_unknown_cgroups_mode(void **st)
{
	struct shim_checkpoint_opts o = {.image_path = "/tmp/img", .cgroups_mode = "bogus"};
	struct shim_checkpoint_target t = {.pid = 1, .root = "/", .mountinfo = ""};
	struct wren_err *err = NULL;
	char **argv = NULL;

	assert_int_equal(shim_checkpoint_argv("criu", &t, &o, "/w", &argv, &err), -1);
	assert_null(argv);
	assert_int_equal(err->code, WREN_E_INVALID_ARGUMENT);
	assert_non_null(strstr(err->msg, "cgroups mode bogus"));
	wren_err_free(err);
}

static void test_checkpoint_refuses_empty_namespaces_other_than_network(void **st)
{
	char *ns[] = {"ipc"};
	struct shim_checkpoint_opts o = {
	    .image_path = "/tmp/img", .empty_namespaces = ns, .n_empty_namespaces = 1};
	struct shim_checkpoint_target t = {.pid = 1, .root = "/", .mountinfo = ""};
	struct wren_err *err = NULL;
	char **argv = NULL;

	assert_int_equal(shim_checkpoint_argv("criu", &t, &o, "/w", &argv, &err), -1);
	assert_int_equal(err->code, WREN_E_INVALID_ARGUMENT);
	assert_non_null(strstr(err->msg, "not ipc"));
	wren_err_free(err);
}

static void test_checkpoint_finds_an_executable_criu_in_path_only(void **st)
{
	char dir[] = "/tmp/wren-ckpt-test-XXXXXX", *found, *path;
	char file[64];

	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/criu", dir);
	path = NULL;
	assert_true(asprintf(&path, "/nonexistent::%s", dir) > 0);
	assert_null(shim_checkpoint_find("criu", path)); /* not there yet */
	fclose(fopen(file, "w"));
	chmod(file, 0644);
	assert_null(shim_checkpoint_find("criu", path)); /* not executable */
	chmod(file, 0755);
	found = shim_checkpoint_find("criu", path);
	assert_non_null(found);
	assert_string_equal(found, file);
	free(found);
	assert_null(shim_checkpoint_find("criu", ""));
	unlink(file);
	rmdir(dir);
	free(path);
}

/* What criu 3.17 logs on this project's Firecracker host (abridged). */
static const char VDSO_LOG[] =
    "(00.000000) Version: 3.17.1 (gitid 0)\n"
    "(00.004846) Error (criu/util.c:642): exited, status=1\n"
    "(00.005465) Error (criu/util.c:642): exited, status=1\n"
    "(00.024100) Found mmap_min_addr 0x10000\n"
    "(00.024153) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"
    "(00.024156) Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable\n"
    "(00.024194) Error (criu/crtools.c:260): Could not initialize kernel features detection.\n";

static void test_checkpoint_reason_is_the_first_and_last_real_error(void **st)
{
	char *r = shim_checkpoint_log_reason(VDSO_LOG);

	assert_string_equal(r, "vdso: Unexpected rt vDSO area bounds; Could not initialize kernel "
			       "features detection.");
	free(r);
}

static void test_checkpoint_reason_of_a_single_error_is_that_line(void **st)
{
	char *r = shim_checkpoint_log_reason("(0.1) Info\n(0.2) Error (criu/x.c:1): no such pid");

	assert_string_equal(r, "no such pid");
	free(r);
}

static void test_checkpoint_reason_is_null_without_an_error(void **st)
{
	assert_null(shim_checkpoint_log_reason("(0.1) Dumping finished successfully\n"));
	assert_null(
	    shim_checkpoint_log_reason("(0.1) Error (criu/util.c:642): exited, status=1\n"));
	assert_null(shim_checkpoint_log_reason(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_checkpoint_dump_names_tree_images_work_root_and_freezer),
	    cmocka_unit_test(test_checkpoint_passes_the_network_lock_method),
	    cmocka_unit_test(test_checkpoint_leaves_the_tree_running_unless_exit_is_asked),
	    cmocka_unit_test(test_checkpoint_maps_runc_options_to_criu_flags),
	    cmocka_unit_test(test_checkpoint_marks_mounts_from_outside_the_container_external),
	    cmocka_unit_test(test_checkpoint_marks_stdio_files_on_host_mounts_external),
	    cmocka_unit_test(test_checkpoint_refuses_an_unknown_cgroups_mode),
	    cmocka_unit_test(test_checkpoint_refuses_empty_namespaces_other_than_network),
	    cmocka_unit_test(test_checkpoint_finds_an_executable_criu_in_path_only),
	    cmocka_unit_test(test_checkpoint_reason_is_the_first_and_last_real_error),
	    cmocka_unit_test(test_checkpoint_reason_of_a_single_error_is_that_line),
	    cmocka_unit_test(test_checkpoint_reason_is_null_without_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
