#!/usr/bin/env bats
# Terminals: ctr run -t and ctr task exec -t (terminal=true), their size (ResizePty), input and output
# through them, exit codes, and a non-root user's terminal.
#
# ctr -t needs a terminal of its own on stdin; bats has none, so each ctr runs under util-linux's
# `script`, which gives it a pty whose size the test sets with stty. Its output is the session's: CR LF
# line ends (\r is stripped) and, before ctr puts the terminal in raw mode, the echo of typed input.

load helpers

setup_file() { wren_setup_file; }
teardown_file() { wren_teardown_file; }
setup() { wren_setup; }
teardown() { wren_teardown; }

# in_tty ROWS COLS [INPUT]: run the rest of the arguments (ctr subcommand and its arguments, quoted as
# one shell string) as `ctr …` under a pty of ROWS x COLS; INPUT (printf format) is typed into it.
# Sets $output (CR and NUL removed) and $status (ctr's exit code).
in_tty() {
	in_tty_raw "$@"
	tty_output
}

# in_tty without reading the session into $output: the caller reads $BATS_TEST_TMPDIR/tty.out
in_tty_raw() {
	local rows=$1 cols=$2 input=$3 cmd=$4
	status=0
	# the timeout is outside: inside, it would put ctr in a process group of its own, in the
	# background of the terminal (SIGTTIN on reading it, no SIGWINCH)
	# shellcheck disable=SC2059 # input is a format on purpose
	printf "$input" | timeout -s KILL "$WREN_CTR_TIMEOUT" script -qec \
		"stty rows $rows cols $cols; exec ctr --address $CTR_ADDRESS -n $WREN_NS $cmd" /dev/null \
		>"$BATS_TEST_TMPDIR/tty.out" 2>&1 || status=$?
}

# $output from the pty session: without CRs and without "^@". script(1) types a NUL (its EOF
# character) when its stdin ends; echoed as ^@ by its pty before ctr makes it raw, or, once ctr has
# passed it on, by the container's terminal, anywhere in the output (runc-v2 sessions show it too).
tty_output() {
	output=$(tr -d '\r\000' <"$BATS_TEST_TMPDIR/tty.out" | sed 's/\^@//g')
}

# On a failure: what wren's console says it delivered to the stdout FIFO (its debug line), which tells
# a loss in the shim from one in the client (ctr) or the session. Nothing for runc-v2.
shim_console_says() {
	grep -F "$CID" "$WREN_CONTAINERD_LOG" | grep -o 'console: [^"]*' >&2 || true
}

# A container command that waits until ctr's first ResizePty has arrived (the size is 0 0 until then)
# and prints size=ROWS COLS.
# (busybox's stty size says "standard input" and exits 0 while the size is 0 0)
# shellcheck disable=SC2016 # expanded in the container
WAIT_SIZE='i=0; while s=$(stty size 2>/dev/null); case "$s" in [1-9]*) false ;; esac; do i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.05; done; echo "size=$s"'

@test "tty: ctr run -t gives the process a terminal of ctr's size on fds 0, 1 and 2" {
	in_tty 30 100 '' "run -t --rm --runtime $RUNTIME $IMAGE $CID sh -c '$WAIT_SIZE; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-ttys'"
	assert_status 0
	assert_contains "$output" "size=30 100"
	assert_contains "$output" "all-ttys"
}

@test "tty: the terminal is the init's controlling terminal and its /dev/console" {
	in_tty 24 80 '' "run -t --rm --runtime $RUNTIME $IMAGE $CID sh -c 'echo via-dev-tty >/dev/tty && echo via-console >/dev/console && [ /dev/console -ef /proc/self/fd/0 ] && echo console-is-stdin'"
	assert_status 0
	assert_contains "$output" "via-dev-tty"
	assert_contains "$output" "via-console"
	assert_contains "$output" "console-is-stdin"
}

# ls -ln of the terminal: "MODE LINKS UID GID MAJOR, MINOR …" → "MODE UID GID" (busybox and coreutils)
# shellcheck disable=SC2016 # expanded in the container
TTY_LS='set -- $(ls -ln "$(tty)"); echo "ttyls=$1 $3 $4"'

