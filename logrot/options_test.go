package logrot

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// TestTimestamps: every stored line gets the time its first bytes were
// read, in RFC 3339 UTC with milliseconds; a line split over reads keeps
// the stamp of its start; hooks and syslog see the child's bytes as they
// are; read/tail return the stamped text.
func TestTimestamps(t *testing.T) {
	clock := time.Date(2026, 12, 2, 20, 58, 0, 123456789, time.FixedZone("CET", 3600))
	cases := []struct {
		name   string
		chunks []string
		want   string
	}{
		{"one line", []string{"hello\n"}, "2026-12-02T19:58:00.123Z hello\n"},
		{"lines in one read", []string{"a\nb\n"}, "2026-12-02T19:58:00.123Z a\n2026-12-02T19:58:00.123Z b\n"},
		{"partial line stamped when it starts", []string{"par", "tial\nnext"}, "2026-12-02T19:58:00.123Z partial\n2026-12-02T19:58:01.123Z next"},
		{"empty lines", []string{"\n\n"}, "2026-12-02T19:58:00.123Z \n2026-12-02T19:58:00.123Z \n"},
		{"newline ends a read", []string{"x\n", "y\n"}, "2026-12-02T19:58:00.123Z x\n2026-12-02T19:58:01.123Z y\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.log")
			now := clock
			var hooked []byte
			c, err := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path,
				Timestamps: true, Now: func() time.Time { return now },
				EventsEnabled: true, OnLog: func(_ int, d []byte) { hooked = append(hooked, d...) }})
			if err != nil {
				t.Fatal(err)
			}
			if c.splice {
				t.Fatal("timestamps need the bytes: no splice")
			}
			st := c.newStream(1)
			for _, ch := range tc.chunks {
				c.handle(st, []byte(ch))
				now = now.Add(time.Second)
			}
			c.Close()
			got, _ := os.ReadFile(path)
			if string(got) != tc.want {
				t.Fatalf("file %q, want %q", got, tc.want)
			}
			if want := strings.Join(tc.chunks, ""); string(hooked) != want {
				t.Fatalf("PROCESS_LOG data %q, want the child's bytes %q", hooked, want)
			}
			if st := c.Stats(); st.Read != int64(len(strings.Join(tc.chunks, ""))) || st.Written != int64(len(tc.want)) {
				t.Fatalf("stats %+v", st)
			}
			text, err := Files{}.ReadFile(path, 0, 0)
			if err != nil || string(text) != tc.want {
				t.Fatalf("ReadFile %q, %v", text, err)
			}
			tail, _, _ := Files{}.TailFile(path, 0, 1000)
			if string(tail) != tc.want {
				t.Fatalf("TailFile %q", tail)
			}
		})
	}
}

// TestTimestampsRealPipe: a child's lines through a real pipe are all
// stamped, none lost.
func TestTimestampsRealPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.log")
	const total = 1 << 20
	capture(t, ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path, Timestamps: true}, "lines", 5, total, 4096)
	b, _ := os.ReadFile(path)
	var plain bytes.Buffer
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		ts, rest, ok := bytes.Cut(line, []byte(" "))
		if !ok {
			t.Fatalf("line %q has no stamp", line)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", string(ts)); err != nil || len(ts) != 24 {
			t.Fatalf("stamp %q: %v", ts, err)
		}
		plain.Write(rest)
	}
	want, _ := readAllStream("lines", 5, total)
	if !bytes.Equal(plain.Bytes(), want) {
		t.Fatal("lines without their stamps differ from the child's output")
	}
}

func readAllStream(kind string, seed uint64, total int64) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(newStream(kind, seed, total))
	return b.Bytes(), err
}

// TestChannelRotateCompressMaxAge: Rotate moves the file aside at a line
// boundary; with Compress the backup is gzipped by lumberjack, and MaxAge
// removes backups older than that.
func TestChannelRotateCompressMaxAge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.log")
	stale := filepath.Join(dir, "p-2000-01-01T00-00-00.000.log.gz")
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path,
		Backups: 5, Compress: true, MaxAgeDays: 7, StripANSI: true, RotateEvery: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.sink.mu.Lock()
	due := c.sink.nextRotate
	c.sink.mu.Unlock()
	if due.IsZero() || due.Hour() != 0 || due.Minute() != 0 || due.Location() != time.UTC {
		t.Fatalf("next timed rotation %v, want midnight UTC", due)
	}
	feed(c, []string{"line one\nopen"})
	if err := c.Rotate(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "open" {
		t.Fatalf("live file %q, want the open line", got)
	}
	waitFor(t, "the backup to be compressed and the stale one removed", func() bool {
		gz, _ := filepath.Glob(filepath.Join(dir, "p-*.log.gz"))
		plain, _ := filepath.Glob(filepath.Join(dir, "p-*.log"))
		_, err := os.Stat(stale)
		return len(gz) == 1 && len(plain) == 0 && errors.Is(err, os.ErrNotExist)
	})
	if st := c.Stats(); st.Rotations != 1 {
		t.Fatalf("stats %+v", st)
	}
	none, _ := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "q", Channel: "stdout"})
	if err := none.Rotate(); err != nil {
		t.Fatalf("a channel without a file: %v", err)
	}
}

