#!/bin/sh
# Instructions per tools/call, counted by valgrind's callgrind: repeatable
# whatever else the machine is doing, unlike calls/s or CPU time. Starts the
# target under callgrind, opens the sessions and warms up (cmd/callcount),
# zeroes the counters, sends CALLS calls, dumps the counters and prints the
# instructions per call of each process serving the target.
#
#   bench/callgrind.sh TARGET [SESSIONS] [CALLS]
#
# TARGET: gateway-stdio (the gateway with a stdio upstream, both counted),
# gateway-http (the gateway with a Streamable HTTP upstream, both counted),
# http-IMPL (a server over Streamable HTTP, IMPL one of switchboard,
# baseline, mcp-go, go-sdk, switchboard-demo), stateless-switchboard
# (revision 2026-07-28), or demo (the `switchboard demo everything --http`
# command itself, with its default limits and logging).
# It builds its own binaries (without cgo, which callgrind does not follow)
# into bin/cg/; the Go runtime's preemption signals are off under callgrind.
# With KEEP=DIR the dumps are copied there, for callgrind_annotate.
# With PROC=1 the processes run without valgrind and the script prints
# their CPU time and read/write system calls per call instead (from /proc,
# so sensitive to the machine's load, unlike the instruction counts).
set -eu
target=$1
sessions=${2:-16}
calls=${3:-2000}
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/bin/cg
mkdir -p "$bin"
(cd "$here" && CGO_ENABLED=0 go build -o "$bin/servers" ./cmd/servers && CGO_ENABLED=0 go build -o "$bin/callcount" ./cmd/callcount)
if [ "$target" = demo ]; then (cd "$here/.." && CGO_ENABLED=0 go build -o "$bin/switchboard" ./cmd/switchboard); fi
export GODEBUG=asyncpreemptoff=1 BENCH_JSON_WINDOW=1h
work=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

vg() { # vg NAME ARGS...: start ARGS under callgrind, output in $work/NAME.*
	name=$1
	shift
	if [ -n "${PROC:-}" ]; then
		"$@" 2>"$work/$name.err" &
		pids="$pids $!"
		return
	fi
	valgrind --tool=callgrind --callgrind-out-file="$work/$name.%p" \
		"$@" 2>"$work/$name.err" &
	pids="$pids $!"
}

ready() { # ready NAME: wait for the READY line, print the mcp URL
	i=0
	while ! grep -q '^READY' "$work/$1.err" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 600 ] || grep -q 'Assertion' "$work/$1.err"; then
			echo "callgrind.sh: $1 not ready" >&2
			cat "$work/$1.err" >&2
			exit 1
		fi
		sleep 0.1
	done
	grep '^READY' "$work/$1.err" | head -1 | sed 's/.*mcp=\([^ ]*\).*/\1/'
}

listening() { # listening NAME: wait for the "listening on ADDR" log line, print the mcp URL
	i=0
	while ! grep -q 'listening on 127' "$work/$1.err" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 600 ]; then
			echo "callgrind.sh: $1 not listening" >&2
			cat "$work/$1.err" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "http://$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9]*\).*/\1/p' "$work/$1.err" | head -1)/mcp"
}

modern=""
case $target in
gateway-stdio)
	if [ -n "${PROC:-}" ]; then
		vg gw "$bin/servers" gateway -side= -- "$bin/servers" -impl switchboard -transport stdio -side=
	else
		vg gw "$bin/servers" gateway -side= -upstream-env GODEBUG=asyncpreemptoff=1 -- \
			valgrind --tool=callgrind --callgrind-out-file="$work/up.%p" "$bin/servers" -impl switchboard -transport stdio -side=
	fi
	url=$(ready gw)
	;;
gateway-http)
	vg up "$bin/servers" -impl switchboard -transport http -side=
	upurl=$(ready up)
	vg gw "$bin/servers" gateway -side= -upstream-url "$upurl"
	url=$(ready gw)
	;;
http-*)
	vg srv "$bin/servers" -impl "${target#http-}" -transport http -side=
	url=$(ready srv)
	;;
demo)
	vg srv "$bin/switchboard" demo everything --http 127.0.0.1:0
	url=$(listening srv)
	;;
stateless-switchboard)
	vg srv "$bin/servers" -impl switchboard -transport http -side= -stateless
	url=$(ready srv)
	modern=-modern
	;;
*)
	echo "callgrind.sh: unknown target $target" >&2
	exit 2
	;;
esac

if [ -n "${PROC:-}" ]; then
	# every process serving the target: the started ones and their children
	all=""
	for p in $pids; do all="$all $p $(pgrep -P "$p" | tr '\n' ' ')"; done
	snap="for p in $all; do echo \$(cut -d' ' -f14,15 /proc/\$p/stat) \$(grep -E '^sysc[rw]' /proc/\$p/io | cut -d' ' -f2); done"
	"$bin/callcount" -url "$url" -sessions "$sessions" -calls "$calls" -warmup $((sessions * 20)) $modern \
		-before "($snap) >$work/before" -after "($snap) >$work/after"
	tck=$(getconf CLK_TCK)
	paste "$work/before" "$work/after" | awk -v calls="$calls" -v tck="$tck" '{
		cpu += ($5 + $6 - $1 - $2); r += $7 - $3; w += $8 - $4 }
		END { printf "'"$target"' sessions='"$sessions"' calls=%d: %.1f us CPU per call, %.2f reads and %.2f writes per call, all processes\n",
		calls, cpu * 1e6 / tck / calls, r / calls, w / calls }'
	exit 0
fi

ctl="for p in \$(pgrep -f 'callgrind-out-file=$work/'); do callgrind_control"
"$bin/callcount" -url "$url" -sessions "$sessions" -calls "$calls" -warmup $((sessions * 20)) $modern \
	-before "$ctl -z \$p >/dev/null 2>&1; done" -after "$ctl -d \$p >/dev/null 2>&1; done"
sleep 1
total=0
for f in "$work"/*.*.1; do
	[ -e "$f" ] || continue
	n=$(grep -m1 '^totals:' "$f" | awk '{print $2}')
	cmd=$(grep -m1 '^cmd:' "$f" | cut -c6- | sed "s|$bin/||g")
	echo "$cmd: $((n / calls)) instructions per call"
	total=$((total + n))
	if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$f" "$KEEP/"; fi
done
echo "$target sessions=$sessions calls=$calls: $((total / calls)) instructions per call, all processes"
