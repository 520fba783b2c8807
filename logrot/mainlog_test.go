package logrot

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// A *MainLog is a procman.Logger (Log(config.LogLevel, string)).
var _ interface{ Log(config.LogLevel, string) } = (*MainLog)(nil)

func TestMainLogFormatAndLevel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.log")
	var stdout bytes.Buffer
	m, err := NewMainLog(MainLogOptions{Logfile: path, Level: config.LevelInfo, Stdout: &stdout, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	m.Log(config.LevelCritical, "crit")
	m.Log(config.LevelError, "erro")
	m.Logf(config.LevelWarn, "warn %d", 3)
	m.Log(config.LevelInfo, "info: multi\nline")
	m.Log(config.LevelDebug, "debug is filtered")
	m.Log(config.LevelBlather, "blather is filtered")
	m.Close()
	ts := "2026-11-25 13:14:15,987"
	want := ts + " CRIT crit\n" + ts + " ERRO erro\n" + ts + " WARN warn 3\n" + ts + " INFO info: multi\nline\n"
	if got, _ := os.ReadFile(path); string(got) != want {
		t.Errorf("file\n%q\nwant\n%q", got, want)
	}
	if stdout.String() != want {
		t.Errorf("stdout\n%q\nwant\n%q", stdout.String(), want)
	}
	if m.Path() != path || m.Target() != path {
		t.Errorf("Path %q Target %q", m.Path(), m.Target())
	}
}

func TestMainLogRealClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supervisord.log")
	m, _ := NewMainLog(MainLogOptions{Logfile: path, Level: config.LevelBlather})
	m.Log(config.LevelBlather, "x")
	m.Close()
	got, _ := os.ReadFile(path)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} BLAT x\n$`).Match(got) {
		t.Errorf("line %q", got)
	}
}

func TestMainLogClear(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.log")
	var stdout bytes.Buffer
	m, _ := NewMainLog(MainLogOptions{Logfile: path, Level: config.LevelInfo, Stdout: &stdout, Now: fixedNow})
	defer m.Close()
	m.Log(config.LevelInfo, "before")
	if err := m.Clear(); err != nil {
		t.Fatal(err)
	}
	m.Log(config.LevelInfo, "after")
	ts := "2026-11-25 13:14:15,987 INFO "
	if got, _ := os.ReadFile(path); string(got) != ts+"after\n" {
		t.Errorf("file after clear %q", got)
	}
	// Python logs the message once per handler (stdout and file).
	if want := ts + "before\n" + ts + "reopening log file\n" + ts + "reopening log file\n" + ts + "after\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	os.Remove(path)
	if err := m.Clear(); !errors.Is(err, ErrNoFile) {
		t.Errorf("Clear of a missing file: %v, want ErrNoFile", err)
	}
	sm, _ := NewMainLog(MainLogOptions{Logfile: "syslog", Syslog: syslogAt(filepath.Join(dir, "none"))})
	defer sm.Close()
	if err := sm.Clear(); !errors.Is(err, ErrNoFile) {
		t.Errorf("Clear of the syslog main log: %v, want ErrNoFile", err)
	}
	if sm.Path() != "" || sm.Target() != "syslog" {
		t.Errorf("syslog Path %q Target %q", sm.Path(), sm.Target())
	}
}

func TestMainLogReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.log")
	m, _ := NewMainLog(MainLogOptions{Logfile: path, Level: config.LevelInfo, Now: fixedNow})
	defer m.Close()
	m.Log(config.LevelInfo, "one")
	os.Rename(path, path+".1")
	if err := m.Reopen(); err != nil {
		t.Fatal(err)
	}
	m.Log(config.LevelInfo, "two")
	ts := "2026-11-25 13:14:15,987 INFO "
	if got, _ := os.ReadFile(path + ".1"); string(got) != ts+"one\n"+ts+"supervisord logreopen\n" {
		t.Errorf("old file %q", got)
	}
	if got, _ := os.ReadFile(path); string(got) != ts+"two\n" {
		t.Errorf("new file %q", got)
	}
}

// TestMainLogRotation: lines are never split and no file exceeds
// maxbytes: a record that does not fit rotates first (41-byte records, 12
// per 500-byte file); backups kept.
func TestMainLogRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.log")
	m, _ := NewMainLog(MainLogOptions{Logfile: path, Level: config.LevelInfo, MaxBytes: 500, Backups: 100, Now: fixedNow})
	for i := range 100 {
		m.Logf(config.LevelInfo, "message %03d", i)
	}
	m.Close()
	files := logFiles(t, dir, "supervisord")
	var all []byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if f != path && len(b) != 12*41 || len(b) > 500 {
			t.Errorf("%s has %d bytes", filepath.Base(f), len(b))
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s ends mid-line", filepath.Base(f))
		}
		all = append(all, b...)
	}
	var want strings.Builder
	for i := range 100 {
		fmt.Fprintf(&want, "2026-11-25 13:14:15,987 INFO message %03d\n", i)
	}
	if string(all) != want.String() {
		t.Error("rotated main log lost or reordered lines")
	}
}

func TestMainLogConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supervisord.log")
	m, _ := NewMainLog(MainLogOptions{Logfile: path, Level: config.LevelInfo, Now: fixedNow})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				m.Logf(config.LevelInfo, "g%d line %d", g, i)
			}
		}()
	}
	wg.Wait()
	m.Close()
	lines := readLines(t, path)
	if len(lines) != 4000 {
		t.Fatalf("%d lines, want 4000", len(lines))
	}
	re := regexp.MustCompile(`^2026-11-25 13:14:15,987 INFO g\d line \d+$`)
	for _, l := range lines {
		if !re.MatchString(l) {
			t.Fatalf("mangled line %q", l)
		}
	}
}

func TestMainLogSyslog(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m, err := NewMainLog(MainLogOptions{Logfile: "syslog", Level: config.LevelInfo, Syslog: syslogAt(sock), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Log(config.LevelWarn, "a\nb")
	buf := make([]byte, 4096)
	for _, want := range []string{"2026-11-25 13:14:15,987 WARN a\n", "2026-11-25 13:14:15,987 WARN b\n"} {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:n]); !strings.HasSuffix(got, "supervisord["+fmt.Sprint(os.Getpid())+"]: "+want) {
			t.Errorf("syslog got %q, want suffix %q", got, want)
		}
	}
}

// TestMainLogGolden compares the line format with Python's logger at a
// fixed time in UTC (testdata/mainlog_golden.txt, -update regenerates it).
func TestMainLogGolden(t *testing.T) {
	golden := filepath.Join("testdata", "mainlog_golden.txt")
	if *update {
		out, err := exec.Command("/usr/bin/python3", filepath.Join("testdata", "gen_mainlog_golden.py")).Output()
		if err != nil {
			t.Fatalf("python: %v", err)
		}
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	path := filepath.Join(t.TempDir(), "supervisord.log")
	m, err := NewMainLog(MainLogOptions{Logfile: path, Level: config.LevelBlather, Stdout: &out,
		Now: func() time.Time { return time.Unix(1795637655, 987654000).UTC() }})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []config.LogLevel{config.LevelCritical, config.LevelError, config.LevelWarn, config.LevelInfo, config.LevelDebug, config.LevelTrace, config.LevelBlather} {
		desc := map[config.LogLevel]string{config.LevelCritical: "critical", config.LevelError: "error", config.LevelWarn: "warn", config.LevelInfo: "info",
			config.LevelDebug: "debug", config.LevelTrace: "trace", config.LevelBlather: "blather"}[l]
		m.Log(l, desc+" message")
	}
	m.Log(config.LevelInfo, "multi\nline café 100%")
	m.childOutput("prog", "prog", 1, "stdout", []byte("hello"))
	m.Close()
	if out.String() != string(want) {
		t.Errorf("stdout\n%s\nPython gives\n%s", out.String(), want)
	}
	if got, _ := os.ReadFile(path); string(got) != string(want) {
		t.Errorf("file\n%s\nPython gives\n%s", got, want)
	}
}

// countWriter counts the writes it gets.
type countWriter struct {
	bytes.Buffer
	writes int
}

func (w *countWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// Lines logged in a Batch reach stdout in one write and the file as they
// would one by one: the same lines, in order, and the same rotation
// points (a batch that crosses one is written line by line).
func TestMainLogBatch(t *testing.T) {
	write := func(batched bool) (files []string, stdout *countWriter) {
		dir := t.TempDir()
		path := filepath.Join(dir, "supervisord.log")
		stdout = &countWriter{}
		m, err := NewMainLog(MainLogOptions{Logfile: path, Level: config.LevelInfo, MaxBytes: 500, Backups: 100, Now: fixedNow, Stdout: stdout})
		if err != nil {
			t.Fatal(err)
		}
		for b := range 10 {
			lines := func() {
				for i := range 7 {
					m.Logf(config.LevelInfo, "message %03d", b*7+i)
					m.Logf(config.LevelDebug, "not logged")
				}
			}
			if batched {
				m.Batch(func() {
					lines()
					m.Batch(func() { m.Log(config.LevelWarn, "nested") }) // held until the outer one ends
				})
			} else {
				lines()
				m.Log(config.LevelWarn, "nested")
			}
		}
		m.Close()
		for _, f := range logFiles(t, dir, "supervisord") { // oldest first
			b, _ := os.ReadFile(f)
			files = append(files, string(b))
		}
		return files, stdout
	}
	one, oneOut := write(false)
	batched, batchedOut := write(true)
	if len(one) < 3 {
		t.Fatalf("only %d files: the test must cross rotation points", len(one))
	}
	if !reflect.DeepEqual(one, batched) {
		t.Errorf("files written in batches differ from line by line:\n%v\n%v", batched, one)
	}
	if oneOut.String() != batchedOut.String() {
		t.Errorf("stdout differs:\n%s\n%s", batchedOut.String(), oneOut.String())
	}
	if oneOut.writes != 80 || batchedOut.writes != 10 {
		t.Errorf("stdout got %d writes line by line (want 80) and %d in batches (want 10)", oneOut.writes, batchedOut.writes)
	}
}
