package handover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Check makes sure exe can take over: a regular, executable file that
// answers --gosupervisor-version (within 10 s) with a gosupervisor
// version line, which it returns.
func Check(exe string) (string, error) {
	fi, err := os.Stat(exe)
	if err != nil {
		return "", fmt.Errorf("%s: %w", exe, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", exe)
	}
	if err := syscall.Access(exe, 1 /* X_OK */); err != nil {
		return "", fmt.Errorf("%s: not executable: %w", exe, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "--gosupervisor-version")
	cmd.Env = withoutHandover(os.Environ())
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s --gosupervisor-version: %w", exe, err)
	}
	line := strings.TrimSpace(string(out))
	if !strings.HasPrefix(line, "gosupervisor ") || strings.Contains(line, "\n") {
		return "", fmt.Errorf("%s --gosupervisor-version answered %q, not a gosupervisor version", exe, line)
	}
	return line, nil
}

// Exec replaces this process image with exe, handing it st and the
// descriptors st names. It returns only when the exec failed; every
// descriptor is then as it was.
func Exec(exe string, argv []string, st *State) error {
	blob, err := st.Encode()
	if err != nil {
		return err
	}
	mem, err := memfd(blob)
	if err != nil {
		return err
	}
	defer syscall.Close(mem)
	// The running binary, open, to come back to if the new one refuses
	// the state (it may be deleted on disk by then: a package upgrade
	// replaces it).
	self, err := syscall.Open("/proc/self/exe", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("handover: open the running binary: %w", err)
	}
	defer syscall.Close(self)
	fds := append(st.FDs(), mem, self)
	if err := setCloexec(fds, false); err != nil {
		setCloexec(fds, true) //nolint:errcheck // best effort on the way back
		return err
	}
	env := append(withoutHandover(os.Environ()), Env+"="+envValue{Format, mem, self}.String())
	err = syscall.Exec(exe, argv, env)
	setCloexec(fds, true) //nolint:errcheck // best effort on the way back
	return fmt.Errorf("handover: exec %s: %w", exe, err)
}

// Taken is a hand-over a new image received.
type Taken struct {
	State *State
	env   envValue
	blob  []byte
	// Refused is set when a newer image refused this state and handed it
	// back to us (why it refused).
	Refused string
}

// Take reads the hand-over this process image was started with: nil when
// there is none. It removes the variables from the environment (children
// must not see them). A state this build cannot read is handed back at
// once to the image that wrote it (Fallback); Take returns only if that
// fails.
func Take() (*Taken, error) {
	v, ok := os.LookupEnv(Env)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(Env)
	refused, _ := os.LookupEnv(RefusedEnv)
	os.Unsetenv(RefusedEnv)
	ev, err := parseEnv(v)
	if err != nil {
		return nil, err
	}
	blob, err := readAll(ev.memfd)
	t := &Taken{env: ev, blob: blob, Refused: refused}
	if err == nil && ev.format != Format {
		err = fmt.Errorf("handover: state format %q, this build reads %q", ev.format, Format)
	}
	if err == nil {
		t.State, err = Decode(blob)
	}
	if err != nil {
		return nil, t.Fallback(err.Error())
	}
	// From here on the descriptors are ours: none leaks into a child.
	setCloexec(append(t.State.FDs(), ev.memfd, ev.exefd), true) //nolint:errcheck // a bad descriptor fails where it is used
	return t, nil
}

// Fallback hands the state back to the image that wrote it (its binary,
// kept open), telling it why: the new image could not take over. The
// descriptors must not have been used. It returns only if that exec
// failed.
func (t *Taken) Fallback(why string) error {
	fds := []int{t.env.memfd, t.env.exefd}
	if t.State != nil {
		fds = append(fds, t.State.FDs()...)
	}
	if t.Refused != "" {
		// We are the old image already: there is nobody to hand back to.
		return fmt.Errorf("handover: cannot resume after a refused upgrade: %s", why)
	}
	if _, err := syscall.Seek(t.env.memfd, 0, io.SeekStart); err != nil {
		return fmt.Errorf("handover: %s; rewind the state: %w", why, err)
	}
	setCloexec(fds, false) //nolint:errcheck // the exec fails below if they are bad
	env := append(withoutHandover(os.Environ()), Env+"="+t.env.String(), RefusedEnv+"="+why)
	exe := "/proc/self/fd/" + strconv.Itoa(t.env.exefd)
	err := syscall.Exec(exe, os.Args, env)
	return fmt.Errorf("handover: %s; and handing back to the previous binary failed: %w", why, err)
}

// Close releases the memfd and the old binary's descriptor (the hand-over
// is complete).
func (t *Taken) Close() {
	syscall.Close(t.env.memfd)
	syscall.Close(t.env.exefd)
}

func withoutHandover(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if strings.HasPrefix(e, Env+"=") || strings.HasPrefix(e, RefusedEnv+"=") {
			continue
		}
		out = append(out, e)
	}
	return out
}

func setCloexec(fds []int, on bool) error {
	var errs []error
	for _, fd := range fds {
		flag := 0
		if on {
			flag = syscall.FD_CLOEXEC
		}
		if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFD, uintptr(flag)); e != 0 {
			errs = append(errs, fmt.Errorf("handover: descriptor %d: %w", fd, e))
		}
	}
	return errors.Join(errs...)
}

// memfd returns an unlinked temporary file holding b, close-on-exec (the
// syscall package has no memfd_create on every architecture).
func memfd(b []byte) (int, error) {
	f, err := os.CreateTemp("", "gosupervisor-handover-*")
	if err != nil {
		return -1, fmt.Errorf("handover: state file: %w", err)
	}
	os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		return -1, fmt.Errorf("handover: write the state: %w", err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("handover: state file: %w", err)
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = syscall.Dup(int(fd))
	}); err != nil || derr != nil {
		return -1, fmt.Errorf("handover: dup the state: %w", errors.Join(err, derr))
	}
	syscall.CloseOnExec(nfd)
	return nfd, nil
}

// readAll reads the state from fd (from its start) without closing it.
func readAll(fd int) ([]byte, error) {
	var out []byte
	buf := make([]byte, 64<<10)
	off := int64(0)
	for {
		n, err := syscall.Pread(fd, buf, off)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("handover: read the state: %w", err)
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
		off += int64(n)
	}
}