// TestMainLogJSON: logfile_format=json writes one object per line with
// time, level and msg, and the process fields of a line about a process.
func TestMainLogJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supervisord.log")
	m, err := NewMainLog(MainLogOptions{Logfile: path, Level: config.LevelInfo, JSON: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	m.Log(config.LevelInfo, "supervisord started with pid 7")
	es := 2
	m.LogProcess(config.LevelWarn, `exited: web (exit status 2; not expected) "quoted"`, ProcessFields{
		Process: "web", Group: "g", PID: 42, FromState: "RUNNING", ToState: "EXITED", ExitStatus: &es})
	m.LogProcess(config.LevelInfo, "spawned: 'web' with pid 43", ProcessFields{Process: "web", Group: "g", PID: 43})
	m.Log(config.LevelDebug, "not logged")
	m.Close()
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	ts := fixedNow().UTC().Format("2006-01-02T15:04:05.000Z")
	want := []string{
		`{"time":"` + ts + `","level":"info","msg":"supervisord started with pid 7"}`,
		`{"time":"` + ts + `","level":"warn","msg":"exited: web (exit status 2; not expected) \"quoted\"","process":"web","group":"g","pid":42,"from_state":"RUNNING","to_state":"EXITED","exit_status":2}`,
		`{"time":"` + ts + `","level":"info","msg":"spawned: 'web' with pid 43","process":"web","group":"g","pid":43}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("main log:\n%s", b)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d\n got %s\nwant %s", i, lines[i], want[i])
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &v); err != nil {
			t.Errorf("line %d is not JSON: %v", i, err)
		}
	}
	// The text format ignores the fields.
	path2 := filepath.Join(t.TempDir(), "text.log")
	m2, _ := NewMainLog(MainLogOptions{Logfile: path2, Level: config.LevelInfo, Now: fixedNow})
	m2.LogProcess(config.LevelInfo, "spawned: 'web' with pid 43", ProcessFields{Process: "web", PID: 43})
	m2.Close()
	if b, _ := os.ReadFile(path2); string(b) != "2026-11-25 13:14:15,987 INFO spawned: 'web' with pid 43\n" {
		t.Fatalf("text main log %q", b)
	}
}

// TestMainLogRotateNow: MainLog.Rotate moves the main log aside; a main
// log on syslog has no file.
func TestMainLogRotateNow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.log")
	m, _ := NewMainLog(MainLogOptions{Logfile: path, Level: config.LevelInfo, Backups: 3, Now: fixedNow})
	m.Log(config.LevelInfo, "before")
	if err := m.Rotate(); err != nil {
		t.Fatal(err)
	}
	m.Log(config.LevelInfo, "after")
	m.Close()
	if got := readLogFiles(t, dir, "supervisord"); len(got) != 2 || !strings.HasSuffix(got[0], "before\n") || !strings.HasSuffix(got[1], "after\n") || strings.Contains(got[1], "before") {
		t.Fatalf("files %q", got)
	}
	sl, _ := NewMainLog(MainLogOptions{Logfile: SyslogTarget, Level: config.LevelInfo, Syslog: NewSyslog("test")})
	if err := sl.Rotate(); !errors.Is(err, ErrNoFile) {
		t.Fatalf("syslog main log: Rotate = %v, want ErrNoFile", err)
	}
}

// TestMainLogBackupOptions: the main log's compress, maxage and
// rotate_every reach its file.
func TestMainLogBackupOptions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.log")
	stale := filepath.Join(dir, "supervisord-2000-01-01T00-00-00.000.log")
	if err := os.WriteFile(stale, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := NewMainLog(MainLogOptions{Logfile: path, Level: config.LevelInfo, Backups: 3, Compress: true, MaxAgeDays: 1,
		RotateEvery: time.Hour, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.sink.mu.Lock()
	due := m.sink.nextRotate
	m.sink.mu.Unlock()
	if due.IsZero() || due.Minute() != 0 || due.Second() != 0 {
		t.Fatalf("next timed rotation %v, want an hour boundary", due)
	}
	m.Log(config.LevelInfo, "line")
	if err := m.Rotate(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a compressed backup and the stale one removed", func() bool {
		gz, _ := filepath.Glob(filepath.Join(dir, "supervisord-*.log.gz"))
		_, err := os.Stat(stale)
		return len(gz) == 1 && errors.Is(err, os.ErrNotExist)
	})
}
