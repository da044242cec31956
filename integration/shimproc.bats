#!/usr/bin/env bats
# The shim daemon as a process: what `start` leaves it with. wren's start action forks the daemon
# without an exec, so it must reset by hand what an exec would have (shim/spawn.c).

load helpers

setup_file() { wren_setup_file; }
teardown_file() { wren_teardown_file; }
setup() { wren_setup; }
teardown() { wren_teardown; }

@test "shim process: the daemon is its own binary, in its own process group, stdio on /dev/null, no action word" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	record_shim_socket "$CID"
	local shim exe
	shim=$(shim_pid_of "$CID")
	[ -n "$shim" ]
	[ -d "/proc/$shim" ]
	exe=$(readlink "/proc/$shim/exe")
	# named after its binary (comm is cut at 15 characters), not "exe" or anything else
	[ "$(cat "/proc/$shim/comm")" = "$(basename "$exe" | cut -c1-15)" ]
	case "$(basename "$exe")" in containerd-shim-*-v2) ;; *) echo "exe: $exe" >&2; return 1 ;; esac
	# the leader of its own process group, so that signals to containerd's group miss it
	[ "$(awk '{ print $5 }' "/proc/$shim/stat")" = "$shim" ]
	# containerd reads start's stdout to EOF: the daemon holds neither pipe
	[ "$(readlink "/proc/$shim/fd/0")" = /dev/null ]
	[ "$(readlink "/proc/$shim/fd/1")" = /dev/null ]
	# its command line names the container and not the start action
	tr '\0' '\n' <"/proc/$shim/cmdline" | grep -qxF -- "$CID"
	[ -z "$(tr '\0' '\n' <"/proc/$shim/cmdline" | grep -x start)" ]
}
