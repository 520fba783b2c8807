package reliability

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testchild"
	"github.com/kolo/xmlrpc"
)

// flavor is one supervisord implementation under test.
type flavor struct {
	name string // "ours" or "python"
	bin  string
}

// flavors is ours, plus Python's when -python is given and installed.
func flavors(t *testing.T) []flavor {
	out := []flavor{{"ours", ourBin}}
	if *pythonFlag {
		if _, err := os.Stat(pyBin); err != nil {
			t.Logf("-python: %s missing, running ours only", pyBin)
		} else {
			out = append(out, flavor{"python", pyBin})
		}
	}
	return out
}

// eachFlavor runs f as a subtest per flavor.
func eachFlavor(t *testing.T, f func(t *testing.T, fl flavor)) {
	for _, fl := range flavors(t) {
		t.Run(fl.name, func(t *testing.T) { f(t, fl) })
	}
}

// setup describes one daemon's config.
type setup struct {
	extra    string // lines for [supervisord]
	programs string // sections appended to the config
	user     string // basic auth on both servers when set
	password string
	inet     bool   // also serve [inet_http_server] on a loopback port
	chmod    string // [unix_http_server] chmod
	chown    string // [unix_http_server] chown
	metrics  bool   // ours only: metrics=true on the unix socket (GET /metrics)
	nofile   uint64 // RLIMIT_NOFILE (soft and hard) of the daemon; 0: inherited
	dir      string // "" : t.TempDir()
	loglevel string // default "info"
	// logDir holds the main log and the child logs when set (else dir).
	logDir string
	// wrap returns the command line that runs the daemon's argv (for
	// unshare, prlimit...); it must exec the daemon in place.
	wrap func(argv []string) []string
}

// daemon is one running supervisord.
type daemon struct {
	t        *testing.T
	fl       flavor
	dir      string
	conf     string
	sock     string
	inetAddr string // host:port when setup.inet
	logfile  string
	user     string
	password string
	cmd      *exec.Cmd
	pid      int
	out      *testchild.Buffer
	done     chan struct{}
	status   syscall.WaitStatus
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeConfig writes supervisord.conf for s into dir and returns its path.
func writeConfig(t *testing.T, s setup, dir string, port int) string {
	t.Helper()
	var b strings.Builder
	auth := ""
	if s.user != "" {
		auth = fmt.Sprintf("username=%s\npassword=%s\n", s.user, s.password)
	}
	chmod := ""
	if s.chmod != "" {
		chmod = "chmod=" + s.chmod + "\n"
	}
	if s.chown != "" {
		chmod += "chown=" + s.chown + "\n"
	}
	if s.metrics {
		chmod += "metrics=true\n"
	}
	fmt.Fprintf(&b, "[unix_http_server]\nfile=%s\n%s%s\n", filepath.Join(dir, "s.sock"), chmod, auth)
	if s.inet {
		fmt.Fprintf(&b, "[inet_http_server]\nport=127.0.0.1:%d\n%s\n", port, auth)
	}
	level := s.loglevel
	if level == "" {
		level = "info"
	}
	logfile, childlogs := filepath.Join(dir, "supervisord.log"), filepath.Join(dir, "childlogs")
	if s.logDir != "" {
		logfile, childlogs = filepath.Join(s.logDir, "supervisord.log"), s.logDir
	}
	fmt.Fprintf(&b, "[supervisord]\nlogfile=%s\npidfile=%s\nchildlogdir=%s\nloglevel=%s\n%s\n",
		logfile, filepath.Join(dir, "supervisord.pid"), childlogs, level, s.extra)
	b.WriteString("[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n")
	b.WriteString(s.programs)
	conf := filepath.Join(dir, "supervisord.conf")
	if err := os.MkdirAll(childlogs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// start runs fl in the foreground on s and waits until it answers.
func start(t *testing.T, fl flavor, s setup) *daemon {
	t.Helper()
	d := startNoWait(t, fl, s)
	d.waitUp()
	return d
}

// startNoWait runs fl in the foreground on s.
func startNoWait(t *testing.T, fl flavor, s setup) *daemon {
	t.Helper()
	s.metrics = s.metrics && fl.name == "ours" // Python has no /metrics
	dir := s.dir
	if dir == "" {
		dir = t.TempDir()
	}
	port := 0
	if s.inet {
		port = freePort(t)
	}
	d := &daemon{t: t, fl: fl, dir: dir, conf: writeConfig(t, s, dir, port), sock: filepath.Join(dir, "s.sock"),
		user: s.user, password: s.password, out: &testchild.Buffer{}, done: make(chan struct{}),
		logfile: filepath.Join(dir, "supervisord.log")}
	if s.logDir != "" {
		d.logfile = filepath.Join(s.logDir, "supervisord.log")
	}
	if s.inet {
		d.inetAddr = fmt.Sprintf("127.0.0.1:%d", port)
	}
	args := []string{fl.bin, "-n", "-c", d.conf}
	if s.nofile != 0 {
		n := strconv.FormatUint(s.nofile, 10)
		args = append([]string{"prlimit", "--nofile=" + n + ":" + n, "--"}, args...)
	}
	if s.wrap != nil {
		args = s.wrap(args)
	}
	d.cmd = exec.Command(args[0], args[1:]...)
	d.cmd.Dir = dir
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.pid = d.cmd.Process.Pid // prlimit execs the daemon in place
	go func() {
		d.cmd.Wait()
		if ws, ok := d.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			d.status = ws
		}
		close(d.done)
	}()
	t.Cleanup(d.kill)
	return d
}

// waitUp waits until the daemon answers getState with RUNNING.
func (d *daemon) waitUp() {
	t, fl := d.t, d.fl
	t.Helper()
	waitFor(t, 60*time.Second, fl.name+" supervisord to answer", func() bool {
		select {
		case <-d.done:
			t.Fatalf("%s supervisord exited during startup (%v): %s\n%s", fl.name, d.status, d.out, d.mainLog())
		default:
		}
		var st struct {
			Code int `xmlrpc:"statecode"`
		}
		return d.call("supervisor.getState", nil, &st) == nil && st.Code == 1
	})
}

func (d *daemon) mainLog() string {
	b, _ := os.ReadFile(d.path(d.logfile))
	return string(b)
}

// path is a file path as the daemon sees it: through /proc/PID/root while
// it runs (it may live in its own mount namespace).
func (d *daemon) path(p string) string {
	if d.exited() {
		return p
	}
	return filepath.Join("/proc", strconv.Itoa(d.pid), "root", p)
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for the daemon to exit; it returns how
// long that took.
func (d *daemon) stop(limit time.Duration) time.Duration {
	d.t.Helper()
	t0 := time.Now()
	syscall.Kill(d.pid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(limit):
		d.t.Errorf("%s supervisord did not exit within %v of SIGTERM", d.fl.name, limit)
		d.kill()
	}
	return time.Since(t0)
}

// kill ends the daemon (SIGKILL after a grace period) and anything left.
func (d *daemon) kill() {
	select {
	case <-d.done:
	default:
		syscall.Kill(d.pid, syscall.SIGCONT)
		syscall.Kill(d.pid, syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(30 * time.Second):
			syscall.Kill(d.pid, syscall.SIGKILL)
			<-d.done
		}
	}
	killLeftovers(d.t)
}

// transport dials the unix socket (inet false) or the loopback port.
func (d *daemon) transport(inet bool) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var nd net.Dialer
			if inet {
				return nd.DialContext(ctx, "tcp", d.inetAddr)
			}
			return nd.DialContext(ctx, "unix", d.sock)
		},
		MaxIdleConnsPerHost: 4,
	}
}

