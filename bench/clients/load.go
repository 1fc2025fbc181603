package clients

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Stats is what one load run measured, and the line the clientload
// command prints (JSON; durations in nanoseconds).
type Stats struct {
	Impl     string `json:"impl"`
	Sessions int    `json:"sessions"`
	// Protocol is the revision the sessions negotiated.
	Protocol string `json:"protocol"`
	// Calls are the calls that succeeded in the measured window, Errors
	// those that failed.
	Calls   int64         `json:"calls"`
	Errors  int64         `json:"errors"`
	Elapsed time.Duration `json:"elapsed"`
	// CPU is this process's user + system time (getrusage RUSAGE_SELF)
	// over the measured window; CPUPerCall is CPU / Calls.
	CPU        time.Duration `json:"cpu"`
	CPUPerCall time.Duration `json:"cpuPerCall"`
	CallsPerS  float64       `json:"callsPerSecond"`
	// P50 and P99 are call latencies, from before Call to its return.
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
	// FirstError is the first failed call's error, if any.
	FirstError string `json:"firstError,omitempty"`
}

// ProcessCPU returns the CPU time (user + system, all threads) this
// process has used so far, from getrusage(RUSAGE_SELF).
func ProcessCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	tv := func(t syscall.Timeval) time.Duration {
		return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
	}
	return tv(ru.Utime) + tv(ru.Stime), nil
}

// worker is one session's loop and what it recorded.
type worker struct {
	lat      []time.Duration
	errors   int64
	firstErr error
}

// Run calls the echo tool on every session in a loop, one call in flight
// per session, for warmup and then d, and measures the last d: the calls
// that completed in it, their latencies and this process's CPU time over
// exactly that window. Workers finish their call in progress when it ends.
// Run fails only when the CPU time cannot be read or ctx ends; failed
// calls are counted in Stats.Errors.
func Run(ctx context.Context, sessions []Session, warmup, d time.Duration) (Stats, error) {
	var recording, stopping atomic.Bool
	var wg sync.WaitGroup
	workers := make([]*worker, len(sessions))
	for i, s := range sessions {
		w := &worker{lat: make([]time.Duration, 0, 1<<14)}
		workers[i] = w
		wg.Go(func() {
			for !stopping.Load() && ctx.Err() == nil {
				t0 := time.Now()
				err := s.Call(ctx)
				lat := time.Since(t0)
				if !recording.Load() {
					if err != nil {
						time.Sleep(time.Millisecond)
					}
					continue
				}
				if err != nil {
					w.errors++
					if w.firstErr == nil {
						w.firstErr = err
					}
					time.Sleep(time.Millisecond) // a broken connection: back off
					continue
				}
				w.lat = append(w.lat, lat)
			}
		})
	}
	stop := sync.OnceFunc(func() { stopping.Store(true); wg.Wait() })
	defer stop()

	if err := sleep(ctx, warmup); err != nil {
		return Stats{}, err
	}
	cpu0, err := ProcessCPU()
	if err != nil {
		return Stats{}, err
	}
	t0 := time.Now()
	recording.Store(true)
	serr := sleep(ctx, d)
	recording.Store(false)
	t1 := time.Now()
	cpu1, err := ProcessCPU()
	if serr != nil {
		return Stats{}, serr
	}
	if err != nil {
		return Stats{}, err
	}
	stop()

	st := Stats{Sessions: len(sessions), Elapsed: t1.Sub(t0), CPU: cpu1 - cpu0}
	if len(sessions) > 0 {
		st.Protocol = sessions[0].Protocol()
	}
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.lat...)
		st.Errors += w.errors
		if w.firstErr != nil && st.FirstError == "" {
			st.FirstError = w.firstErr.Error()
		}
	}
	slices.Sort(all)
	st.Calls = int64(len(all))
	st.P50, st.P99 = percentile(all, 0.50), percentile(all, 0.99)
	if st.Elapsed > 0 {
		st.CallsPerS = float64(st.Calls) / st.Elapsed.Seconds()
	}
	if st.Calls > 0 {
		st.CPUPerCall = st.CPU / time.Duration(st.Calls)
	}
	return st, nil
}

// percentile returns the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Main is the clientload command: it opens -sessions sessions of -impl's
// client to -url, checks one call on each, runs Run for -warmup and
// -duration and prints its Stats as one JSON line on stdout. It returns
// the exit status: 0 when at least one call succeeded in the measured
// window, 1 on failure (the reason on stderr), 2 for bad flags.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("clientload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	impl := fs.String("impl", "", fmt.Sprintf("client implementation: %v", Impls))
	url := fs.String("url", "", "Streamable HTTP endpoint of a server with the echo tool")
	sessions := fs.Int("sessions", 1, "client sessions, one call in flight on each")
	warmup := fs.Duration("warmup", time.Second, "calls before the measured window")
	duration := fs.Duration("duration", 5*time.Second, "length of the measured window")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this client (sessions opened, warm-up and window) here")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case !Known(*impl):
		fmt.Fprintf(stderr, "clientload: -impl %q: want one of %v\n", *impl, Impls)
		return 2
	case *url == "":
		fmt.Fprintln(stderr, "clientload: -url is required")
		return 2
	case *sessions <= 0 || *duration <= 0 || *warmup < 0:
		fmt.Fprintln(stderr, "clientload: -sessions and -duration must be positive, -warmup not negative")
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "clientload: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "clientload: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	st, err := load(ctx, *impl, *url, *sessions, *warmup, *duration)
	if err != nil {
		fmt.Fprintf(stderr, "clientload: %s, %d sessions: %v\n", *impl, *sessions, err)
		return 1
	}
	b, err := json.Marshal(st)
	if err != nil {
		fmt.Fprintf(stderr, "clientload: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", b)
	if st.Calls == 0 {
		fmt.Fprintf(stderr, "clientload: %s, %d sessions: no call succeeded in the measured window (%d errors; first: %s)\n",
			*impl, *sessions, st.Errors, st.FirstError)
		return 1
	}
	return 0
}

// load opens the sessions, checks a first call on each and runs Run.
func load(ctx context.Context, impl, url string, n int, warmup, d time.Duration) (Stats, error) {
	sessions, err := Open(ctx, impl, url, n, nil)
	if err != nil {
		return Stats{}, err
	}
	defer CloseAll(sessions)
	for i, s := range sessions {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := s.Call(cctx)
		cancel()
		if err != nil {
			return Stats{}, fmt.Errorf("first call on session %d: %w", i, err)
		}
	}
	st, err := Run(ctx, sessions, warmup, d)
	if err != nil {
		return Stats{}, err
	}
	st.Impl = impl
	if st.Calls == 0 && st.Errors == 0 {
		return st, errors.New("no call completed in the measured window")
	}
	return st, nil
}
