#!/usr/bin/env bash
# Runs the pinned official MCP conformance suite (conformance/) against
# Switchboard: every server scenario against `switchboard demo everything`
# over Streamable HTTP, and the client scenarios with
# `switchboard demo everything-client` (SERVER_URL=http://HOST:PORT/mcp runs
# the server scenarios against a server already running). Needs `npm ci` in conformance/ (the
# Makefile's conformance-deps target) and a built binary in $BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./bin/switchboard}
MODE=${1:-all}
OUT=${CONFORMANCE_OUT:-conformance/results}
mkdir -p "$OUT"
stamp=$(date +%Y%m%d-%H%M%S)-$$

run_server() {
	if [ -n "${SERVER_URL:-}" ]; then
		# A server already running (such as several gateways behind a load
		# balancer): no process is started.
		echo "== conformance: server scenarios against $SERVER_URL"
		go run ./conformance/runner server --url "$SERVER_URL" --expect 32 --out "$OUT/server-$stamp"
		return
	fi
	local log
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
	if [ -z "$addr" ]; then
		echo "conformance: the demo server did not start:" >&2
		cat "$log" >&2
		return 1
	fi
	echo "== conformance: server scenarios against http://$addr/mcp (switchboard ${SERVER_ARGS:-demo everything})"
	go run ./conformance/runner server --url "http://$addr/mcp" --expect 32 --out "$OUT/server-$stamp"
}

run_client() {
	echo "== conformance: client scenarios with $BIN demo everything-client"
	go run ./conformance/runner client --command "$(realpath "$BIN") demo everything-client" ${CONFORMANCE_CLIENT_FLAGS:---auth} --out "$OUT/client-$stamp"
}

case "$MODE" in
server) run_server ;;
client) run_client ;;
all) run_server; run_client ;;
*) echo "usage: $0 [server|client|all]" >&2; exit 2 ;;
esac
