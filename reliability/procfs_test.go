package reliability

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pstat is one process's line of /proc/PID/stat: state letter and parent.
type pstat struct {
	pid, ppid int
	state     string
	comm      string
}

func readStat(pid int) (pstat, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return pstat{}, false
	}
	s := string(b)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return pstat{}, false
	}
	f := strings.Fields(s[j+1:])
	if len(f) < 2 {
		return pstat{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	return pstat{pid: pid, ppid: ppid, state: f[0], comm: s[i+1 : j]}, true
}

// allStats reads every process of the pid namespace.
func allStats() []pstat {
	ents, _ := os.ReadDir("/proc")
	var out []pstat
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok {
			out = append(out, st)
		}
	}
	return out
}

// descendants lists every process below pid (children, grandchildren...).
func descendants(pid int) []pstat {
	all := allStats()
	kids := map[int][]pstat{}
	for _, st := range all {
		kids[st.ppid] = append(kids[st.ppid], st)
	}
	var out []pstat
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, k := range kids[p] {
			out = append(out, k)
			queue = append(queue, k.pid)
		}
	}
	return out
}

// childCounts counts pid's direct children: live ones and zombies.
func childCounts(pid int) (live, zomb int) {
	for _, st := range allStats() {
		if st.ppid == pid {
			if st.state == "Z" {
				zomb++
			} else {
				live++
			}
		}
	}
	return live, zomb
}

// zombies counts the zombies among pid's direct children: processes the
// daemon failed (or has not yet managed) to reap.
func zombies(pid int) int {
	n := 0
	for _, st := range allStats() {
		if st.ppid == pid && st.state == "Z" {
			n++
		}
	}
	return n
}

// fdCount is the number of open descriptors of pid.
func fdCount(pid int) int {
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		return -1
	}
	return len(ents)
}

// statusField reads a "Name:  value kB" field of /proc/PID/status as a
// number (kB for the Vm* fields).
func statusField(pid int, name string) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.Atoi(f[0])
				return n
			}
		}
	}
	return -1
}

func rssKiB(pid int) int  { return statusField(pid, "VmRSS") }
func threads(pid int) int { return statusField(pid, "Threads") }

// children lists the processes whose parent is this test process.
func children() []pstat {
	me := os.Getpid()
	var out []pstat
	for _, st := range allStats() {
		if st.ppid == me {
			out = append(out, st)
		}
	}
	return out
}

// killLeftovers kills and reports every live process re-parented to the
// test (a leak of the daemon), reaping the dead ones. The daemons
// themselves are reaped by exec.Cmd.Wait and are not counted.
func killLeftovers(t *testing.T) {
	deadline := time.Now().Add(10 * time.Second) // bounds a slow exit on a loaded box
	for time.Now().Before(deadline) {
		live := false
		for _, st := range children() {
			live = live || (st.state != "Z" && !isDaemonComm(st.comm))
		}
		if !live {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	for _, st := range children() {
		if isDaemonComm(st.comm) {
			continue
		}
		if st.state != "Z" {
			t.Errorf("leftover live process %d (%s, state %s) re-parented to the test", st.pid, st.comm, st.state)
			syscall.Kill(st.pid, syscall.SIGKILL)
		}
		var ws syscall.WaitStatus
		syscall.Wait4(st.pid, &ws, 0, nil)
	}
}

// isDaemonComm tells the daemons we started (reaped by their exec.Cmd)
// from the processes they leaked.
func isDaemonComm(comm string) bool {
	return comm == "supervisord" || comm == "prlimit"
}