func (d *daemon) url() string {
	if d.user != "" {
		return fmt.Sprintf("http://%s:%s@localhost/RPC2", d.user, d.password)
	}
	return "http://localhost/RPC2"
}

// call makes one XML-RPC call on a fresh connection, as supervisorctl does.
func (d *daemon) call(method string, args, reply any) error {
	tr := d.transport(false)
	defer tr.CloseIdleConnections()
	c, err := xmlrpc.NewClient(d.url(), tr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Call(method, args, reply)
}

// mustCall is call that fails the test on error.
func (d *daemon) mustCall(method string, args, reply any) {
	d.t.Helper()
	if err := d.call(method, args, reply); err != nil {
		d.t.Fatalf("%s %s: %v", d.fl.name, method, err)
	}
}

type procInfo struct {
	Name          string `xmlrpc:"name"`
	Group         string `xmlrpc:"group"`
	State         int    `xmlrpc:"state"`
	StateName     string `xmlrpc:"statename"`
	PID           int    `xmlrpc:"pid"`
	Description   string `xmlrpc:"description"`
	SpawnErr      string `xmlrpc:"spawnerr"`
	ExitStatus    int    `xmlrpc:"exitstatus"`
	Start         int    `xmlrpc:"start"`
	Stop          int    `xmlrpc:"stop"`
	Now           int    `xmlrpc:"now"`
	StdoutLogfile string `xmlrpc:"stdout_logfile"`
}

func (d *daemon) infos() ([]procInfo, error) {
	var list []procInfo
	err := d.call("supervisor.getAllProcessInfo", nil, &list)
	return list, err
}

// countStates returns how many processes are in each state.
func (d *daemon) countStates() map[string]int {
	d.t.Helper()
	list, err := d.infos()
	if err != nil {
		d.t.Fatalf("%s getAllProcessInfo: %v", d.fl.name, err)
	}
	m := map[string]int{}
	for _, p := range list {
		m[p.StateName]++
	}
	return m
}

// waitStates waits until every process is in state want.
func (d *daemon) waitAll(limit time.Duration, want string, n int) {
	d.t.Helper()
	waitFor(d.t, limit, fmt.Sprintf("%d processes %s", n, want), func() bool {
		list, err := d.infos()
		if err != nil || len(list) != n {
			return false
		}
		for _, p := range list {
			if p.StateName != want {
				return false
			}
		}
		return true
	})
}

// minWait is the least a wait here allows: a loaded 2-core box (CI) can
// take tens of seconds for what takes milliseconds when idle.
const minWait = time.Minute

// waitFor polls cond until it holds or limit (at least minWait) passes (a
// bound for a hung test, never a performance assertion).
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	limit = max(limit, minWait)
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// figure records one measured figure in the test log, in a form
// README's table is built from: "FIGURE <scenario> <flavor> <name>=<value>".
func figure(t *testing.T, fl flavor, name string, value any) {
	t.Helper()
	t.Logf("FIGURE %s %s %s=%v", t.Name(), fl.name, name, value)
}

// waitFile waits until path exists: a file a child writes once it is ready
// (a signal ignored), which RUNNING (startsecs=0: at spawn) does not say.
func waitFile(t *testing.T, path string) {
	t.Helper()
	waitFor(t, 60*time.Second, path, func() bool {
		_, err := os.Stat(path)
		return err == nil
	})
}
