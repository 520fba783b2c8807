package compattests

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Seat roles. The reference seat always runs Python's supervisord; a
// candidate seat runs Python again (self-check) or our daemon.
const (
	RoleRef       = "ref"
	RoleSelfcheck = "selfcheck"
	RoleOurs      = "ours"
)

// seatDirs gives every role a directory name of the same length, so paths
// (and Content-Length values that include them) compare equal after
// normalization.
var seatDirs = map[string]string{RoleRef: "ref", RoleSelfcheck: "slf", RoleOurs: "our"}

// seat is one daemon under test with its dir, socket and clients.
type seat struct {
	role string
	argv []string // daemon argv prefix; "-n -c <conf>" is appended
	env  *Env
	c    *Case

	dir, realDir, conf string
	ep                 Endpoint

	cmd      *exec.Cmd
	out      *os.File
	done     chan struct{}
	exitCode int
	known    map[int]Proc // every descendant of the daemon seen so far
	py       *PyClient
}

func newSeat(role string, argv []string, env *Env, c *Case, parent string) (*seat, error) {
	s := &seat{role: role, argv: argv, env: env, c: c, known: map[int]Proc{}}
	s.dir = filepath.Join(parent, seatDirs[role])
	if err := os.Mkdir(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("seat dir: %w", err)
	}
	real, err := filepath.EvalSymlinks(s.dir)
	if err != nil {
		return nil, fmt.Errorf("seat dir: %w", err)
	}
	s.realDir = real
	s.conf = filepath.Join(s.dir, "supervisord.conf")
	s.ep.Sock = filepath.Join(s.dir, "s.sock")
	if c.Inet {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.ep.Port = port
	}
	for name, content := range c.Render() {
		p := filepath.Join(s.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("seat file %s: %w", name, err)
		}
		if err := os.WriteFile(p, []byte(s.expand(content)), 0o644); err != nil {
			return nil, fmt.Errorf("seat file %s: %w", name, err)
		}
	}
	return s, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// expand replaces the case placeholders with this seat's values.
func (s *seat) expand(text string) string {
	return strings.NewReplacer(
		"{{dir}}", s.dir,
		"{{sock}}", s.ep.Sock,
		"{{port}}", strconv.Itoa(s.ep.Port),
		"{{testdata}}", s.env.TestData,
		"{{python}}", s.env.Python,
	).Replace(text)
}

func (s *seat) creds(st *Step) []string {
	if st != nil && st.Creds != nil {
		return *st.Creds
	}
	return s.c.Creds
}

func (s *seat) pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

func (s *seat) exited() bool {
	if s.done == nil {
		return true
	}
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// start launches the daemon and, unless the case expects a startup failure,
// waits until it answers getState with RUNNING.
func (s *seat) start(ctx context.Context) error {
	out, err := os.Create(filepath.Join(s.dir, "daemon.out"))
	if err != nil {
		return fmt.Errorf("daemon output file: %w", err)
	}
	s.out = out
	args := append(append([]string{}, s.argv[1:]...), "-n", "-c", s.conf)
	s.cmd = exec.Command(s.argv[0], args...)
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return fmt.Errorf("start %s: %w", s.argv[0], err)
	}
	s.done = make(chan struct{})
	go func() {
		err := s.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			s.exitCode = ee.ExitCode()
		case err != nil:
			s.exitCode = -1000
		}
		close(s.done)
	}()
	if s.c.StartFails {
		return nil
	}
	// Generous: Python's startup alone takes seconds on a loaded 2-core box.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if s.exited() {
			return fmt.Errorf("daemon exited during startup with code %d; output:\n%s", s.exitCode, s.outputTail(30))
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		v, err := GoCall(cctx, s.ep, "unix", s.c.Creds, "supervisor.getState", nil)
		cancel()
		if m, ok := v.(map[string]any); err == nil && ok && m["statename"] == "RUNNING" {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("daemon did not answer getState=RUNNING within 60s (last error: %v); output:\n%s", err, s.outputTail(30))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// outputTail returns the last n lines the daemon printed.
func (s *seat) outputTail(n int) string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "daemon.out"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// snapshot records the daemon's current descendants.
func (s *seat) snapshot() {
	if s.exited() {
		return
	}
	for _, p := range Descendants(s.pid()) {
		if _, seen := s.known[p.PID]; !seen {
			s.known[p.PID] = p
		}
	}
}

func (s *seat) childPIDs() []int {
	pids := make([]int, 0, len(s.known))
	for pid := range s.known {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	return pids
}

// normalizer returns the seat's normalizer for one step.
func (s *seat) normalizer(st *Step) *Normalizer {
	extra := append(append([]Replace{}, s.c.Normalize...), st.Normalize...)
	return NewNormalizer(s.dir, s.realDir, s.argv[0], s.ep.Port, s.pid(), s.childPIDs(), extra)
}

// stop ends everything the seat started: the Python client, the daemon
// (SIGTERM, then SIGKILL after 20 s) and any descendant that outlived it. It
// returns the problems seen; a daemon that leaves children behind is one.
func (s *seat) stop() []string {
	var problems []string
	if s.py != nil {
		s.py.Close()
		s.py = nil
	}
	if s.cmd == nil {
		return nil
	}
	s.snapshot()
	if !s.exited() {
		_ = syscall.Kill(s.pid(), syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			problems = append(problems, "daemon did not exit within 20s of SIGTERM; killed")
			_ = syscall.Kill(s.pid(), syscall.SIGKILL)
			<-s.done
		}
	}
	list := make([]Proc, 0, len(s.known))
	for _, p := range s.known {
		list = append(list, p)
	}
	// A grandchild orphaned at the last moment (a fixture's "sleep 0.1") may
	// still be finishing: give descendants half a second before calling them
	// leaked. A process the daemon really left behind is still there after it.
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end) && anyAlive(list); {
		time.Sleep(20 * time.Millisecond)
	}
	for _, p := range KillAndReap(list) {
		problems = append(problems, fmt.Sprintf("%s was still running after the daemon exited (killed)", p))
	}
	if s.out != nil {
		_ = s.out.Close()
	}
	return problems
}

// anyAlive reports whether a process of list still runs (zombies do not count).
func anyAlive(list []Proc) bool {
	for _, p := range list {
		if cur, ok := sameProc(p); ok && cur.State != 'Z' {
			return true
		}
	}
	return false
}
