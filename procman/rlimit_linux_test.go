package procman

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// TestRlimits: the child runs with the configured limits (raised above
// supervisord's hard limit when root), its own pid, and, with user=, the
// dropped privileges; a limit the kernel refuses fails the spawn as
// Python's child failures do.
func TestRlimits(t *testing.T) {
	var cur syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &cur); err != nil {
		t.Fatal(err)
	}
	root := os.Getuid() == 0
	nofileHard := cur.Max
	if hasCapSysResource(t) {
		nofileHard = cur.Max + 10 // above our own hard limit: needs the helper to set it before setuid
	}
	script := `echo pid=$$; ulimit -Sn; ulimit -Hn; ulimit -Sc; ulimit -Hc; ulimit -Su; ulimit -Hu; id -u; umask; pwd; echo "E=$E"`
	cases := []struct {
		name   string
		limits []config.Rlimit
		user   bool
		want   []string
	}{
		{"limits", []config.Rlimit{{Name: "nofile", Soft: 100, Hard: nofileHard}, {Name: "core", Soft: 0, Hard: config.RlimInfinity}, {Name: "nproc", Soft: 512, Hard: 1024}},
			false, []string{"100", uitoa(nofileHard), "0", "unlimited", "512", "1024", "0", "0027", "/", "E=x"}},
		{"default nofile is supervisord's", []config.Rlimit{{Name: "core", Soft: 0, Hard: 0}},
			false, []string{uitoa(cur.Cur), uitoa(cur.Max), "0", "0"}},
	}
	if root {
		cases = append(cases, struct {
			name   string
			limits []config.Rlimit
			user   bool
			want   []string
		}{"user", []config.Rlimit{{Name: "nofile", Soft: nofileHard, Hard: nofileHard}}, true,
			[]string{uitoa(nofileHard), uitoa(nofileHard), "", "", "", "", "65534"}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, rec := newTestSupervisor(t, Options{})
			out := newLineSink()
			s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out, Stderr: out} }
			p := proc("x")
			p.Command = "/bin/bash -c '" + script + "'"
			p.Startsecs = 0
			p.Rlimits = c.limits
			p.Directory = "/"
			umask := os.FileMode(0o027)
			p.Umask = &umask
			p.Environment = append(p.Environment, config.EnvVar{Key: "E", Value: "x"})
			if c.user {
				p.User = &config.User{Name: "nobody", UID: 65534, GID: 65534}
			}
			if err := s.AddGroup(homogeneous(p)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Start(bg, "x", true); err != nil {
				t.Fatal(err)
			}
			// The program runs in the pid that was spawned (the helper
			// execs in place).
			pidLine := out.next(t)
			if !rec.hasLog("INFO spawned: 'x' with pid " + strings.TrimPrefix(pidLine, "pid=")) {
				t.Errorf("first line %q is not the spawned pid: %q", pidLine, rec.logLines())
			}
			for i, w := range c.want {
				got := out.next(t)
				if w != "" && got != w {
					t.Errorf("line %d: %q, want %q", i+2, got, w)
				}
			}
			rec.waitState(t, "x", Exited, 10*time.Second)
		})
	}

	t.Run("refused", func(t *testing.T) {
		s, rec := newTestSupervisor(t, Options{})
		errOut := &BufferSink{}
		s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stderr: errOut} }
		p := proc("x", "exit", "0")
		p.Startretries = 0
		p.Rlimits = []config.Rlimit{{Name: "nofile", Soft: config.RlimInfinity, Hard: config.RlimInfinity}}
		if err := s.AddGroup(homogeneous(p)); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.Start(bg, "x", true)
		wantFault(t, err, ErrSpawnError, "x")
		rec.waitState(t, "x", Fatal, 10*time.Second)
		errOut.Wait()
		if !strings.HasPrefix(errOut.String(), "supervisor: couldn't set rlimit nofile=unlimited: E") ||
			!strings.HasSuffix(errOut.String(), "\nsupervisor: child process was not spawned\n") {
			t.Errorf("stderr %q", errOut.String())
		}
		if !rec.hasLog("WARN exited: x (exit status 127; not expected)") {
			t.Errorf("logs %q", rec.logLines())
		}
	})
}

func uitoa(n uint64) string {
	if n == config.RlimInfinity {
		return "unlimited"
	}
	return itoa(int(n))
}

func itoa(n int) string { return strconv.Itoa(n) }

// hasCapSysResource reports whether we may raise hard limits.
func hasCapSysResource(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && n&(1<<24) != 0
		}
	}
	return false
}
