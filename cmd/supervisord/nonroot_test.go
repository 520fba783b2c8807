package main

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestNonRootRefusalsMatchPython runs both daemons as an unprivileged user
// (nobody) where only root could proceed: switching to another user, and
// raising the hard RLIMIT_NOFILE. Output and exit status must match.
func TestNonRootRefusalsMatchPython(t *testing.T) {
	needOracle(t)
	if os.Getuid() != 0 {
		t.Skip("needs root to run the daemons as nobody")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	e := newEnv(t, "", map[string]string{"a": progA})
	for _, p := range []string{filepath.Dir(e.dir), e.dir, filepath.Join(e.dir, "progs")} {
		os.Chmod(p, 0o755)
	}
	// The binary must be reachable by nobody too.
	bin := filepath.Join(e.dir, "supervisord")
	if b, err := os.ReadFile(ourBin); err != nil || os.WriteFile(bin, b, 0o755) != nil {
		t.Fatal("copy binary", err)
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	cases := [][]string{
		{"-n", "-u", "root", "-c", e.conf},
		{"-u", "root", "-c", e.conf},
	}
	if rl.Max < 1<<30 { // a finite hard limit nobody cannot raise
		tooMany := strconv.FormatUint(rl.Max+1, 10)
		cases = append(cases, []string{"-n", "-a", tooMany, "-c", e.conf}, []string{"-a", tooMany, "-c", e.conf})
	}
	asNobody := func(b string, args []string) (string, int) {
		cmd := exec.Command(b, args...)
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	for _, args := range cases {
		pyOut, pyCode := asNobody(pySupervisord, args)
		ourOut, ourCode := asNobody(bin, args)
		ourOut = strings.ReplaceAll(ourOut, bin, pySupervisord)
		if pyOut != ourOut || pyCode != ourCode || ourCode != 2 {
			t.Errorf("as nobody %q:\npython (%d): %q\nours   (%d): %q", args, pyCode, pyOut, ourCode, ourOut)
		}
	}
	killLeftovers(t)
}
