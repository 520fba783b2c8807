package procman

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestSpawnOutOfDescriptors: a spawn that runs out of descriptors makes no
// child and fails as Python's does when its pipes cannot be made ("too
// many open files to spawn", BACKOFF then FATAL), also when it is
// ForkExec's own status pipe that fails, after the child's pipes were
// made (at 10,000 programs on a 20,000 descriptor limit the last ones
// were reported RUNNING and then "exit status 127").
func TestSpawnOutOfDescriptors(t *testing.T) {
	s, rec := newTestSupervisor(t, Options{})
	p := proc("nofd", "sleep", "30")
	p.Startsecs = 0
	p.Startretries = 0
	p.RedirectStderr = true
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	// Leave exactly the 4 lowest free descriptors: the stdin and stdout
	// pipes take them, ForkExec's status pipe finds none.
	r, w, err := os.Pipe() // the runtime's poller descriptors exist from here on
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	w.Close()
	limit := lowestFree(t, 4) + 1
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lowered := old
	lowered.Cur = limit
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatal(err)
	}
	_, _, startErr := s.Start(bg, "nofd", true)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	wantFault(t, startErr, ErrSpawnError, "nofd")
	rec.waitState(t, "nofd", Fatal, 30*time.Second)
	for _, st := range rec.states("nofd") {
		if st == Running.String() {
			t.Errorf("went RUNNING without a child: %v", rec.states("nofd"))
		}
	}
	if in, err := s.Info("nofd"); err != nil || in.Spawnerr != "too many open files to spawn 'nofd'" {
		t.Errorf("info %+v, %v", in, err)
	}
	if len(children()) != 0 {
		t.Errorf("children left: %v", children())
	}
}

// lowestFree returns the n-th lowest descriptor number not open now.
func lowestFree(t *testing.T, n int) uint64 {
	t.Helper()
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	self := uint64(d.Fd()) // free again once closed
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	open := map[uint64]bool{}
	for _, name := range names {
		if fd, err := strconv.ParseUint(name, 10, 64); err == nil {
			open[fd] = true
		}
	}
	delete(open, self)
	for fd := uint64(0); ; fd++ {
		if !open[fd] {
			if n--; n == 0 {
				return fd
			}
		}
	}
}
