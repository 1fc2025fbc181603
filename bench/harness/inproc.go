package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// BenchResult is the median of one in-process benchmark over -count runs.
type BenchResult struct {
	Depth       string  `json:"depth"` // session, stream, http
	Impl        string  `json:"impl"`
	Runs        int     `json:"runs"`
	NsPerOp     float64 `json:"nsPerOp"`
	BytesPerOp  float64 `json:"bytesPerOp"`
	AllocsPerOp float64 `json:"allocsPerOp"`
}

// benchLine matches a benchmark result line of go test -benchmem, e.g.
// "BenchmarkToolsCall/session/switchboard-2  60344  5744 ns/op  1438 B/op  19 allocs/op".
var benchLine = regexp.MustCompile(`^BenchmarkToolsCall/([^/\s]+)/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) B/op\s+([\d.]+) allocs/op`)

// parseBench returns the per-benchmark medians of go test output.
func parseBench(out []byte) []BenchResult {
	type key struct{ depth, impl string }
	var order []key
	samples := map[key][][3]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		k := key{m[1], m[2]}
		var v [3]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(m[3+i], 64)
		}
		if _, ok := samples[k]; !ok {
			order = append(order, k)
		}
		samples[k] = append(samples[k], v)
	}
	var res []BenchResult
	for _, k := range order {
		s := samples[k]
		col := func(i int) float64 {
			c := make([]float64, len(s))
			for j := range s {
				c[j] = s[j][i]
			}
			return median(c)
		}
		res = append(res, BenchResult{Depth: k.depth, Impl: k.impl, Runs: len(s), NsPerOp: col(0), BytesPerOp: col(1), AllocsPerOp: col(2)})
	}
	return res
}

// runInProc runs the in-process benchmarks with go test in the bench
// module and parses them.
func runInProc(ctx context.Context, cfg *Config) ([]BenchResult, error) {
	count := max(cfg.InProcCount, 1)
	bt := cfg.InProcBenchtime
	if bt == "" {
		bt = "1s"
	}
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkToolsCall$",
		"-benchmem", "-count", strconv.Itoa(count), "-benchtime", bt, ".")
	cmd.Dir = cfg.ModDir
	out, err := cmd.CombinedOutput()
	res := parseBench(out)
	if err != nil {
		return res, fmt.Errorf("go test: %v: %s", err, tail(out, 2000))
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("go test printed no benchmark results: %s", tail(out, 2000))
	}
	return res, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// findBench returns the result of one in-process benchmark.
func findBench(rs []BenchResult, depth, impl string) (BenchResult, bool) {
	i := slices.IndexFunc(rs, func(r BenchResult) bool { return r.Depth == depth && r.Impl == impl })
	if i < 0 {
		return BenchResult{}, false
	}
	return rs[i], true
}
