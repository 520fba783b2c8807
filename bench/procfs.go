package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat. It is
// 100 on every Linux architecture Go supports (sysconf needs cgo).
const clockTicks = 100

// Status is the part of /proc/<pid>/status the benchmarks report.
type Status struct {
	RSSKiB  int64 // VmRSS
	HWMKiB  int64 // VmHWM (peak RSS)
	Threads int   // OS threads
	FDs     int   // open file descriptors
}

// RSSMiB is VmRSS in MiB.
func (s Status) RSSMiB() float64 { return float64(s.RSSKiB) / 1024 }

// ReadStatus reads VmRSS, VmHWM, Threads and the fd count of pid.
func ReadStatus(pid int) (Status, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Status{}, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	st, err := parseStatus(data)
	if err != nil {
		return Status{}, fmt.Errorf("parse status of pid %d: %w", pid, err)
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		st.FDs = len(ents)
	}
	return st, nil
}

func parseStatus(data []byte) (Status, error) {
	var st Status
	seen := 0
	for _, line := range strings.Split(string(data), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			st.RSSKiB = n
			seen++
		case "VmHWM":
			st.HWMKiB = n
		case "Threads":
			st.Threads = int(n)
			seen++
		}
	}
	if seen < 2 {
		return st, errors.New("no VmRSS/Threads lines")
	}
	return st, nil
}

// statFields returns the fields of /proc/<pid>/stat after the command name,
// so index 0 is the state, 1 the ppid, 11 utime and 12 stime.
func statFields(data []byte) ([]string, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 > len(data) {
		return nil, errors.New("malformed stat line")
	}
	f := strings.Fields(string(data[i+2:]))
	if len(f) < 13 {
		return nil, errors.New("short stat line")
	}
	return f, nil
}

// CPUSeconds is utime+stime of pid (all its threads, exited ones included),
// in seconds, at the kernel's tick resolution (10 ms).
func CPUSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	return parseCPU(data)
}

func parseCPU(data []byte) (float64, error) {
	f, err := statFields(data)
	if err != nil {
		return 0, err
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad utime/stime %q %q", f[11], f[12])
	}
	return float64(ut+st) / clockTicks, nil
}

// RunTime is the sum over pid's live threads of the time they spent on a CPU
// (first field of /proc/<pid>/task/*/schedstat), at nanosecond resolution.
// Threads that exited are not counted, so use it only over windows in which
// the thread set is stable (idle measurements).
func RunTime(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("no schedstat for pid %d", pid)
	}
	var sum int64
	for _, p := range tasks {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // thread exited meanwhile
		}
		f := strings.Fields(string(data))
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s: %w", p, err)
		}
		sum += n
	}
	return time.Duration(sum), nil
}

// Proc is one process found in /proc.
type Proc struct {
	Pid    int
	State  string // R, S, Z...
	Zombie bool
}

// ChildrenOf lists the processes whose parent is ppid.
func ChildrenOf(ppid int) []Proc {
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
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f, err := statFields(data)
		if err != nil {
			continue
		}
		if pp, _ := strconv.Atoi(f[1]); pp == ppid {
			out = append(out, Proc{Pid: pid, State: f[0], Zombie: f[0] == "Z"})
		}
	}
	return out
}

// Alive reports whether pid exists and is not a zombie.
func Alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f, err := statFields(data)
	return err == nil && f[0] != "Z"
}

// SetSubreaper makes the calling process a child subreaper
// (PR_SET_CHILD_SUBREAPER): orphans of a daemon we started are re-parented
// to us instead of init, so ReapOrphans can kill and reap them.
func SetSubreaper() error {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", errno)
	}
	return nil
}

// ReapOrphans kills (SIGTERM, then SIGKILL after grace) and reaps every
// child of this process except those in keep, and returns how many it found
// and how many are still there afterwards. Only call it when no other code
// of this process has a child running (it reaps by pid, never wait(-1)).
func ReapOrphans(grace time.Duration, keep ...int) (found, left int) {
	me := os.Getpid()
	kept := func(pid int) bool {
		for _, k := range keep {
			if k == pid {
				return true
			}
		}
		return false
	}
	list := func() []int {
		var pids []int
		for _, p := range ChildrenOf(me) {
			if !kept(p.Pid) {
				pids = append(pids, p.Pid)
			}
		}
		return pids
	}
	kids := list()
	found = len(kids)
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGTERM, grace}, {syscall.SIGKILL, 5 * time.Second}} {
		if len(kids) == 0 {
			break
		}
		for _, pid := range kids {
			_ = syscall.Kill(pid, step.sig)
		}
		deadline := time.Now().Add(step.wait)
		for len(kids) > 0 && time.Now().Before(deadline) {
			rest := kids[:0]
			for _, pid := range kids {
				var ws syscall.WaitStatus
				got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
				if got == pid || errors.Is(err, syscall.ECHILD) {
					continue
				}
				rest = append(rest, pid)
			}
			kids = rest
			if len(kids) > 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}
		// grandchildren re-parented while we were killing
		kids = append(kids, newOnly(list(), kids)...)
	}
	return found, len(list())
}

func newOnly(all, have []int) []int {
	var out []int
	for _, p := range all {
		dup := false
		for _, h := range have {
			if h == p {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out
}

// LoadAvg is the first three fields of /proc/loadavg ("" if unreadable):
// the benchmarks record it because other work on the machine moves
// absolute numbers.
func LoadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
