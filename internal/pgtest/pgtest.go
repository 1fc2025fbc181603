// Package pgtest starts a throwaway PostgreSQL server for tests: Debian's
// postgresql package (initdb and pg_ctl from /usr/lib/postgresql/*/bin, or
// on PATH), a cluster in a temporary directory listening only on a Unix
// socket there, stopped and removed by [Stop] (call it from TestMain).
//
// When the server programs are missing, tests skip with a message saying
// how to install them, except under CI (the CI environment variable set),
// where they fail: "make test" installs the package.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

var (
	mu      sync.Mutex
	cluster *server
	dbSeq   atomic.Int64
)

type server struct {
	dir, bin, sock string
	port           int
	runAs          *user.User // set when running as root
	err            error
}

// binDir finds the directory of initdb and pg_ctl.
func binDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server programs (initdb, pg_ctl) not found: install Debian's postgresql package (apt-get install postgresql), or run make test, which does")
}

func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// DSN returns the connection string of a new, empty database on the
// test cluster, started on first use. It skips the test when PostgreSQL
// is not installed (fails under CI).
func DSN(t testing.TB) string {
	t.Helper()
	mu.Lock()
	if cluster == nil {
		cluster = start()
	}
	s := cluster
	mu.Unlock()
	if s.err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pgtest: %v", s.err)
		}
		t.Skipf("pgtest: %v (skipped outside CI)", s.err)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	admin, err := sql.Open("pgx", s.dsn("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("pgtest: creating database: %v", err)
	}
	return s.dsn(name)
}

func (s *server) dsn(db string) string {
	u := "postgres"
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", s.sock, s.port, u, db)
}

// start creates and starts the cluster.
func start() *server {
	s := &server{}
	s.bin, s.err = binDir()
	if s.err != nil {
		return s
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		s.err = err
		return s
	}
	s.dir = dir
	s.sock = dir
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: use the postgres account the
		// Debian package creates.
		u, err := user.Lookup("postgres")
		if err != nil {
			s.err = fmt.Errorf("running as root and there is no postgres user to run the server as: %v", err)
			return s
		}
		s.runAs = u
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			s.err = err
			return s
		}
	}
	s.port = freePort()
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		s.err = fmt.Errorf("initdb: %v\n%s", err, out)
		return s
	}
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories=%s -p %d -c fsync=off -c synchronous_commit=off -c full_page_writes=off", dir, s.port)
	if out, err := s.run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		s.err = fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
		return s
	}
	// Wait until it accepts connections.
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("pgx", s.dsn("postgres"))
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err = db.PingContext(ctx)
			cancel()
			db.Close()
		}
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			s.err = fmt.Errorf("the test server does not answer: %v", err)
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, prog)
	var cmd *exec.Cmd
	if s.runAs != nil {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs.Username, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// freePort picks a port number for the socket's name (the server listens
// on no TCP port).
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 54329
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Stop stops the test cluster, if one was started, and removes it.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if cluster == nil || cluster.dir == "" {
		cluster = nil
		return
	}
	_, _ = cluster.run("pg_ctl", "-D", filepath.Join(cluster.dir, "data"), "-m", "immediate", "-w", "stop")
	os.RemoveAll(cluster.dir)
	cluster = nil
}

// Main runs a package's tests and stops the cluster afterwards: call it
// from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}