@test "tty: the init's terminal is /dev/pts/0 of the container's own devpts, and /dev/console is it" {
	in_tty 24 80 '' "run -t --rm --runtime $RUNTIME $IMAGE $CID sh -c 'echo tty=\$(tty); [ /dev/console -ef /dev/pts/0 ] && echo console-is-pts0; ls /dev/pts'"
	assert_status 0
	assert_contains "$output" "tty=/dev/pts/0"
	assert_contains "$output" "console-is-pts0"
}

@test "tty: the init's terminal belongs to its user, group tty, mode 0620" {
	in_tty 24 80 '' "run -t --rm --runtime $RUNTIME $IMAGE $CID sh -c '$TTY_LS'"
	assert_status 0
	assert_contains "$output" "ttyls=crw--w---- 0 5"
	in_tty 24 80 '' "run -t --rm --runtime $RUNTIME $IMAGE_USER $(new_cid) sh -c '$TTY_LS'"
	assert_status 0
	assert_contains "$output" "ttyls=crw--w---- 1000 5"
}

@test "tty: an exec's terminal is another /dev/pts/N of the container, owned by its user" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	in_tty 24 80 '' "task exec -t --user 1000:1000 --exec-id $(new_exec_id) $CID sh -c '$TTY_LS; tty'"
	assert_status 0
	assert_contains "$output" "ttyls=crw--w---- 1000 5"
	printf '%s\n' "$output" | grep -qx '/dev/pts/[0-9][0-9]*'
}

@test "tty: a resize of an exec's terminal reaches the exec (ResizePty)" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	local ctr="ctr --address $CTR_ADDRESS -n $WREN_NS"
	local inner="$WAIT_SIZE; i=0; until [ \"\$(stty size)\" = \"45 110\" ]; do i=\$((i+1)); [ \$i -gt 200 ] && break; sleep 0.05; done; echo \"resized=\$(stty size)\""
	ctr_ task exec --exec-id "$(new_exec_id)" "$CID" sh -c "printf '%s\n' '$inner' >/tmp/inner.sh"
	status=0
	timeout -s KILL "$WREN_CTR_TIMEOUT" script -qec "stty rows 30 cols 100; $ctr task exec -t --exec-id $(new_exec_id) $CID sh /tmp/inner.sh </dev/tty & sleep 1.5; stty rows 45 cols 110; wait \$!" /dev/null \
		</dev/null >"$BATS_TEST_TMPDIR/tty.out" 2>&1 || status=$?
	tty_output
	assert_status 0
	assert_contains "$output" "size=30 100"
	assert_contains "$output" "resized=45 110"
}

@test "tty: a resize of ctr's terminal reaches the process (ResizePty)" {
	# ctr runs in the background of the pty's session: stty on the pty sends it SIGWINCH, and ctr
	# forwards the new size
	local ctr="ctr --address $CTR_ADDRESS -n $WREN_NS"
	local inner="$WAIT_SIZE; i=0; until [ \"\$(stty size)\" = \"50 132\" ]; do i=\$((i+1)); [ \$i -gt 200 ] && break; sleep 0.05; done; echo \"resized=\$(stty size)\""
	printf '%s\n' "$inner" >"$BATS_TEST_TMPDIR/inner.sh"
	status=0
	timeout -s KILL "$WREN_CTR_TIMEOUT" script -qec "stty rows 30 cols 100; $ctr run -t --rm --runtime $RUNTIME --mount type=bind,src=$BATS_TEST_TMPDIR,dst=/t,options=rbind:ro $IMAGE $CID sh /t/inner.sh </dev/tty & sleep 1.5; stty rows 50 cols 132; wait \$!" /dev/null \
		</dev/null >"$BATS_TEST_TMPDIR/tty.out" 2>&1 || status=$?
	tty_output
	assert_status 0
	assert_contains "$output" "size=30 100"
	assert_contains "$output" "resized=50 132"
}

@test "tty: the process's exit code is ctr run -t's" {
	in_tty 24 80 '' "run -t --rm --runtime $RUNTIME $IMAGE $CID sh -c 'exit 7'"
	assert_status 7
}

