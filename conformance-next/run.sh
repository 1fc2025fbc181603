#!/usr/bin/env bash
# Runs the pinned pre-release MCP conformance suite (0.2.0-alpha.12, in this
# directory) against Switchboard for protocol revision 2026-07-28: the
# scenarios the revision requires ("--requirements 2026-07-28", the frozen
# set, plus the not-scored ones the suite runs beside them), against
# `switchboard demo everything --http` (server) and
# `switchboard demo everything-client` (client), under the loopback preload
# of ../conformance (every listener on 127.0.0.1). Needs `npm ci` here and a
# built binary in $BIN (default ../bin/switchboard).
#
#   conformance-next/run.sh [server|client|all]
#
# SERVER_URL=http://HOST:PORT/mcp runs the server scenarios against a server
# already running instead of starting one.
#
# Results: $OUT (default conformance-next/results/<mode>-<stamp>), one
# checks.json per scenario, the suite's log, and summary.txt with one line
# per scenario (PASS / FAIL / SKIP when scored; pass / skip / xfail when
# not scored, which cannot fail the run). Exits 1 when a scored
# scenario fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BIN=$(realpath "${BIN:-$root/bin/switchboard}")
MODE=${1:-all}
REVISION=${REVISION:-2026-07-28}
NODE="$here/node_modules/node/bin/node"
SUITE="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
[ -x "$NODE" ] && [ -f "$SUITE" ] || { echo "conformance-next: run 'npm ci' in $here first" >&2; exit 2; }
export NODE_OPTIONS="--require $root/conformance/loopback.cjs"
stamp=$(date +%Y%m%d-%H%M%S)-$$
status=0

summarize() { # dir log
	"$NODE" "$here/summarize.mjs" "$1" "$2" | tee "$1/summary.txt"
}

run_server() {
	local out=${OUT:-$here/results/server-$stamp} log
	mkdir -p "$out"
	if [ -n "${SERVER_URL:-}" ]; then
		# A server already running (such as several gateways behind a load
		# balancer): no process is started.
		echo "== conformance-next: server scenarios for $REVISION against $SERVER_URL"
		"$NODE" "$SUITE" server --url "$SERVER_URL" --requirements "$REVISION" -o "$out" >"$out/suite.log" 2>&1 || true
		summarize "$out" "$out/suite.log" || status=1
		return
	fi
	log=$(mktemp)
	"$BIN" ${SERVER_ARGS:-demo everything --http 127.0.0.1:0} 2>"$log" &
	local pid=$!
	trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' RETURN
	local addr=""
	for _ in $(seq 1 100); do
		addr=$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9]*\).*/\1/p' "$log" | head -1)
		[ -n "$addr" ] && break
		sleep 0.1
	done
	[ -n "$addr" ] || { echo "conformance-next: the demo server did not start:" >&2; cat "$log" >&2; return 1; }
	echo "== conformance-next: server scenarios for $REVISION against http://$addr/mcp"
	"$NODE" "$SUITE" server --url "http://$addr/mcp" --requirements "$REVISION" -o "$out" >"$out/suite.log" 2>&1 || true
	summarize "$out" "$out/suite.log" || status=1
}

run_client() {
	local out=${OUT:-$here/results/client-$stamp}
	mkdir -p "$out"
	echo "== conformance-next: client scenarios for $REVISION with $BIN demo everything-client"
	"$NODE" "$SUITE" client --command "$BIN demo everything-client" --requirements "$REVISION" -o "$out" >"$out/suite.log" 2>&1 || true
	summarize "$out" "$out/suite.log" || status=1
}

case "$MODE" in
server) run_server ;;
client) run_client ;;
all) run_server; run_client ;;
*) echo "usage: $0 [server|client|all]" >&2; exit 2 ;;
esac
exit $status
