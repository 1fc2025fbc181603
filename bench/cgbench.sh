#!/bin/sh
# Instructions per operation of a Go benchmark, counted by callgrind: the
# benchmark runs twice, N1 and N2 iterations, and the difference of the
# totals over N2-N1 is the cost of one iteration without the setup.
#
#   bench/cgbench.sh PACKAGE BENCHMARK [N1 N2]     (from the repository root)
set -eu
pkg=$1
name=$2
n1=${3:-500}
n2=${4:-2500}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go test -c -o "$work/b.test" "$pkg"
export GODEBUG=asyncpreemptoff=1
total() {
	valgrind --tool=callgrind --callgrind-out-file="$work/out.$1" "$work/b.test" \
		-test.run '^$' -test.bench "^$name\$" -test.benchtime "${1}x" -test.count 1 >/dev/null 2>&1
	grep -m1 '^totals:' "$work/out.$1" | awk '{print $2}'
}
a=$(total "$n1")
b=$(total "$n2")
echo "$name: $(((b - a) / (n2 - n1))) instructions per op"
