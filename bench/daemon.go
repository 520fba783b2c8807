package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Process states as getProcessInfo reports them.
const (
	StateStopped  = 0
	StateStarting = 10
	StateRunning  = 20
	StateBackoff  = 30
	StateStopping = 40
	StateExited   = 100
	StateFatal    = 200
)

// Spec names a daemon binary and how to start it in the foreground.
type Spec struct {
	Name string   // label in the tables: "python", "ours"
	Path string   // the supervisord binary
	Args []string // arguments; "{conf}" is replaced by the config path
}

// DefaultArgs starts a supervisord in the foreground on a config.
var defaultArgs = []string{"-n", "-c", "{conf}"}

// ParseSpecs parses "name=path[,name=path...]". An empty path means "build
// ours" and is left empty for the caller to fill in.
func ParseSpecs(s string, args []string) ([]Spec, error) {
	if len(args) == 0 {
		args = defaultArgs
	}
	var out []Spec
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, path, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " /\t") {
			return nil, fmt.Errorf("daemon spec %q: want name=path", part)
		}
		if seen[name] {
			return nil, fmt.Errorf("daemon spec %q: duplicate name %q", part, name)
		}
		seen[name] = true
		out = append(out, Spec{Name: name, Path: strings.TrimSpace(path), Args: args})
	}
	if len(out) == 0 {
		return nil, errors.New("no daemons given")
	}
	return out, nil
}

// Program is one [program:x] section: its name and options, written in
// sorted key order.
type Program struct {
	Name    string
	Options map[string]string
}

// SleepPrograms returns n programs running /bin/sleep named p0000...
func SleepPrograms(n int, extra map[string]string) []Program {
	progs := make([]Program, n)
	for i := range progs {
		o := map[string]string{
			"command":      "/bin/sleep 100000",
			"startsecs":    "0",
			"autostart":    "true",
			"autorestart":  "true",
			"stopwaitsecs": "10",
		}
		for k, v := range extra {
			o[k] = v
		}
		progs[i] = Program{Name: fmt.Sprintf("p%04d", i), Options: o}
	}
	return progs
}

// Layout is where a daemon's files live inside its temp dir.
type Layout struct {
	Dir      string
	Conf     string
	Sock     string
	MainLog  string
	ChildLog string // childlogdir (AUTO logs)
	Logs     string // explicit per-program logs the benchmarks inspect
	MinFDs   int    // minfds= in [supervisord]; 0 means 10000
	MinProcs int    // minprocs= in [supervisord]; 0 means 4000
}

// NewLayout names the files of a daemon in dir.
func NewLayout(dir string) Layout {
	return Layout{
		Dir:      dir,
		Conf:     filepath.Join(dir, "supervisord.conf"),
		Sock:     filepath.Join(dir, "s.sock"),
		MainLog:  filepath.Join(dir, "supervisord.log"),
		ChildLog: filepath.Join(dir, "childlogs"),
		Logs:     filepath.Join(dir, "logs"),
	}
}

// Config renders a supervisord.conf for the layout: unix socket only,
// main log and child logs in the temp dir, then the programs in order.
// Unless a program sets them, stdout goes to Logs/<name>.log and stderr is
// redirected into it (as ../shared/bench configures them).
func (l Layout) Config(progs []Program) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[unix_http_server]\nfile=%s\nchmod=0700\n\n", l.Sock)
	fmt.Fprintf(&b, "[supervisord]\nlogfile=%s\nlogfile_maxbytes=50MB\nlogfile_backups=2\nloglevel=info\n", l.MainLog)
	minfds := l.MinFDs
	if minfds <= 0 {
		minfds = 10000
	}
	minprocs := l.MinProcs
	if minprocs <= 0 {
		minprocs = 4000
	}
	fmt.Fprintf(&b, "pidfile=%s\nchildlogdir=%s\nnodaemon=true\nminfds=%d\nminprocs=%d\n\n",
		filepath.Join(l.Dir, "supervisord.pid"), l.ChildLog, minfds, minprocs)
	b.WriteString("[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n")
	fmt.Fprintf(&b, "[supervisorctl]\nserverurl=unix://%s\n\n", l.Sock)
	for _, p := range progs {
		fmt.Fprintf(&b, "[program:%s]\n", p.Name)
		opts := map[string]string{
			"stdout_logfile":  filepath.Join(l.Logs, p.Name+".log"),
			"redirect_stderr": "true",
		}
		for k, v := range p.Options {
			opts[k] = v
		}
		keys := make([]string, 0, len(opts))
		for k := range opts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%s\n", k, opts[k])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Daemon is one running supervisord under measurement.
type Daemon struct {
	Spec     Spec
	Layout   Layout
	cmd      *exec.Cmd
	out      *os.File
	Launched time.Time // just before fork
	done     chan struct{}
	exited   time.Time // when Wait returned
	waitErr  error
}

// Launch writes the config for progs into dir and starts the daemon in the
// foreground, its output in dir/daemon.out.
func Launch(spec Spec, dir string, progs []Program) (*Daemon, error) {
	return LaunchConfig(spec, dir, func(l Layout) string { return l.Config(progs) })
}

// LaunchConfig is Launch with the config text made by conf.
func LaunchConfig(spec Spec, dir string, conf func(Layout) string) (*Daemon, error) {
	l := NewLayout(dir)
	for _, d := range []string{l.ChildLog, l.Logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("make %s: %w", d, err)
		}
	}
	if err := os.WriteFile(l.Conf, []byte(conf(l)), 0o644); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	out, err := os.Create(filepath.Join(dir, "daemon.out"))
	if err != nil {
		return nil, fmt.Errorf("create daemon.out: %w", err)
	}
	args := make([]string, len(spec.Args))
	for i, a := range spec.Args {
		args[i] = strings.ReplaceAll(a, "{conf}", l.Conf)
	}
	cmd := exec.Command(spec.Path, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	d := &Daemon{Spec: spec, Layout: l, cmd: cmd, out: out, done: make(chan struct{})}
	d.Launched = time.Now()
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", spec.Path, err)
	}
	go func() {
		d.waitErr = cmd.Wait()
		d.exited = time.Now()
		close(d.done)
	}()
	return d, nil
}

