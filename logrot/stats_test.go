package logrot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gosupervisor/gosupervisor/config"
)

// TestChannelStats: the Hub lists every open channel's counters by group,
// process and channel; a closed channel is gone.
func TestChannelStats(t *testing.T) {
	dir := t.TempDir()
	hub := NewHub(nil)
	mk := func(group, name, channel string) *Channel {
		c, err := hub.NewChannel(ChannelConfig{GroupName: group, ProcessName: name, Channel: channel,
			Path: filepath.Join(dir, name+"-"+channel+".log")})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	b := mk("g", "b", "stdout")
	a := mk("g", "a", "stderr")
	a2 := mk("g", "a", "stdout")
	feed(a, []string{"hello\n", "world\n"})
	feed(b, []string{"x"})
	got := hub.ChannelStats()
	want := []ChannelStats{
		{"g", "a", "stderr", Stats{Read: 12, Written: 12}},
		{"g", "a", "stdout", Stats{}},
		{"g", "b", "stdout", Stats{Read: 1, Written: 1}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ChannelStats %v, want %v", got, want)
	}
	a2.Close()
	a.Close()
	if got := hub.ChannelStats(); len(got) != 1 || got[0].Process != "b" {
		t.Fatalf("after Close: %v", got)
	}
	b.Close()
}

// TestDiskFullEpisode: while the disk is full every lost byte is counted
// and the main log gets one CRIT line (not one per write); the first write
// that works again resumes logging and says how much was lost meanwhile.
// Writes never block.
func TestDiskFullEpisode(t *testing.T) {
	dir := t.TempDir()
	mainPath := filepath.Join(dir, "supervisord.log")
	m, _ := NewMainLog(MainLogOptions{Logfile: mainPath, Level: config.LevelInfo, Now: fixedNow})
	defer m.Close()
	path := filepath.Join(dir, "p.log")
	c, err := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path, MainLog: m})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	full := true
	c.sink.mu.Lock()
	c.sink.failWrite = func() error {
		if full {
			return &os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
		}
		return nil
	}
	c.sink.mu.Unlock()
	feed(c, []string{"before 1\n", "before 2\n", "before 3\n"})
	if st := c.Stats(); st.Read != 27 || st.Written != 0 || st.Dropped != 27 {
		t.Fatalf("while full: %+v", st)
	}
	c.sink.mu.Lock()
	full = false
	c.sink.mu.Unlock()
	feed(c, []string{"after\n"})
	if st := c.Stats(); st.Read != 33 || st.Written != 6 || st.Dropped != 27 {
		t.Fatalf("after space was freed: %+v", st)
	}
	if b, _ := os.ReadFile(path); string(b) != "after\n" {
		t.Fatalf("log file %q", b)
	}
	logged, _ := os.ReadFile(mainPath)
	lines := strings.Split(strings.TrimSuffix(string(logged), "\n"), "\n")
	if len(lines) != 2 ||
		lines[0] != "2026-11-25 13:14:15,987 CRIT 'p' stdout log write failed, 9 bytes not logged, output is dropped until it can be written: logrot: write "+path+": no space left on device" ||
		lines[1] != "2026-11-25 13:14:15,987 INFO 'p' stdout log writing resumed, 18 more bytes were not logged" {
		t.Fatalf("main log:\n%s", logged)
	}
}

// TestDiskFullNeverBlocksTheChild: a child writing megabytes into a full
// disk runs to its end; every byte is read and counted as dropped.
func TestDiskFullNeverBlocksTheChild(t *testing.T) {
	dir := t.TempDir()
	m, _ := NewMainLog(MainLogOptions{Logfile: filepath.Join(dir, "supervisord.log"), Level: config.LevelInfo, Now: fixedNow})
	defer m.Close()
	c, err := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: filepath.Join(dir, "p.log"), MainLog: m})
	if err != nil {
		t.Fatal(err)
	}
	c.sink.mu.Lock()
	c.sink.failWrite = func() error { return syscall.ENOSPC }
	c.sink.mu.Unlock()
	const total = 8 << 20
	cmd, r := startWriter(t, "lines", 1, total, 65536)
	c.Consume(r, cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	c.Close()
	if st := c.Stats(); st.Read != total || st.Dropped != total || st.Written != 0 {
		t.Fatalf("stats %+v, want all %d bytes read and dropped", st, total)
	}
	logged, _ := os.ReadFile(filepath.Join(dir, "supervisord.log"))
	if n := strings.Count(string(logged), "CRIT 'p' stdout log write failed"); n != 1 {
		t.Fatalf("%d CRIT lines, want 1:\n%s", n, logged)
	}
}

// TestPathErrSaysThePathOnce: an error about a log file names its path
// once, whether or not the underlying error already carries it.
func TestPathErrSaysThePathOnce(t *testing.T) {
	const p = "/var/log/app.log"
	for _, tc := range []struct {
		op   string
		err  error
		want string
	}{
		{"write", &os.PathError{Op: "write", Path: p, Err: syscall.ENOSPC}, "logrot: write /var/log/app.log: no space left on device"},
		{"close for reopen", &os.PathError{Op: "close", Path: p, Err: syscall.EIO}, "logrot: close for reopen: close /var/log/app.log: input/output error"},
		{"seek", syscall.EBADF, "logrot: seek /var/log/app.log: bad file descriptor"},
		{"remove", &os.PathError{Op: "remove", Path: "/elsewhere", Err: syscall.EACCES}, "logrot: remove /var/log/app.log: remove /elsewhere: permission denied"},
	} {
		err := pathErr(tc.op, p, tc.err)
		if err.Error() != tc.want {
			t.Errorf("pathErr(%q, %v) = %q, want %q", tc.op, tc.err, err, tc.want)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("pathErr(%q, %v) does not wrap the error", tc.op, tc.err)
		}
	}
}
