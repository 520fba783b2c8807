package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testchild"
)

// Binaries the tests run: ours (built once in TestMain) and the Python
// oracle from Debian's supervisor package.
var (
	ourCtl     string
	ourDaemon  string
	pyCtl      = "/usr/bin/supervisorctl"
	pyDaemon   = "/usr/bin/supervisord"
	buildError error
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gosupctl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// in dir/bin: the config search looks in ../etc and .. of the binary
	ourCtl = filepath.Join(dir, "bin", "supervisorctl")
	ourDaemon = filepath.Join(dir, "bin", "supervisord")
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	for _, b := range []struct{ out, pkg string }{{ourCtl, "."}, {ourDaemon, "../supervisord"}} {
		build := exec.Command(gobin, "build", "-o", b.out, b.pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			buildError = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
			break
		}
	}
	if err := testchild.BecomeSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return m.Run()
}

func needBinaries(t *testing.T) {
	t.Helper()
	if buildError != nil {
		t.Fatal(buildError)
	}
}

func needOracle(t *testing.T) {
	t.Helper()
	for _, p := range []string{pyCtl, pyDaemon} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("Python supervisor not installed (%s): apt-get install supervisor", p)
		}
	}
}

// ctlResult is what a supervisorctl user sees.
type ctlResult struct {
	Stdout, Stderr string
	Exit           int
}

// ctlRun is one supervisorctl invocation.
type ctlRun struct {
	args  []string
	stdin string
	// interrupt: send SIGINT after this long (tail -f), and not before
	// the client printed something: a loaded box may take longer than
	// that to print what it has to follow.
	interrupt time.Duration
	dir       string // working directory
}

// runCtl runs bin with r's arguments, in a new session (no controlling
// terminal, so getpass falls back to stdin for both clients).
func runCtl(t *testing.T, bin string, r ctlRun) ctlResult {
	t.Helper()
	cmd := exec.Command(bin, r.args...)
	cmd.Dir = r.dir
	cmd.Stdin = strings.NewReader(r.stdin)
	var out, errOut testchild.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timer <-chan time.Time
	if r.interrupt > 0 {
		timer = time.After(r.interrupt)
	}
	deadline := time.After(30 * time.Second)
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-timer:
			if out.String() == "" && errOut.String() == "" {
				timer = time.After(20 * time.Millisecond)
				continue
			}
			cmd.Process.Signal(os.Interrupt)
		case <-deadline:
			cmd.Process.Kill()
			<-done
			t.Fatalf("%s %q: still running after 30s; stdout %q", bin, r.args, out.String())
		}
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %q: %v", bin, r.args, err)
	}
	return ctlResult{Stdout: out.String(), Stderr: errOut.String(), Exit: code}
}

var (
	uptimeRe = regexp.MustCompile(`uptime \d+:\d\d:\d\d`)
	// the stop time supervisord shows for a stopped or exited process
	stopTimeRe = regexp.MustCompile(`\b[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M\b`)
)

// normalize removes what legitimately differs between two runs: the
// temporary directory, the program name in usage text, uptimes and stop
// times. Pids are kept: both clients talk to the same daemon.
func normalize(s, dir, prog string) string {
	if dir != "" {
		s = strings.ReplaceAll(s, dir, "{dir}")
	}
	if prog != "" {
		s = strings.ReplaceAll(s, prog, "{prog}")
	}
	s = uptimeRe.ReplaceAllString(s, "uptime {uptime}")
	return stopTimeRe.ReplaceAllString(s, "{stoptime}")
}

// assertNoChildren fails if a process started by the tests is still there.
func assertNoChildren(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		left := testchild.Children()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes left behind: %v", left)
			return
		}
		// reap anything re-parented to us
		var ws syscall.WaitStatus
		for {
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deadSocket creates a unix socket file nobody listens on (connections
// to it are refused).
func deadSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("listen %s: %v", path, err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
}

// pyZygote runs Python's supervisorctl through testdata/pyctl_zygote.py:
// a preloaded interpreter that forks one child per command line, so a
// run costs a fork instead of an interpreter start-up (the table would
// otherwise take minutes on a loaded 2-core box).
type pyZygote struct {
	t    *testing.T
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	dir  string
	runs int
}

func startZygote(t *testing.T) *pyZygote {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", "-u", "testdata/pyctl_zygote.py")
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start python zygote: %v", err)
	}
	z := &pyZygote{t: t, cmd: cmd, in: in, out: bufio.NewReader(out), dir: t.TempDir()}
	t.Cleanup(z.close)
	return z
}

// close ends the zygote and waits for it.
func (z *pyZygote) close() {
	if z.in != nil {
		z.in.Close()
		z.cmd.Wait()
		z.in = nil
	}
}

// run is runCtl for Python's supervisorctl.
func (z *pyZygote) run(r ctlRun) ctlResult { return z.runOn(r, "") }

// runOn runs Python's supervisorctl with stdin, stdout and stderr on the
// terminal tty (its controlling terminal) when tty is not "".
func (z *pyZygote) runOn(r ctlRun, tty string) ctlResult {
	z.t.Helper()
	z.runs++
	base := filepath.Join(z.dir, strconv.Itoa(z.runs))
	files := map[string]string{"stdin": base + ".in", "stdout": base + ".out", "stderr": base + ".err"}
	for name, p := range files {
		content := ""
		if name == "stdin" {
			content = r.stdin
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			z.t.Fatal(err)
		}
	}
	args := r.args
	if args == nil {
		args = []string{}
	}
	if tty != "" {
		files = map[string]string{"stdin": tty, "stdout": tty, "stderr": tty}
	}
	req, err := json.Marshal(map[string]any{"args": args, "cwd": r.dir,
		"stdin": files["stdin"], "stdout": files["stdout"], "stderr": files["stderr"]})
	if err != nil {
		z.t.Fatal(err)
	}
	if _, err := z.in.Write(append(req, '\n')); err != nil {
		z.t.Fatalf("python zygote: %v", err)
	}
	var started struct{ Pid int }
	z.readReply(&started)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		var timer <-chan time.Time
		if r.interrupt > 0 {
			timer = time.After(r.interrupt)
		}
		deadline := time.After(30 * time.Second)
		for {
			select {
			case <-timer:
				if tty == "" && !printed(files["stdout"], files["stderr"]) {
					timer = time.After(20 * time.Millisecond)
					continue
				}
				syscall.Kill(started.Pid, syscall.SIGINT)
			case <-deadline:
				syscall.Kill(started.Pid, syscall.SIGKILL)
			case <-stop:
			}
			return
		}
	}()
	var ended struct{ Exit int }
	z.readReply(&ended)
	if tty != "" {
		return ctlResult{Exit: ended.Exit}
	}
	stdout, err1 := os.ReadFile(files["stdout"])
	stderr, err2 := os.ReadFile(files["stderr"])
	if err1 != nil || err2 != nil {
		z.t.Fatalf("python supervisorctl output: %v %v", err1, err2)
	}
	return ctlResult{Stdout: string(stdout), Stderr: string(stderr), Exit: ended.Exit}
}

// printed reports whether any of the files holds output.
func printed(files ...string) bool {
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
			return true
		}
	}
	return false
}

func (z *pyZygote) readReply(v any) {
	z.t.Helper()
	line, err := z.out.ReadBytes('\n')
	if err != nil {
		z.t.Fatalf("python zygote died: %v", err)
	}
	if err := json.Unmarshal(line, v); err != nil {
		z.t.Fatalf("python zygote reply %q: %v", line, err)
	}
}