// Pid is the daemon's process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Exited reports whether the daemon process has exited (and been reaped).
func (d *Daemon) Exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// Done is closed once the daemon has exited and been reaped.
func (d *Daemon) Done() <-chan struct{} { return d.done }

// ExitedAt is when the daemon was reaped (zero while it runs).
func (d *Daemon) ExitedAt() time.Time {
	if !d.Exited() {
		return time.Time{}
	}
	return d.exited
}

// Output is the tail of the daemon's stdout/stderr, for error messages.
func (d *Daemon) Output() string {
	data, _ := os.ReadFile(filepath.Join(d.Layout.Dir, "daemon.out"))
	if len(data) > 800 {
		data = data[len(data)-800:]
	}
	return string(data)
}

// Client returns a fresh raw client on the daemon's socket.
func (d *Daemon) Client(timeout time.Duration) *Client {
	return NewClient(d.Layout.Sock, timeout)
}

// WaitAnswer tries to connect every interval until the socket accepts,
// then sends getState and waits for the answer (keeping exactly one request
// pending, so a busy daemon is not handed a pile of abandoned ones), and
// returns how long after launch the answer came.
func (d *Daemon) WaitAnswer(timeout, interval time.Duration) (time.Duration, error) {
	req := NewRequest(MethodCall("supervisor.getState"))
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if d.Exited() {
			return 0, fmt.Errorf("%s exited early (%v): %s", d.Spec.Name, d.waitErr, d.Output())
		}
		c := d.Client(time.Until(deadline))
		if err := c.dial(); err != nil {
			last = err
			time.Sleep(interval)
			continue
		}
		body, err := c.Do(req)
		c.Close()
		if err == nil {
			if err = Decode(body, nil); err == nil {
				return time.Since(d.Launched), nil
			}
		}
		last = err
		time.Sleep(interval)
	}
	return 0, fmt.Errorf("%s: socket did not answer within %v: %v: %s", d.Spec.Name, timeout, last, d.Output())
}

// WaitStates polls getAllProcessInfo every interval until at least n
// processes are in one of want, and returns the time since launch and the
// number of polls.
func (d *Daemon) WaitStates(n int, want []int, timeout, interval time.Duration) (time.Duration, int, error) {
	req := NewRequest(MethodCall("supervisor.getAllProcessInfo"))
	c := d.Client(timeout)
	defer c.Close()
	deadline := time.Now().Add(timeout)
	polls := 0
	var last string
	for time.Now().Before(deadline) {
		if d.Exited() {
			return 0, polls, fmt.Errorf("%s exited (%v): %s", d.Spec.Name, d.waitErr, d.Output())
		}
		body, err := c.Do(req)
		if err == nil {
			polls++
			match, total := CountStates(body, want...)
			if match >= n {
				return time.Since(d.Launched), polls, nil
			}
			last = fmt.Sprintf("%d of %d in %v", match, total, want)
		} else {
			last = err.Error()
		}
		time.Sleep(interval)
	}
	return 0, polls, fmt.Errorf("%s: %d processes not in %v within %v (last: %s)", d.Spec.Name, n, want, timeout, last)
}

// Signal sends sig to the daemon.
func (d *Daemon) Signal(sig syscall.Signal) error {
	if err := d.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %v to %s: %w", sig, d.Spec.Name, err)
	}
	return nil
}

// Stop ends the daemon: SIGTERM, up to grace for it to exit, then SIGKILL.
// It reports whether the daemon exited on its own within grace.
func (d *Daemon) Stop(grace time.Duration) bool {
	if d.Exited() {
		d.out.Close()
		return true
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	clean := true
	select {
	case <-d.done:
	case <-time.After(grace):
		clean = false
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	d.out.Close()
	return clean
}
