package procstat

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

var benchProcs = flag.Int("procstat.procs", 1000, "processes BenchmarkSnapshot runs under one supervised root")

// spinCPU is how much CPU the re-executed test binary burns before it exits.
const spinCPU = 60 * time.Millisecond

func TestMain(m *testing.M) {
	if os.Getenv("PROCSTAT_TEST_CHILD") == "spin" {
		for {
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
				os.Exit(2)
			}
			if time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= spinCPU {
				os.Exit(0)
			}
		}
	}
	os.Exit(m.Run())
}

// startTree starts sh running script in its own process group and returns
// once sh printed "ready". The process group is killed and sh reaped at the
// end of the test.
func startTree(t testing.TB, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script, os.Args[0])
	cmd.Env = append(os.Environ(), "PROCSTAT_TEST_CHILD=spin")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		var ws syscall.WaitStatus
		if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); !errors.Is(err, syscall.ECHILD) {
			t.Errorf("a child is left after the test: wait4 = %d, %v", pid, err)
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("sh said %q, %v; want ready", line, err)
	}
	return cmd
}

func TestSnapshotRealTree(t *testing.T) {
	// sh reaps a child that burned spinCPU, then forks two sleeps: the
	// tree is sh and the sleeps, its CPU time includes the reaped child's.
	cmd := startTree(t, `"$0"; sleep 60 & sleep 60 & echo ready; wait`)
	s := New(Options{})
	snap, err := s.Snapshot(0)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := snap.Tree(cmd.Process.Pid)
	if !ok {
		t.Fatalf("Tree(%d): not found in a snapshot of %d processes", cmd.Process.Pid, snap.Len())
	}
	if u.Procs != 3 {
		t.Errorf("Tree.Procs = %d, want 3 (sh and two sleeps)", u.Procs)
	}
	// /proc counts in 10 ms ticks and may round the child's time down.
	if min := spinCPU.Seconds() - 0.02; u.CPUSeconds < min {
		t.Errorf("Tree.CPUSeconds = %v, want >= %v (the reaped child's time)", u.CPUSeconds, min)
	}
	if u.RSSBytes <= 0 {
		t.Errorf("Tree.RSSBytes = %d, want > 0", u.RSSBytes)
	}
	self, ok := snap.Tree(os.Getpid())
	if !ok || self.Procs < 4 || self.RSSBytes <= u.RSSBytes {
		t.Errorf("Tree(self) = %+v, %v; want the test process over sh's tree", self, ok)
	}
}

// BenchmarkSnapshot measures one pass over /proc and the tree sum of one
// root, with -procstat.procs sleeping processes under that root (the box's
// other processes are scanned too; the figure "procs/op" says how many).
func BenchmarkSnapshot(b *testing.B) {
	n := *benchProcs
	cmd := startTree(b, fmt.Sprintf(`i=0; while [ $i -lt %d ]; do sleep 600 & i=$((i+1)); done; echo ready; wait`, n))
	s := New(Options{})
	var u Usage
	var total int
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		snap, err := s.Snapshot(0)
		if err != nil {
			b.Fatal(err)
		}
		u, _ = snap.Tree(cmd.Process.Pid)
		total = snap.Len()
	}
	b.StopTimer()
	// Wall time on a shared box includes waiting for a CPU; the
	// process's own CPU time per pass is the figure that matters.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	if u.Procs != n+1 {
		b.Fatalf("tree of %d processes, want %d", u.Procs, n+1)
	}
	b.ReportMetric(float64(total), "procs/op")
}

// cpuTime is the user+system time of this process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
