package testchild

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
)

// stNosuid is ST_NOSUID in statfs(2) flags.
const stNosuid = 0x2

// SetuidDir makes a directory with permissions perm, named prefix plus a
// random suffix, on a file system that honours setuid bits (TMPDIR,
// /var/tmp or the working directory, the first that does) and removes it
// when the test ends. ok is false when none of them honours setuid bits.
func SetuidDir(t testing.TB, prefix string, perm os.FileMode) (dir string, ok bool) {
	t.Helper()
	wd, _ := os.Getwd()
	for _, base := range []string{os.TempDir(), "/var/tmp", wd} {
		var st syscall.Statfs_t
		if err := syscall.Statfs(base, &st); err != nil || st.Flags&stNosuid != 0 {
			continue
		}
		dir, err := os.MkdirTemp(base, prefix)
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, perm); err != nil {
			t.Fatal(err)
		}
		return dir, true
	}
	return "", false
}

// CopyFile copies from to to, created (or truncated) with mode.
func CopyFile(t testing.TB, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// SetuidCopy copies the running test binary to path, owned by root with
// mode 0755 and the setuid bit: whoever runs it may make it root
// (BecomeRoot). The test must run as root, on a file system that honours
// setuid bits (SetuidDir).
func SetuidCopy(t testing.TB, path string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	CopyFile(t, exe, path, 0o755)
	if err := os.Chown(path, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
}

// BecomeRoot, run in a setuid-root copy of a test binary (SetuidCopy),
// takes uid 0 as the real and saved uid too, so that a parent running as
// another user may no longer signal the process, and prints "uid=0", the
// line the tests wait for.
func BecomeRoot() error {
	if err := syscall.Setresuid(0, 0, 0); err != nil {
		return fmt.Errorf("setresuid: %w", err)
	}
	fmt.Printf("uid=%d\n", os.Getuid())
	return nil
}
