#!/usr/bin/env bash
# The article end to end across languages, inside a fresh IPC namespace so
# key 0x1234 is our own and every segment vanishes with the namespace.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin

if [ "${SHMMAP_DEMO_IN_NS:-}" != 1 ]; then
	if ! unshare -i true 2>/dev/null; then
		echo "demo: cannot create an IPC namespace (unshare -i needs root or CAP_SYS_ADMIN)" >&2
		exit 1
	fi
	SHMMAP_DEMO_IN_NS=1 exec unshare -i bash "$0" "$@"
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

# nattch KEY prints the segment's attach count (nothing if it does not exist).
nattch() { ipcs -m | awk -v k="$1" '$1 == k { print $6 }'; }

# wait_attached PID: wait until the writer has attached key 0x1234.
wait_attached() {
	for _ in $(seq 1000); do
		[ "$(nattch 0x00001234)" = 1 ] && return 0
		kill -0 "$1" 2>/dev/null || { echo "writer $1 exited early" >&2; return 1; }
		sleep 0.01
	done
	echo "writer $1 never attached" >&2; return 1
}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "C writer -> Go reader (key 0x1234, 1024 bytes, mode 0600)"
"$bin/c-writer" & pids+=($!); w=$!
wait_attached "$w"
echo "\$ reader            # Go port, purego"; "$bin/reader"
echo "\$ reader -impl cshim"; "$bin/reader" -impl cshim
echo "\$ grep SYSV /proc/$w/maps   # the C writer's mapping"
grep SYSV "/proc/$w/maps"
kill "$w"; wait "$w" 2>/dev/null || true
echo "\$ ipcs -m   # the writer is gone; its segment persists with nattch 0, as in C"
ipcs -m | grep -E '^(key|0x)'
ipcrm -M 0x1234

step "Go writer -> C reader"
"$bin/writer" -hold 30s & pids+=($!); w=$!
wait_attached "$w"
echo "\$ c-reader"; "$bin/c-reader"
echo "\$ grep SYSV /proc/$w/maps   # the Go writer's mapping"
grep SYSV "/proc/$w/maps"
echo "\$ shmmap ls"; "$bin/shmmap" ls
echo "\$ shmmap maps $w"; "$bin/shmmap" maps "$w"
kill "$w"; wait "$w" 2>/dev/null || true
ipcrm -M 0x1234

for prog in c-mmap mmap; do
	step "$prog on a fresh mmap.txt"
	mkdir -p "$work/$prog" && cd "$work/$prog"
	echo 'memory map me' > mmap.txt
	echo "\$ $prog"; "$bin/$prog"
	echo "\$ cat mmap.txt"; cat mmap.txt
done

# Beyond the article: the same writer and reader without the 30-second
# sleep, synchronised by a semaphore set and on the message ring. The
# reader starts first and waits in the kernel; nothing polls.
cc=$(cd "$root" && go env CC)
(cd "$root" &&
	$cc -O2 -o "$work/c-sem-writer" examples/semaphore/c/writer.c &&
	$cc -O2 -o "$work/c-ring-writer" cring/examples/writer.c &&
	go build -o "$work/sem-reader" ./examples/semaphore/reader &&
	go build -o "$work/ring-reader" ./ring/examples/reader)

step "C writer -> Go reader, synchronised by a System V semaphore (examples/semaphore)"
echo "\$ sem-reader & c-sem-writer \"shared memory here!\" \"no sleep needed\""
"$work/sem-reader" & r=$!
"$work/c-sem-writer" "shared memory here!" "no sleep needed"
wait "$r"

step "C writer -> Go reader over the message ring (cring/examples, ring/examples)"
echo "\$ ring-reader & c-ring-writer \"shared memory here!\" \"second\" \"third\""
"$work/ring-reader" & r=$!
"$work/c-ring-writer" "shared memory here!" "second" "third"
wait "$r"

# Porting a program of your own: the status board's struct, measured for
# both ABIs, and the C publisher's board printed by the Go port.
(cd "$root" &&
	$cc -O2 -o "$work/c-publish" examples/statusboard/c/publish.c &&
	go build -o "$work/show" ./examples/statusboard/show)

step "A struct shared with C, measured (examples/statusboard, shmmap layout)"
echo "\$ shmmap layout examples/statusboard/c/board.h 'struct board'   # x86-64"
(cd "$root" && "$bin/shmmap" layout examples/statusboard/c/board.h 'struct board' | head -8)
echo "  ..."
echo "\$ shmmap layout --m32 examples/statusboard/c/board.h 'struct board'   # i386: long is 4 bytes, double 4-aligned"
(cd "$root" && "$bin/shmmap" layout --m32 examples/statusboard/c/board.h 'struct board' 2>&1 | head -8) || true
echo "  ..."
touch "$work/board.key"
echo "\$ c-publish board.key rack-7 3 && show -r board.key   # C publishes, the Go port prints (StructAt)"
"$work/c-publish" "$work/board.key" rack-7 3
"$work/show" -r "$work/board.key"

# A legacy pair on a robust pthread mutex and condition variables in the
# segment: the C producer kills itself (SIGKILL) holding the lock halfway
# through queuing an item; the Go port of the consumer, on package pthread,
# gets EOWNERDEAD, repairs the queue, makes the mutex consistent and ends.
(cd "$root" &&
	$cc -O2 -pthread -o "$work/c-producer" examples/pthreadqueue/c/producer.c &&
	go build -o "$work/consumer" ./examples/pthreadqueue/consumer)
touch "$work/queue.key"

step "C producer killed holding a robust mutex -> Go consumer recovers (examples/pthreadqueue, pthread)"
echo "\$ c-producer -die-after 20 queue.key 40 & consumer queue.key"
# The consumer starts once the producer says the queue is ready (its first
# line); the rest of the producer's output follows as it comes.
exec {pq}< <(st=0; "$work/c-producer" -die-after 20 "$work/queue.key" 40 || st=$?; echo "(c-producer: exit status $st)")
pids+=($!)
read -r -u "$pq" line && echo "$line"
cat <&"$pq" & pids+=($!); rest=$!
gap=
"$work/consumer" "$work/queue.key" | while IFS= read -r l; do
	case $l in # items 3 to 18 shown as one "..."
	"item "[3-9]:* | "item 1"[0-8]:*) [ -n "$gap" ] || { gap=1; echo "..."; } ;;
	*) echo "$l" ;;
	esac
done
wait "$rest"
exec {pq}<&-

step "left behind (segments and semaphore sets)"
ipcs -m -s
echo "(the namespace, and anything in it, goes away when this script ends)"
