package compattests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is one entry of /proc: enough to find descendants and to tell a
// process from a later one that reused its PID.
type Proc struct {
	PID   int
	PPID  int
	State byte   // R, S, Z, ...
	Start uint64 // start time in clock ticks since boot
	Comm  string
}

func (p Proc) String() string { return fmt.Sprintf("pid %d (%s, state %c)", p.PID, p.Comm, p.State) }

// ReadProc parses /proc/<pid>/stat.
func ReadProc(pid int) (Proc, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return Proc{}, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return Proc{}, fmt.Errorf("parse stat of pid %d: %q", pid, s)
	}
	f := strings.Fields(s[closing+1:])
	// after the comm: state(0) ppid(1) ... starttime is field 22 of the line, index 19 here.
	if len(f) < 20 {
		return Proc{}, fmt.Errorf("parse stat of pid %d: short line %q", pid, s)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return Proc{}, fmt.Errorf("parse ppid of pid %d: %w", pid, err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return Proc{}, fmt.Errorf("parse starttime of pid %d: %w", pid, err)
	}
	return Proc{PID: pid, PPID: ppid, State: f[0][0], Start: start, Comm: s[open+1 : closing]}, nil
}

// ListProcs returns every process currently visible in /proc.
func ListProcs() []Proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, err := ReadProc(pid); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Descendants returns all live descendants of root (not root itself).
func Descendants(root int) []Proc {
	procs := ListProcs()
	children := map[int][]Proc{}
	for _, p := range procs {
		children[p.PPID] = append(children[p.PPID], p)
	}
	var out []Proc
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			out = append(out, c)
			queue = append(queue, c.PID)
		}
	}
	return out
}

// sameProc reports whether p is still the same live (non-zombie) process.
func sameProc(p Proc) (Proc, bool) {
	cur, err := ReadProc(p.PID)
	if err != nil || cur.Start != p.Start {
		return Proc{}, false
	}
	return cur, true
}

// KillAndReap SIGKILLs every process of list that is still the same process
// and reaps it when it is our child (the subreaper makes orphans ours). It
// returns the processes that were still alive (not zombies) when checked.
func KillAndReap(list []Proc) []Proc {
	self := os.Getpid()
	var alive []Proc
	for _, p := range list {
		cur, ok := sameProc(p)
		if !ok {
			continue
		}
		if cur.State != 'Z' {
			alive = append(alive, cur)
			_ = syscall.Kill(cur.PID, syscall.SIGKILL)
		}
	}
	for _, p := range list {
		waitGone(p, self)
	}
	return alive
}

// waitGone waits (bounded) until p has disappeared, reaping it if it is ours.
func waitGone(p Proc, self int) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		cur, ok := sameProc(p)
		if !ok {
			return
		}
		if cur.PPID == self && cur.State == 'Z' {
			var ws syscall.WaitStatus
			_, err := syscall.Wait4(cur.PID, &ws, syscall.WNOHANG, nil)
			if err != nil && !errors.Is(err, syscall.EINTR) {
				return // ECHILD: someone else (os/exec) reaps it
			}
			continue
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// SweepChildren kills and reaps every remaining child of this process (the
// final safety net run after all cases). It returns what it found alive.
func SweepChildren() []Proc {
	self := os.Getpid()
	var kids []Proc
	for _, p := range ListProcs() {
		if p.PPID == self {
			kids = append(kids, p)
		}
	}
	return KillAndReap(kids)
}
