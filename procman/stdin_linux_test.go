package procman

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// pipeHolders lists our descriptors that refer to link (a /proc fd link
// such as "pipe:[123]").
func pipeHolders(t *testing.T, link string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []int
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && l == link {
			fd, _ := strconv.Atoi(e.Name())
			fds = append(fds, fd)
		}
	}
	return fds
}

// epollWatched reports whether fd is registered in any of our epoll
// instances (the runtime poller's among them).
func epollWatched(t *testing.T, fd int) bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil || l != "anon_inode:[eventpoll]" {
			continue
		}
		info, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(info), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "tfd:" && f[1] == strconv.Itoa(fd) {
				return true
			}
		}
	}
	return false
}

// Our end of a child's stdin is not watched by any poller (nothing waits
// on it), and stopping the child closes every descriptor of the pipe we
// hold, also the copy a queued write is blocked on.
func TestStdinPipeUnwatchedAndClosedOnStop(t *testing.T) {
	s, _ := newTestSupervisor(t, Options{})
	p := proc("deaf", "sleep", "30") // never reads its stdin
	p.Startsecs = 0
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "deaf", true); err != nil {
		t.Fatal(err)
	}
	in, err := s.Info("deaf")
	if err != nil {
		t.Fatal(err)
	}
	link, err := os.Readlink("/proc/" + strconv.Itoa(in.PID) + "/fd/0")
	if err != nil || !strings.HasPrefix(link, "pipe:") {
		t.Fatalf("child's stdin %q: %v", link, err)
	}
	held := pipeHolders(t, link)
	if len(held) != 1 {
		t.Fatalf("we hold %v of the child's stdin %s, want one descriptor", held, link)
	}
	if epollWatched(t, held[0]) {
		t.Errorf("our end of the child's stdin (fd %d) is registered with a poller", held[0])
	}
	// More than the pipe holds: the rest waits in a background write.
	if err := s.SendStdin("deaf", []byte(strings.Repeat("x", 300000))); err != nil {
		t.Fatal(err)
	}
	if got := pipeHolders(t, link); len(got) != 2 {
		t.Fatalf("while a write is queued we hold %v of %s, want our end and the writer's copy", got, link)
	}
	if _, _, err := s.Stop(bg, "deaf", true); err != nil {
		t.Fatal(err)
	}
	if got := pipeHolders(t, link); len(got) != 0 {
		t.Errorf("after the stop we still hold %v of the child's stdin %s", got, link)
	}
}
