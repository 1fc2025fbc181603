# Switchboard: the two commands that matter are
#   go run ./cmd/switchboard serve     (the main job)
#   make test                          (the whole test suite)
# `make test` installs what it needs (the pinned npm packages of the
# conformance suite) and runs: formatting and vet checks, the unit and
# end-to-end tests with the race detector, short fuzzing of every parser of
# untrusted input, the microbenchmarks once, the official conformance suite
# against our server and client, and the interoperability matrix.

GO        ?= go
BIN       := bin/switchboard
FUZZTIME  ?= 3s
NODE_STAMP := conformance/node_modules/.installed
NEXT_STAMP := conformance-next/node_modules/.installed

.PHONY: redis-deps postgres-deps scale-deps scale bench-scale test check vet unit fuzz microbench conformance conformance-deps conformance-next conformance-next-deps conformance-gateway interop browser browser-deps identity-sso registry registry-deps registry-bench bench bench-quick build clean

test: check unit fuzz microbench conformance conformance-next conformance-gateway scale interop browser identity-sso registry bench-check
	@echo "make test: all passed"

build: $(BIN)

$(BIN): FORCE
	$(GO) build -o $(BIN) ./cmd/switchboard

FORCE:

check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit: conformance-deps redis-deps postgres-deps
	$(GO) test -race -timeout 10m ./...

# The limits tests share counters across gateway processes through a real
# redis-server (Debian's), started by the tests on a loopback port.
redis-deps:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing Debian's redis-server for the limits tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server >/dev/null; }

fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

microbench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./... > /dev/null

conformance-deps: $(NODE_STAMP)

$(NODE_STAMP): conformance/package.json conformance/package-lock.json
	cd conformance && npm ci --no-audit --no-fund --loglevel=error
	touch $@

conformance: build conformance-deps
	BIN=$(BIN) ./scripts/conformance.sh all

# The pre-release suite (0.2.0-alpha.12) for revision 2026-07-28; exits 1
# when a scored scenario fails.
conformance-next-deps: $(NEXT_STAMP)

$(NEXT_STAMP): conformance-next/package.json conformance-next/package-lock.json
	cd conformance-next && npm ci --no-audit --no-fund --loglevel=error
	touch $@

conformance-next: build conformance-deps conformance-next-deps
	BIN=$(BIN) ./conformance-next/run.sh all

# Both suites' server scenarios through the gateway: zero-config
# "switchboard serve" (the demo server behind it, as a child process).
conformance-gateway: build conformance-deps conformance-next-deps
	SERVER_ARGS="serve --addr 127.0.0.1:0" BIN=$(BIN) ./scripts/conformance.sh server
	SERVER_ARGS="serve --addr 127.0.0.1:0" BIN=$(BIN) ./conformance-next/run.sh server

# Scale-out acceptance (docs/scale-out.md): three "switchboard serve"
# processes sharing a redis-server behind Debian's haproxy (round robin, no
# stickiness), all on loopback: both conformance suites' server scenarios
# through the balancer, the failover soak (SIGKILL, restart, SIGTERM
# drain), key rotation with live sessions, stateless requests with Redis
# stopped; then the Kubernetes manifests and the Dockerfile checked
# statically (deploy/).
scale-deps: redis-deps postgres-deps conformance-deps conformance-next-deps
	@command -v haproxy >/dev/null 2>&1 || { \
		echo "installing Debian's haproxy for the scale-out tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq haproxy >/dev/null; }

scale: scale-deps
	SWITCHBOARD_SCALE_REQUIRED=1 $(GO) test -count=1 -timeout 10m -v ./scaletest/
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 ./...

# Throughput of a CPU-bound tool through one and two gateway instances,
# each pinned to its own core with taskset (bench/scale.go).
bench-scale:
	$(MAKE) -C bench bench-scale

interop: build conformance-deps
	cd interop && $(GO) vet ./... && $(GO) test -race -timeout 10m ./...

# The console's browser test drives Debian's chromium (installed here when
# missing, with one apt-get update) through chromedp; screenshots go to
# browsertest/screenshots/. Its MCP Apps test renders the official example
# app server pinned in browsertest/package.json (npm ci).
BROWSER_STAMP := browsertest/node_modules/.installed

browser-deps: $(BROWSER_STAMP)
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser test"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

$(BROWSER_STAMP): browsertest/package.json browsertest/package-lock.json
	cd browsertest && npm ci --no-audit --no-fund
	touch $@

# The store, audit, usage and command tests run against a real
# PostgreSQL that they start themselves (internal/pgtest: initdb and pg_ctl
# of Debian's postgresql package, a throwaway cluster on a Unix socket in a
# temporary directory); installed here when missing.
postgres-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
		echo "installing Debian's postgresql for the PostgreSQL tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }

browser: browser-deps
	cd browsertest && $(GO) vet ./... && $(GO) test -timeout 10m ./...

# The registry against the official components (registrytest/, its own
# module: mcp-publisher and the official registry server are built from
# github.com/modelcontextprotocol/registry v1.8.14), with a throwaway
# PostgreSQL cluster; Debian's postgresql is installed here when missing.
registry-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "installing Debian's postgresql for the registry tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }

registry: registry-deps
	cd registrytest && $(GO) vet ./... && $(GO) test -timeout 20m ./...

# The full speed comparison (BENCHMARKS.md, "MCP registry"): 10,000 and
# 100,000 versions, tables written to registrytest/bench-*.md.
registry-bench: registry-deps
	cd registrytest && REGISTRY_BENCH_STRICT=1 REGISTRY_BENCH_VERSIONS=10000 REGISTRY_BENCH_REQUESTS=300 REGISTRY_BENCH_OUT=bench-10k.md $(GO) test -run TestSpeed -count=1 -v -timeout 60m .
	cd registrytest && REGISTRY_BENCH_STRICT=1 REGISTRY_BENCH_VERSIONS=100000 REGISTRY_BENCH_REQUESTS=300 REGISTRY_BENCH_OUT=bench-100k.md $(GO) test -run TestSpeed -count=1 -v -timeout 120m .

# SSO against a real OpenID Connect provider (zitadel's example OP), in
# its own module (identity/ssotest) so that its dependencies stay out of
# Switchboard's: over HTTP, and once in Debian's chromium (browser-deps;
# screenshots go to identity/ssotest/screenshots/).
identity-sso: browser-deps
	cd identity/ssotest && $(GO) vet ./... && $(GO) test -race -timeout 5m ./...

bench-check:
	cd bench && $(GO) vet ./... && $(GO) test -timeout 5m ./...

bench:
	$(MAKE) -C bench bench

bench-quick:
	$(MAKE) -C bench bench-quick

clean:
	rm -rf bin conformance/results conformance-next/results
