package logrot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readLogFiles returns the contents of dir/base's backups, in order, then
// the live file.
func readLogFiles(t *testing.T, dir, base string) []string {
	t.Helper()
	var out []string
	for _, f := range logFiles(t, dir, base) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// TestSinkRotatesAtLineBoundary: the rotation rule write by write, with
// maxbytes 10.
func TestSinkRotatesAtLineBoundary(t *testing.T) {
	x := strings.Repeat
	cases := []struct {
		name     string
		existing string // the file before the sink opens it (line state unknown)
		writes   []string
		want     []string
	}{
		{"fits", "", []string{"abc\n", "def\n"}, []string{"abc\ndef\n"}},
		{"cut after the last line that fits", "", []string{"abc\ndef\nghi\n"}, []string{"abc\ndef\n", "ghi\n"}},
		{"open line moves to the new file", "", []string{"aaa\nbbb", "bbbb\n"}, []string{"aaa\n", "bbbbbbb\n"}},
		{"open line moves, then more lines", "", []string{"aaa\nbb", "b\ncc\nddddd\n"}, []string{"aaa\nbbb\n", "cc\nddddd\n"}},
		{"line longer than maxbytes from an empty file", "", []string{"0123456789abcdef\n"}, []string{"0123456789", "abcdef\n"}},
		{"line longer than maxbytes starts a new file", "", []string{"ab\n", x("x", 24) + "\n"}, []string{"ab\n", x("x", 10), x("x", 10), "xxxx\n"}},
		{"long open line moves, then is cut", "", []string{"ab\nxxxx", x("x", 20) + "\n"}, []string{"ab\n", x("x", 10), x("x", 10), "xxxx\n"}},
		{"file full at a line end", "", []string{"123456789\n", "a\n"}, []string{"123456789\n", "a\n"}},
		{"file full inside a long line", "", []string{x("y", 10), "yy\n"}, []string{x("y", 10), "yy\n"}},
		{"existing file ending in an open line", "old\npart", []string{"ial\n"}, []string{"old\n", "partial\n"}},
		{"existing file ending in a newline", "old line\n", []string{"next\n"}, []string{"old line\n", "next\n"}},
		{"byte by byte", "", strings.Split("ab\ncd\nefgh\nij\n", ""), []string{"ab\ncd\n", "efgh\nij\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "p.log")
			if tc.existing != "" {
				if err := os.WriteFile(path, []byte(tc.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s, err := openSink(sinkOptions{Path: path, MaxBytes: 10, Backups: 100})
			if err != nil {
				t.Fatal(err)
			}
			total := len(tc.existing)
			for _, w := range tc.writes {
				n, err := s.Write([]byte(w))
				if err != nil || n != len(w) {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
				total += n
			}
			s.Close()
			got := readLogFiles(t, dir, "p")
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Fatalf("files %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSinkRotateNow: a forced rotation moves the file aside at its last
// line boundary (an open line stays in the live file), leaves an empty
// file alone, and reports nothing for a non-regular target.
func TestSinkRotateNow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.log")
	s, err := openSink(sinkOptions{Path: path, MaxBytes: 0, Backups: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Rotate(); err != nil || s.Rotations() != 0 {
		t.Fatalf("empty file: Rotate = %v, %d rotations", err, s.Rotations())
	}
	s.Write([]byte("one\ntwo\nthr"))
	if err := s.Rotate(); err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("ee\n"))
	if got := readLogFiles(t, dir, "p"); fmt.Sprintf("%q", got) != `["one\ntwo\n" "three\n"]` {
		t.Fatalf("files %q", got)
	}
	dev, err := openSink(sinkOptions{Path: os.DevNull, MaxBytes: 10, Backups: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	dev.Write([]byte("x\n"))
	if err := dev.Rotate(); err != nil || dev.Rotations() != 0 {
		t.Fatalf("/dev/null: Rotate = %v, %d rotations", err, dev.Rotations())
	}
}

// TestRotateEvery: the next rotation is at the next multiple of the
// interval in UTC, and the timer rotates a non-empty file only.
func TestRotateEvery(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		now   string
		every time.Duration
		want  string
	}{
		{"2026-12-02T19:58:00.123Z", time.Hour, "2026-12-02T20:00:00Z"},
		{"2026-12-02T20:00:00Z", time.Hour, "2026-12-02T21:00:00Z"},
		{"2026-12-02T19:58:00+05:00", 24 * time.Hour, "2026-12-03T00:00:00Z"},
		{"2026-12-02T19:58:00Z", 7 * 24 * time.Hour, "2026-12-07T00:00:00Z"}, // a Monday
	} {
		if got := nextBoundary(at(tc.now), tc.every); !got.Equal(at(tc.want)) {
			t.Errorf("nextBoundary(%s, %v) = %v, want %s", tc.now, tc.every, got, tc.want)
		}
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "p.log")
	s, err := openSink(sinkOptions{Path: path, Backups: 5, RotateEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := at("2026-12-02T19:58:00Z")
	s.mu.Lock()
	s.now = func() time.Time { return now }
	s.schedule()
	due := s.nextRotate
	s.mu.Unlock()
	if !due.Equal(at("2026-12-02T20:00:00Z")) {
		t.Fatalf("next rotation %v", due)
	}
	s.timedRotate() // early (the clock is behind): nothing happens
	if s.Rotations() != 0 {
		t.Fatal("rotated before the boundary")
	}
	now = at("2026-12-02T20:00:00.001Z")
	s.timedRotate() // empty file: nothing to rotate
	if s.Rotations() != 0 {
		t.Fatal("rotated an empty file")
	}
	s.Write([]byte("a line\n"))
	now = at("2026-12-02T21:00:00Z")
	s.timedRotate()
	if s.Rotations() != 1 {
		t.Fatalf("%d rotations at the boundary, want 1", s.Rotations())
	}
	s.mu.Lock()
	due = s.nextRotate
	s.mu.Unlock()
	if !due.Equal(at("2026-12-02T22:00:00Z")) {
		t.Fatalf("next rotation %v after the boundary", due)
	}
	if got := readLogFiles(t, dir, "p"); fmt.Sprintf("%q", got) != `["a line\n" ""]` {
		t.Fatalf("files %q", got)
	}
}

// TestSinkCarriesLongOpenLine: an open line over 1 MiB moves to the new
// file through a temporary file (none is left behind); without maxbytes a
// forced rotation carries an open line only up to 1 MiB and splits a
// longer one.
func TestSinkCarriesLongOpenLine(t *testing.T) {
	const mib = 1 << 20
	x := func(c string, n int) string { return strings.Repeat(c, n) }
	dir := t.TempDir()
	path := filepath.Join(dir, "p.log")
	s, err := openSink(sinkOptions{Path: path, MaxBytes: 4 * mib, Backups: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{x("a", 2*mib) + "\n", x("x", 3*mib/2), x("x", mib) + "\n"} {
		if n, err := s.Write([]byte(w)); err != nil || n != len(w) {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	s.Close()
	got := readLogFiles(t, dir, "p")
	if len(got) != 2 || got[0] != x("a", 2*mib)+"\n" || got[1] != x("x", 5*mib/2)+"\n" {
		t.Fatalf("%d files of %d, %d bytes", len(got), len(got[0]), len(got[len(got)-1]))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("%d entries in the log directory, want 2 (no temporary file left)", len(ents))
	}

	dir = t.TempDir()
	path = filepath.Join(dir, "q.log")
	s, err = openSink(sinkOptions{Path: path, Backups: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Write([]byte("a\n" + x("x", 2*mib)))
	if err := s.Rotate(); err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("b\nopen"))
	if err := s.Rotate(); err != nil {
		t.Fatal(err)
	}
	got = readLogFiles(t, dir, "q")
	if len(got) != 3 || got[0] != "a\n"+x("x", 2*mib) || got[1] != "b\n" || got[2] != "open" {
		t.Fatalf("%d files: %d, ... bytes", len(got), len(got[0]))
	}
}

// TestSpecialPaths: devices and descriptor links are never rotated or
// released, whatever they resolve to; a regular file that lives under /dev
// or /proc (a log on /dev/shm) is an ordinary log file, as under Python.
func TestSpecialPaths(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "logrot-special-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	defer os.RemoveAll(shm)
	regular := filepath.Join(shm, "exists.log")
	if err := os.WriteFile(regular, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path    string
		special bool
	}{
		{"/dev/stdout", true},
		{"/dev/null", true},
		{"/dev/fd/1", true},
		{"/proc/self/fd/1", true},
		{regular, false},
		{filepath.Join(shm, "new.log"), false},
		{filepath.Join(t.TempDir(), "p.log"), false},
	} {
		if got := isSpecialPath(tc.path); got != tc.special {
			t.Errorf("isSpecialPath(%s) = %v, want %v", tc.path, got, tc.special)
		}
	}
	// The /dev/shm log rotates at maxbytes and keeps its backups.
	path := filepath.Join(shm, "p.log")
	s, err := openSink(sinkOptions{Path: path, MaxBytes: 10, Backups: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, line := range []string{"one two\n", "three four\n", "five\n"} {
		if _, err := s.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	got := readLogFiles(t, shm, "p")
	if len(got) != 3 || strings.Join(got, "") != "one two\nthree four\nfive\n" {
		t.Errorf("files in /dev/shm %q, want all the bytes in three (two backups and the live file)", got)
	}
}
