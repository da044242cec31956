/* The daemon's one `struct shim` and what its modules share. One thread, one loop: every field
 * here is touched only from the loop's callbacks. */
#ifndef WREN_SHIM_H
#define WREN_SHIM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "runtime/err.h"
#include "runtime/runtime.h"
#include "ttrpc/ttrpc.h"

/* Flags common to every action (shim-protocol.md §2.2). */
struct shim_flags {
	const char *namespace;
	const char *id;
	const char *address; /* containerd's gRPC socket path */
	const char *publish_binary;
	const char *bundle;
	const char *socket; /* -socket: serve on this path instead of fd 3 */
	bool debug;
	const char *action; /* "start", "delete", or NULL for the daemon */
};

struct shim_publisher;
struct shim_container;

struct shim {
	struct shim_flags flags;
	struct ttrpc_loop *loop;
	struct ttrpc_server *server;
	struct shim_publisher *events;
	struct ttrpc_source signals;
	char *socket_path;		   /* what we unlink at exit */
	struct shim_container *containers; /* singly linked */
	bool exiting;
	struct ttrpc_timer exit_timer;
	int exit_code;
};

/* Go's zero time (0001-01-01T00:00:00Z), what containerd 1.6 expects for "not exited". */
#define SHIM_ZERO_TIME_SECONDS (-62135596800LL)

/* main.c */
int shim_parse_flags(int argc, char **argv, struct shim_flags *f, struct wren_err **err);

/* start.c / delete.c / daemon.c: the three ways the binary runs. Each returns the exit code. */
int shim_action_start(const struct shim_flags *f);
int shim_action_delete(const struct shim_flags *f);
int shim_daemon_run(const struct shim_flags *f);
/* spawn.c: the start action's process work */
int shim_write_address(const char *address, struct wren_err **err);
pid_t shim_spawn_daemon(const struct shim_flags *f, int listen_fd, struct wren_err **err);
void shim_adjust_oom(pid_t daemon);
/* info.c: -info */
int shim_action_info(void);

/* address.c: unix:///run/containerd/s/<sha256(grpc/ns/group)> */
char *shim_socket_path(const char *grpc_address, const char *ns, const char *group);

/* service.c */
void shim_service_register(struct shim *s);
/* Called by the daemon when a child process exited (reaped with waitpid). */
void shim_service_on_exit(struct shim *s, pid_t pid, int status);
size_t shim_service_n_containers(const struct shim *s);
/* Called by the daemon when the last container is gone and Shutdown was asked. */
void shim_begin_exit(struct shim *s);

#endif
