package main

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSilentCleanupIdentifier covers -s (nothing on stdout in the
// foreground), the AUTO child log cleanup and -k, and -i.
func TestSilentCleanupIdentifier(t *testing.T) {
	e := newEnv(t, "", map[string]string{"a": progA})
	old := filepath.Join(e.dir, "childlogs", "a-stdout---e2e-abcd1234.log")
	oldBackup := old + ".1"
	other := filepath.Join(e.dir, "childlogs", "a-stdout---other-abcd1234.log")
	for _, p := range []string{old, oldBackup, other} {
		e.write(strings.TrimPrefix(p, e.dir+"/"), "x")
	}

	d := e.startForeground("-s", "-k")
	e.waitStates(map[string]string{"a:a": "RUNNING"})
	for _, p := range []string{old, oldBackup, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("-k: %s was removed", p)
		}
	}
	d.signal(syscall.SIGTERM)
	d.wait(15 * time.Second)
	if out := d.stdout.String(); out != "" {
		t.Errorf("-s: the foreground daemon printed %q", out)
	}
	if !strings.Contains(e.mainLog(), "supervisord started with pid") {
		t.Error("-s: the main log is empty")
	}

	// -i overrides identifier=e2e: getIdentification, and the cleanup
	// takes the AUTO logs of that identifier only.
	d = e.startForeground("-i", "other")
	var id string
	if err := e.rpc("supervisor.getIdentification", nil, &id); err != nil || id != "other" {
		t.Errorf("getIdentification: %q, %v", id, err)
	}
	if _, err := os.Stat(other); err == nil {
		t.Errorf("cleanup: %s of identifier other was kept", other)
	}
	for _, p := range []string{old, oldBackup} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("cleanup removed %s of another identifier", p)
		}
	}
	if !strings.Contains(d.stdout.String(), "INFO supervisord started with pid") {
		t.Errorf("foreground without -s printed no log lines: %q", d.stdout.String())
	}
	d.signal(syscall.SIGTERM)
	d.wait(15 * time.Second)
	killLeftovers(t)
}

// TestUserDropsPrivileges: as root, user= switches the daemon (and so its
// children) to that user before anything is opened.
func TestUserDropsPrivileges(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	e := newEnv(t, "user=nobody", map[string]string{"a": progA})
	for _, p := range []string{e.dir, filepath.Join(e.dir, "childlogs")} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	// t.TempDir's parent is 0700: let nobody reach the directory.
	if err := os.Chmod(filepath.Dir(e.dir), 0o755); err != nil {
		t.Fatal(err)
	}
	d := e.startDaemonized()
	m := e.waitStates(map[string]string{"a:a": "RUNNING"})
	for _, pid := range []int{d.pid, m["a:a"].PID} {
		if uid := procUID(t, pid); uid != nobody.Uid {
			t.Errorf("pid %d runs as uid %s, want nobody (%s)", pid, uid, nobody.Uid)
		}
	}
	if !strings.Contains(e.mainLog(), "INFO Set uid to user "+nobody.Uid+" succeeded") {
		t.Errorf("no 'Set uid' line:\n%s", e.mainLog())
	}
	if strings.Contains(e.mainLog(), "Supervisor is running as root") {
		t.Error("root CRIT logged although user= was set")
	}
	e.ctlOK("Shut down", "shutdown")
	d.wait(15 * time.Second)
	killLeftovers(t)
}

// procUID returns the real uid of pid from /proc.
func procUID(t *testing.T, pid int) string {
	t.Helper()
	return procStatus(t, pid, "Uid")
}

// procStatus returns the first word of field name in /proc/<pid>/status
// ("" when there is no such field).
func procStatus(t *testing.T, pid int, name string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == name+":" {
			return f[1]
		}
	}
	return ""
}