@test "tty: typed input reaches the process through the terminal" {
	in_tty 24 80 'hello\n' "run -t --rm --runtime $RUNTIME $IMAGE $CID sh -c 'read x; echo got=\$x'"
	assert_status 0
	assert_contains "$output" "got=hello"
}

@test "tty: output written right before the exit is not lost" {
	in_tty 24 80 '' "run -t --rm --runtime $RUNTIME $IMAGE $CID sh -c 'i=0; while [ \$i -lt 3000 ]; do echo line\$i; i=\$((i+1)); done'"
	assert_status 0
	local n
	n=$(printf '%s\n' "$output" | grep -c '^line[0-9]*$')
	[ "$n" -eq 3000 ] || {
		echo "got $n of 3000 lines; last: $(printf '%s\n' "$output" | tail -n 2)" >&2
		shim_console_says
		false
	}
	assert_contains "$output" "line2999"
}

@test "tty: 4 MiB through the terminal arrive intact" {
	local n=$((4 * 1024 * 1024)) got="$BATS_TEST_TMPDIR/got" want="$BATS_TEST_TMPDIR/want" at
	in_tty_raw 24 80 '' "run -t --rm --runtime $RUNTIME $IMAGE $CID $PROBE write-bytes $n"
	assert_status 0
	# compared as files: 4 MiB in a shell variable is slow under load. No newline in the
	# pattern: the terminal passes it unchanged.
	tr -d '\r\000' <"$BATS_TEST_TMPDIR/tty.out" | sed 's/\^@//g' >"$got"
	head -c "$n" < <(yes 0123456789abcdef | tr -d '\n') >"$want"
	cmp "$want" "$got" && return 0
	at=$(cmp "$want" "$got" 2>&1 | grep -o 'byte [0-9]*' | grep -o '[0-9]*' || true)
	echo "got $(wc -c <"$got") of $n bytes; first difference at byte ${at:-?}" >&2
	[ -n "$at" ] && tail -c +$((at > 40 ? at - 40 : 1)) "$got" | head -c 120 | od -c | head -n 8 >&2
	shim_console_says
	false
}

@test "tty: ctr task exec -t gets a terminal of ctr's size, named in the container's /dev/pts" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	in_tty 40 120 '' "task exec -t --exec-id $(new_exec_id) $CID sh -c '$WAIT_SIZE; tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-ttys; exit 3'"
	assert_status 3
	assert_contains "$output" "size=40 120"
	assert_contains "$output" "/dev/pts/"
	assert_contains "$output" "all-ttys"
}

@test "tty: typed input reaches an exec's terminal, and the exec's own output follows" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	in_tty 24 80 'ping\n' "task exec -t --exec-id $(new_exec_id) $CID sh -c 'read x; echo got=\$x'"
	assert_status 0
	assert_contains "$output" "got=ping"
}

@test "tty: a non-root exec user owns its terminal and can reopen it" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	in_tty 24 80 '' "task exec -t --user 1000:1000 --exec-id $(new_exec_id) $CID sh -c '$PROBE ids; t=\$(tty); [ -O \"\$t\" ] && echo owner-ok; echo reopened >\"\$t\" && echo write-ok'"
	assert_status 0
	assert_fact uid 1000
	assert_contains "$output" "owner-ok"
	assert_contains "$output" "reopened"
	assert_contains "$output" "write-ok"
}

@test "tty: a non-root init owns its terminal and can reopen it" {
	in_tty 24 80 '' "run -t --rm --runtime $RUNTIME $IMAGE_USER $CID sh -c '$PROBE ids; t=\$(tty); [ -O \"\$t\" ] && echo owner-ok; echo reopened >\"\$t\" && echo >/dev/console && echo write-ok'"
	assert_status 0
	assert_fact uid 1000
	assert_contains "$output" "owner-ok"
	assert_contains "$output" "reopened"
	assert_contains "$output" "write-ok"
}

@test "tty: several execs with terminals in one container, one after another" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	local i
	for i in 1 2 3; do
		in_tty 24 80 '' "task exec -t --exec-id $(new_exec_id)-$i $CID sh -c 'echo exec-$i'"
		assert_status 0
		assert_contains "$output" "exec-$i"
	done
}
