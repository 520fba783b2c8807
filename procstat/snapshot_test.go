package procstat

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// fakeProc is one process of a fake /proc.
type fakeProc struct {
	pid, ppid int
	ticks     int // split as utime 1, rest in stime
	rss       int // pages
}

// writeProc writes a fake procfs under dir: one <pid>/stat per process,
// plus the non-process entries a real /proc has.
func writeProc(t testing.TB, dir string, procs []fakeProc) {
	t.Helper()
	for _, name := range []string{"self", "sys", "0x", "meminfo"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range procs {
		d := filepath.Join(dir, strconv.Itoa(p.pid))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		ut, st := "0", "0"
		if p.ticks > 0 {
			ut, st = "1", strconv.Itoa(p.ticks-1)
		}
		line := statLine(p.pid, "p"+strconv.Itoa(p.pid), p.ppid, ut, st, "0", "0", strconv.Itoa(p.rss))
		if err := os.WriteFile(filepath.Join(d, "stat"), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSnapshotTree(t *testing.T) {
	// 1 init; 10 the supervisor; 100 and 200 supervised; 100 has a
	// child 101 with a grandchild 102; 300 is 100's orphan reparented to 1.
	procs := []fakeProc{
		{1, 0, 50, 10},
		{10, 1, 7, 100},
		{100, 10, 5, 20},
		{101, 100, 3, 4},
		{102, 101, 2, 1},
		{200, 10, 0, 8},
		{300, 1, 9, 9},
		{7, 7, 1, 1}, // its own parent: never linked
	}
	dir := t.TempDir()
	writeProc(t, dir, procs)
	s := New(Options{Root: dir})
	snap, err := s.Snapshot(0)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Len() != len(procs) {
		t.Fatalf("Len = %d, want %d", snap.Len(), len(procs))
	}
	page := int64(os.Getpagesize())
	tests := []struct {
		pid    int
		want   Usage
		wantOK bool
	}{
		{100, Usage{CPUSeconds: 0.10, RSSBytes: 25 * page, Procs: 3}, true},
		{101, Usage{CPUSeconds: 0.05, RSSBytes: 5 * page, Procs: 2}, true},
		{200, Usage{CPUSeconds: 0, RSSBytes: 8 * page, Procs: 1}, true},
		{10, Usage{CPUSeconds: 0.17, RSSBytes: 133 * page, Procs: 5}, true},
		{7, Usage{CPUSeconds: 0.01, RSSBytes: page, Procs: 1}, true},
		{999, Usage{}, false},
		{0, Usage{}, false},
		{-1, Usage{}, false},
		{1 << 40, Usage{}, false},
	}
	for _, tc := range tests {
		got, ok := snap.Tree(tc.pid)
		if ok != tc.wantOK || got.Procs != tc.want.Procs || got.RSSBytes != tc.want.RSSBytes || !near(got.CPUSeconds, tc.want.CPUSeconds) {
			t.Errorf("Tree(%d) = %+v, %v; want %+v, %v", tc.pid, got, ok, tc.want, tc.wantOK)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestSnapshotCycleEndsAtRoot(t *testing.T) {
	// pids reused while a pass ran can link 20 -> 21 -> 20.
	dir := t.TempDir()
	writeProc(t, dir, []fakeProc{{20, 21, 1, 1}, {21, 20, 1, 1}, {22, 21, 1, 1}})
	snap, err := New(Options{Root: dir}).Snapshot(0)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := snap.Tree(20); u.Procs != 3 {
		t.Fatalf("Tree(20).Procs = %d, want 3", u.Procs)
	}
	if u, _ := snap.Tree(21); u.Procs != 3 {
		t.Fatalf("Tree(21).Procs = %d, want 3", u.Procs)
	}
}

func TestSamplerSharesRecentSnapshot(t *testing.T) {
	dir := t.TempDir()
	writeProc(t, dir, []fakeProc{{1, 0, 1, 1}})
	now := time.Unix(1000, 0)
	s := New(Options{Root: dir, Now: func() time.Time { return now }})
	first, err := s.Snapshot(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	writeProc(t, dir, []fakeProc{{2, 1, 1, 1}})
	tests := []struct {
		advance time.Duration
		maxAge  time.Duration
		wantNew bool
		wantLen int
	}{
		{500 * time.Millisecond, time.Second, false, 1},
		{500 * time.Millisecond, time.Second, false, 1}, // exactly maxAge old
		{1, time.Second, true, 2},
		{0, 0, true, 2},                    // maxAge 0: always a new pass
		{-time.Hour, time.Second, true, 2}, // the clock went back
		{100 * time.Millisecond, time.Hour, false, 2},
	}
	prev := first
	for i, tc := range tests {
		now = now.Add(tc.advance)
		got, err := s.Snapshot(tc.maxAge)
		if err != nil {
			t.Fatal(err)
		}
		if (got != prev) != tc.wantNew || got.Len() != tc.wantLen {
			t.Fatalf("step %d: new = %v (want %v), Len = %d (want %d)", i, got != prev, tc.wantNew, got.Len(), tc.wantLen)
		}
		prev = got
	}
}

func TestSnapshotErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(Options{Root: filepath.Join(dir, "missing")}).Snapshot(0); err == nil {
		t.Fatal("Snapshot of a missing root: no error")
	}
	writeProc(t, dir, []fakeProc{{5, 1, 1, 1}})
	// A stat file that holds another pid's line is a broken procfs.
	if err := os.WriteFile(filepath.Join(dir, "5", "stat"), []byte(statLine(6, "x", 1, "0", "0", "0", "0", "0")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Root: dir}).Snapshot(0); err == nil {
		t.Fatal("Snapshot with a mismatched pid: no error")
	}
	// A process directory without stat (it exited) is skipped.
	if err := os.Remove(filepath.Join(dir, "5", "stat")); err != nil {
		t.Fatal(err)
	}
	snap, err := New(Options{Root: dir}).Snapshot(0)
	if err != nil || snap.Len() != 0 {
		t.Fatalf("Snapshot with an exited process = %v, %v; want 0 processes", snap, err)
	}
}
