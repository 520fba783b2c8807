package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testchild"
)

// TestUnsignalableChild: the daemon runs as nobody (user=nobody) and one
// of its children makes itself root through a setuid-root copy of the
// test binary, so every signal the daemon sends it fails with EPERM.
// stopProcess answers (the process goes UNKNOWN, as in Python), the other
// programs stop, and on SIGTERM the daemon exits, logging what it left
// behind and why, instead of waiting forever.
func TestUnsignalableChild(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root: the daemon drops to nobody and its child becomes root again")
	}
	eachFlavor(t, func(t *testing.T, fl flavor) {
		// Everyone may use the directory: the daemon drops to nobody.
		dir, ok := testchild.SetuidDir(t, "reliability-suid-", 0o777)
		if !ok {
			t.Skip("no file system here honours setuid bits")
		}
		helper := filepath.Join(dir, "helper")
		testchild.SetuidCopy(t, helper)
		progs := fmt.Sprintf(`[program:rootchild]
command=%s
environment=%s="becomeroot"
startsecs=0
stopwaitsecs=1
autorestart=false

[program:plain]
command=sleep 1000
startsecs=0
stopwaitsecs=1
`, helper, helperEnv)
		// The child logs go where nobody may create them.
		logs := filepath.Join(dir, "logs")
		os.Mkdir(logs, 0o777)
		os.Chmod(logs, 0o777)
		d := start(t, fl, setup{dir: dir, logDir: logs, extra: "user=nobody", programs: progs})
		p := d.waitState(30*time.Second, "rootchild:rootchild", "RUNNING")
		t.Cleanup(func() { reapRoot(p.PID) }) // root may; the daemon cannot
		d.waitState(30*time.Second, "plain:plain", "RUNNING")
		waitFor(t, 30*time.Second, "the child to become root", func() bool {
			return statusField(p.PID, "Uid") == 0 && strings.Contains(readFile(p.StdoutLogfile), "uid=0")
		})
		if statusField(d.pid, "Uid") != 65534 {
			t.Fatalf("the daemon runs as uid %d, want nobody", statusField(d.pid, "Uid"))
		}

		err := d.call("supervisor.stopProcess", []any{"rootchild", true}, nil)
		figure(t, fl, "stopProcess", strings.SplitN(fmt.Sprint(err), "\n", 2)[0])
		after := d.states()["rootchild:rootchild"]
		figure(t, fl, "state_after_stop", after.StateName)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "operation not permitted") {
			t.Errorf("stopProcess(rootchild) = %v, want a FAILED fault naming EPERM", err)
		}
		if fl.name == "ours" && after.StateName != "UNKNOWN" {
			t.Errorf("rootchild is %s after the failed stop, want UNKNOWN (Python's state)", after.StateName)
		}
		var r any
		d.mustCall("supervisor.stopProcess", []any{"plain", true}, &r)

		t0 := time.Now()
		syscall.Kill(d.pid, syscall.SIGTERM)
		exited := false
		select {
		case <-d.done:
			exited = true
		case <-time.After(60 * time.Second):
		}
		figure(t, fl, "exited_after_sigterm", exited)
		figure(t, fl, "exit_s", fmt.Sprintf("%.2f", time.Since(t0).Seconds()))
		logged := d.out.String()
		figure(t, fl, "left_behind_logged", strings.Contains(logged, "left behind"))
		if fl.name != "ours" {
			return // Python: a figure (it may never exit: it retries the kill)
		}
		if !exited {
			t.Fatalf("the daemon did not exit within 60 s of SIGTERM:\n%s", logged)
		}
		want := fmt.Sprintf("CRIT left behind: 'rootchild' (pid %d) could not be killed: EPERM", p.PID)
		if !strings.Contains(logged, want) {
			t.Errorf("the main log lacks %q:\n%s", want, logged)
		}
	})
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// reapRoot kills a child that made itself root (the daemon could not)
// and reaps it once it is re-parented to the test.
func reapRoot(pid int) {
	syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		st, ok := readStat(pid)
		if !ok {
			return
		}
		if st.ppid == os.Getpid() {
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, 0, nil)
			return
		}
	}
}
