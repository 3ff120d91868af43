// Package localpg starts a throwaway PostgreSQL server on loopback, from the
// binaries of the machine's PostgreSQL packages, for the store's tests and
// for running the API locally on PostgreSQL. Its data lives in a temporary
// directory and goes with Stop.
package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// ErrNoPostgres reports that no PostgreSQL server binaries were found.
var ErrNoPostgres = errors.New("no PostgreSQL server found: install it (Debian: apt-get install postgresql) or set PG_BINDIR to its bin directory")

// Server is a running local PostgreSQL.
type Server struct {
	// URL connects as the superuser to the postgres database.
	URL  string
	Port int

	dir       string
	bin       string
	owner     *syscall.Credential
	databases atomic.Int64
}

// Start initialises a cluster in a new temporary directory and starts it on
// a free loopback port. As root it runs the server as the postgres user,
// since PostgreSQL refuses to run as root.
func Start(ctx context.Context) (*Server, error) { return StartOn(ctx, 0) }

// StartOn is Start on the loopback port given; 0 picks a free one.
func StartOn(ctx context.Context, port int) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "localpg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs a postgres user to run the server as: %w", err)
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("the postgres user's ids: %w", err)
		}
		s.owner = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		// The server, running as postgres, must reach its data directory.
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.Chown(dir, int(uid), int(gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if err := s.run(ctx, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	s.Port = port
	if port == 0 {
		if s.Port, err = freePort(); err != nil {
			return nil, errors.Join(err, s.Stop())
		}
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c full_page_writes=off -c max_connections=200", s.Port, dir)
	if err := s.run(ctx, "pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log")) // for the error: whatever it holds
		return nil, errors.Join(fmt.Errorf("%w\n%s", err, log), s.Stop())
	}
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
	return s, nil
}

// StartForTest starts a server for the test, failing it if the server
// cannot start, and stops it when the test ends.
func StartForTest(t testing.TB) *Server {
	t.Helper()
	s, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop the PostgreSQL server: %v", err)
		}
	})
	return s
}

// Main runs a package's tests with one server for them all, which it
// puts in *s before they run and stops after; it returns the exit code.
// For TestMain: os.Exit(localpg.Main(m, &server)).
func Main(m *testing.M, s **Server) int {
	srv, err := Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "these tests need a PostgreSQL server:", err)
		return 1
	}
	*s = srv
	code := m.Run()
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop the PostgreSQL server:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// CreateDatabase creates a new, empty database and returns a URL that
// connects to it as the superuser.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("db%d", s.databases.Add(1))
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "createdb"), "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-U", "postgres", name)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("createdb: %w\n%s", err, out)
	}
	return strings.Replace(s.URL, "/postgres?", "/"+name+"?", 1), nil
}

// Stop stops the server and removes its data.
func (s *Server) Stop() error {
	var err error
	if s.Port != 0 {
		err = s.run(context.Background(), "pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

func (s *Server) run(ctx context.Context, tool string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, tool), args...)
	cmd.Dir = s.dir
	if s.owner != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.owner}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", tool, err, out.String())
	}
	return nil
}

// binDir finds the server binaries: PG_BINDIR, else the newest of Debian's
// /usr/lib/postgresql/<version>/bin, else the directory of postgres on PATH.
func binDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoPostgres
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}
