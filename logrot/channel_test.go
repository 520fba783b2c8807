package logrot

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

const (
	tBegin = "<!--XSUPERVISOR:BEGIN-->"
	tEnd   = "<!--XSUPERVISOR:END-->"
)

// hookLog records hook calls in order.
type hookLog struct {
	mu     sync.Mutex
	events []string
}

func (h *hookLog) add(kind string, pid int, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if pid != 42 {
		kind += "(wrong pid)"
	}
	// Coalesce consecutive LOG events: how output is split into chunks is
	// up to the pipe.
	if n := len(h.events); kind == "LOG" && n > 0 && strings.HasPrefix(h.events[n-1], "LOG ") {
		h.events[n-1] += string(data)
		return
	}
	h.events = append(h.events, kind+" "+string(data))
}

func (h *hookLog) get() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.events...)
}

// feed drives a channel's chunk handling directly, so a test decides where
// reads split the output.
func feed(c *Channel, chunks []string) {
	st := c.newStream(42)
	for _, ch := range chunks {
		c.handle(st, []byte(ch))
	}
	c.mu.Lock()
	c.finish(st)
	c.mu.Unlock()
}

// splits returns the ways the test splits input: whole, one byte per read,
// and every two-piece split.
func splits(in string) [][]string {
	out := [][]string{{in}}
	var bytewise []string
	for i := range len(in) {
		bytewise = append(bytewise, in[i:i+1])
	}
	out = append(out, bytewise)
	for i := 1; i < len(in); i++ {
		out = append(out, []string{in[:i], in[i:]})
	}
	return out
}

func TestCaptureMode(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		file   string
		events []string
	}{
		{
			// Reference §7, verified against Python.
			name:   "reference example",
			in:     "before" + tBegin + "captured data" + tEnd + "after",
			file:   "beforeafter",
			events: []string{"LOG beforecaptured data", "COMM captured data", "LOG after"},
		},
		{"no tokens", "hello world\n", "hello world\n", []string{"LOG hello world\n"}},
		{"token prefix at EOF is flushed", "abc<!--XSUP", "abc<!--XSUP", []string{"LOG abc<!--XSUP"}},
		{"short output", "hi", "hi", []string{"LOG hi"}},
		{
			name:   "two captures",
			in:     "a" + tBegin + "one" + tEnd + "b" + tBegin + "two" + tEnd + "c",
			file:   "abc",
			events: []string{"LOG aone", "COMM one", "LOG btwo", "COMM two", "LOG c"},
		},
		{"empty capture", tBegin + tEnd + "x", "x", []string{"COMM ", "LOG x"}},
		{"unterminated capture", "x" + tBegin + "captured", "x", []string{"LOG xcaptured"}},
		{"END outside capture is text", "a" + tEnd + "b", "a" + tEnd + "b", []string{"LOG a" + tEnd + "b"}},
		{"BEGIN inside capture is data", tBegin + "a" + tBegin + "b" + tEnd, "", []string{"LOG a" + tBegin + "b", "COMM a" + tBegin + "b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunks := range splits(tc.in) {
				dir := t.TempDir()
				path := filepath.Join(dir, "out.log")
				var h hookLog
				c, err := NewHub(nil).NewChannel(ChannelConfig{
					ProcessName: "p", Channel: "stdout", Path: path,
					CaptureMaxBytes: 1 << 20, EventsEnabled: true,
					OnLog:           func(pid int, d []byte) { h.add("LOG", pid, d) },
					OnCommunication: func(pid int, d []byte) { h.add("COMM", pid, d) },
				})
				if err != nil {
					t.Fatal(err)
				}
				feed(c, chunks)
				c.Close()
				got, _ := os.ReadFile(path)
				if string(got) != tc.file {
					t.Errorf("chunks %q: file %q, want %q", chunks, got, tc.file)
				}
				if diff := cmp.Diff(tc.events, h.get()); diff != "" {
					t.Errorf("chunks %q: events (-want +got):\n%s", chunks, diff)
				}
			}
		})
	}
}

func TestCaptureNoEventsWithoutFlag(t *testing.T) {
	var h hookLog
	c, _ := NewHub(nil).NewChannel(ChannelConfig{
		ProcessName: "p", Channel: "stderr", CaptureMaxBytes: 100,
		OnLog:           func(pid int, d []byte) { h.add("LOG", pid, d) },
		OnCommunication: func(pid int, d []byte) { h.add("COMM", pid, d) },
	})
	feed(c, []string{"x" + tBegin + "y" + tEnd})
	c.Close()
	if diff := cmp.Diff([]string{"COMM y"}, h.get()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestBoundBuffer is Python's BoundIO drop rule.
func TestBoundBuffer(t *testing.T) {
	cases := []struct {
		max    int64
		writes []string
		want   string
	}{
		{10, []string{"abc", "def"}, "abcdef"},
		{10, []string{"abcdef", "ghijk"}, "fghijk"},       // 6+5 > 10: drop the first 5
		{5, []string{"abc", "defghij"}, "defghij"},        // a write larger than max replaces all
		{4, []string{"ab", "cd", "ef"}, "cdef"},           // exactly at max keeps everything
		{3, []string{"a", "b", "c", "d", "e"}, "cde"},     // sliding
		{8, []string{"12345678", "9"}, "23456789"},        // one byte over
		{2, []string{"", "xy", "", "z"}, "yz"},            // empty writes change nothing
		{10, []string{"abcdefghij", "klm"}, "defghijklm"}, // full, then more
	}
	for _, c := range cases {
		b := boundBuffer{max: c.max}
		for _, w := range c.writes {
			b.write([]byte(w))
		}
		if string(b.buf) != c.want {
			t.Errorf("max %d writes %q: %q, want %q", c.max, c.writes, b.buf, c.want)
		}
	}
}

type textGolden struct {
	Strip []struct {
		In  string `json:"in"`
		Out string `json:"out"`
	} `json:"strip"`
	ChildLog []struct {
		Name     string `json:"name"`
		Data     string `json:"data"`
		Normal   string `json:"normal"`
		Listener string `json:"listener"`
	} `json:"childlog"`
}

func loadTextGolden(t *testing.T) textGolden {
	t.Helper()
	golden := filepath.Join("testdata", "text_golden.json")
	if *update {
		out, err := exec.Command("/usr/bin/python3", filepath.Join("testdata", "gen_text_golden.py")).Output()
		if err != nil {
			t.Fatalf("python: %v", err)
		}
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var g textGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Strip) == 0 || len(g.ChildLog) == 0 {
		t.Fatal("empty golden file")
	}
	return g
}

// TestStripANSIGolden compares with Python's stripEscapes, whole and split
// at every position (Python strips each read on its own; we carry the state
// so split sequences are stripped the same way).
func TestStripANSIGolden(t *testing.T) {
	for _, c := range loadTextGolden(t).Strip {
		in, _ := base64.StdEncoding.DecodeString(c.In)
		want, _ := base64.StdEncoding.DecodeString(c.Out)
		for i := 0; i <= len(in); i++ {
			var a ansiStripper
			got := append(a.strip(in[:i]), a.strip(in[i:])...)
			got = append(got, a.flush()...)
			if !bytes.Equal(got, want) {
				t.Errorf("strip(%q) split at %d = %q, Python gives %q", in, i, got, want)
			}
		}
	}
}

// TestChildLogTextGolden: the main log text for child output, and Python's
// repr of names and bytes.
func TestChildLogTextGolden(t *testing.T) {
	for _, c := range loadTextGolden(t).ChildLog {
		data, _ := base64.StdEncoding.DecodeString(c.Data)
		if got := pyrepr.Str(c.Name) + " stdout output:\n" + pyrepr.DecodedOrUndecodable(data); got != c.Normal {
			t.Errorf("child output (%q, %q) = %q, Python gives %q", c.Name, data, got, c.Normal)
		}
		if got := pyrepr.Str(c.Name) + " stdout output:\n" + pyrepr.Bytes(data); got != c.Listener {
			t.Errorf("listener output (%q, %q) = %q, Python gives %q", c.Name, data, got, c.Listener)
		}
	}
}

func fixedNow() time.Time {
	return time.Date(2026, 11, 25, 13, 14, 15, 987654321, time.Local)
}

func TestChannelMainLogDebug(t *testing.T) {
	for _, level := range []config.LogLevel{config.LevelDebug, config.LevelInfo} {
		dir := t.TempDir()
		mainPath := filepath.Join(dir, "supervisord.log")
		m, err := NewMainLog(MainLogOptions{Logfile: mainPath, Level: level, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "foo", Channel: "stdout", MainLog: m, CaptureMaxBytes: 100, StripANSI: true})
		feed(c, []string{"hello\n", "\x1b[31m\xff\n", "a" + tBegin + "b" + tEnd})
		c.Close()
		m.Close()
		got, _ := os.ReadFile(mainPath)
		want := ""
		if level == config.LevelDebug {
			ts := "2026-11-25 13:14:15,987 DEBG "
			want = ts + "'foo' stdout output:\nhello\n\n" +
				ts + "'foo' stdout output:\nUndecodable: b'\\xff\\n'\n" +
				ts + "'foo' stdout output:\na\n" +
				ts + "'foo' stdout output:\nb\n" +
				ts + "'foo' stdout emitted a comm event\n"
		}
		if string(got) != want {
			t.Errorf("level %v: main log\n%s\nwant\n%s", level, got, want)
		}
	}
}

func TestListenerChannel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "listener.log")
	mainPath := filepath.Join(dir, "supervisord.log")
	m, _ := NewMainLog(MainLogOptions{Logfile: mainPath, Level: config.LevelDebug, Now: fixedNow})
	var h hookLog
	c, err := NewHub(nil).NewChannel(ChannelConfig{
		ProcessName: "lsn", Channel: "stdout", Path: path, Listener: true,
		CaptureMaxBytes: 100, EventsEnabled: true, MainLog: m,
		OnRaw: func(pid int, d []byte) { h.add("RAW", pid, d) },
		OnLog: func(pid int, d []byte) { h.add("LOG", pid, d) },
	})
	if err != nil {
		t.Fatal(err)
	}
	feed(c, []string{"READY\n", "RESULT 2\nOK" + tBegin})
	c.Close()
	m.Close()
	if diff := cmp.Diff([]string{"RAW READY\n", "RAW RESULT 2\nOK" + tBegin}, h.get()); diff != "" {
		t.Errorf("hooks (-want +got):\n%s", diff)
	}
	if got, _ := os.ReadFile(path); string(got) != "READY\nRESULT 2\nOK"+tBegin {
		t.Errorf("listener log %q", got)
	}
	got, _ := os.ReadFile(mainPath)
	if want := "2026-11-25 13:14:15,987 DEBG 'lsn' stdout output:\nb'READY\\n'\n"; !strings.HasPrefix(string(got), want) {
		t.Errorf("main log %q, want prefix %q", got, want)
	}
}

// TestIdlePipesHoldNoBuffers: 1,000 idle pipes hold no read buffer, on
// the read(2) path (a hook sees the bytes) and the splice(2) path.
func TestIdlePipesHoldNoBuffers(t *testing.T) {
	for _, hook := range []bool{true, false} {
		hub := NewHub(nil)
		cfg := ChannelConfig{ProcessName: "p", Channel: "stdout", Path: filepath.Join(t.TempDir(), "p.log")}
		var hooked sync.Map
		if hook {
			cfg.EventsEnabled = true
			cfg.OnLog = func(pid int, _ []byte) { hooked.Store(pid, true) }
		}
		c, err := hub.NewChannel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if c.splice == hook {
			t.Fatalf("splice=%v with hook=%v", c.splice, hook)
		}
		var writers []*os.File
		for i := range 1000 {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			writers = append(writers, w)
			c.Consume(r, i)
			if i%2 == 0 {
				w.Write([]byte("x\n"))
			}
		}
		deadline := time.Now().Add(60 * time.Second) // 500 pipes' reads on a loaded box
		for c.Stats().Written < 1000 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		// The last reader returns its buffer just after counting its bytes.
		for hub.BuffersInUse() != 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		if n := hub.BuffersInUse(); n != 0 {
			t.Errorf("hook=%v: %d buffers held by 1000 idle pipes, want 0", hook, n)
		}
		for _, w := range writers {
			w.Close()
		}
		c.Wait()
		c.Close()
		if st := c.Stats(); st.Written != 1000 {
			t.Errorf("hook=%v: stats %+v, want 1000 bytes written", hook, st)
		}
		if hook {
			n := 0
			hooked.Range(func(any, any) bool { n++; return true })
			if n != 500 {
				t.Errorf("PROCESS_LOG from %d pipes, want 500", n)
			}
		}
	}
}

// TestCloseDrainsPipes: Close handles what is already in a pipe, then
// stops reading it even though its writer is still open.
func TestCloseDrainsPipes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.log")
	c, _ := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path})
	r, w, _ := os.Pipe()
	defer w.Close()
	c.Consume(r, 1)
	data := bytes.Repeat([]byte("0123456789abcdef"), 4000) // 64000 bytes, fits in the pipe
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, data) {
		t.Fatalf("file has %d bytes after Close, want %d", len(got), len(data))
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("the read end is still open after Close")
	}
}

func TestClearAndReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.log")
	var h hookLog
	c, _ := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path, CaptureMaxBytes: 100,
		OnCommunication: func(pid int, d []byte) { h.add("COMM", pid, d) }})
	r, w, _ := os.Pipe()
	c.Consume(r, 42)
	write := func(s string) {
		t.Helper()
		before := c.Stats().Read
		w.Write([]byte(s))
		deadline := time.Now().Add(30 * time.Second)
		for c.Stats().Read < before+int64(len(s)) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	write("one\n" + tBegin + "lost")
	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); len(got) != 0 {
		t.Fatalf("after Clear the file holds %q", got)
	}
	write("kept" + tEnd + "two\n")
	// External rotation: move the file away, then reopen by name.
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	write("three\n")
	if err := c.Reopen(); err != nil {
		t.Fatal(err)
	}
	write("four\n")
	w.Close()
	c.Wait()
	c.Close()
	if got, _ := os.ReadFile(path + ".old"); string(got) != "two\nthree\n" {
		t.Errorf("moved file %q", got)
	}
	if got, _ := os.ReadFile(path); string(got) != "four\n" {
		t.Errorf("reopened file %q", got)
	}
	if diff := cmp.Diff([]string{"COMM kept"}, h.get()); diff != "" {
		t.Errorf("Clear must drop the captured text (-want +got):\n%s", diff)
	}
}

// TestSyslog: child output goes to syslog line by line as "<name> <line>";
// without a daemon the file still gets everything.
func TestSyslog(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "log.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hub := NewHub(syslogAt(sock))
	path := filepath.Join(dir, "p.log")
	c, _ := hub.NewChannel(ChannelConfig{ProcessName: "web", Channel: "stdout", Path: path, Syslog: true})
	feed(c, []string{"line one\nline two\n"})
	c.Close()
	var got []string
	buf := make([]byte, 4096)
	for range 2 {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		msg := string(buf[:n])
		got = append(got, msg[strings.Index(msg, ": ")+2:])
	}
	if diff := cmp.Diff([]string{"web line one\n", "web line two\n"}, got); diff != "" {
		t.Errorf("syslog (-want +got):\n%s", diff)
	}

	// No daemon at all.
	hub2 := NewHub(syslogAt(filepath.Join(dir, "nobody.sock")))
	path2 := filepath.Join(dir, "q.log")
	c2, _ := hub2.NewChannel(ChannelConfig{ProcessName: "q", Channel: "stdout", Path: path2, Syslog: true})
	feed(c2, []string{"a\n", "b\n"})
	c2.Close()
	if b, _ := os.ReadFile(path2); string(b) != "a\nb\n" {
		t.Errorf("file %q without a syslog daemon", b)
	}
}

// TestUndecodableBytesPassThrough: bytes that are not UTF-8, NULs and
// control characters reach the file and the hooks untouched.
func TestUndecodableBytesPassThrough(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.log")
	var all []byte
	for i := range 256 {
		all = append(all, byte(i))
	}
	var got []byte
	c, _ := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path, EventsEnabled: true,
		OnLog: func(_ int, d []byte) { got = append(got, d...) }})
	feed(c, []string{string(all[:100]), string(all[100:])})
	c.Close()
	if b, _ := os.ReadFile(path); !bytes.Equal(b, all) {
		t.Errorf("file %q", b)
	}
	if !bytes.Equal(got, all) {
		t.Errorf("PROCESS_LOG data %q", got)
	}
}

// TestWriteFailureIsReported: bytes that cannot be written (/dev/full:
// ENOSPC) are counted and reported in the main log once (CRIT), never
// silently lost.
func TestWriteFailureIsReported(t *testing.T) {
	dir := t.TempDir()
	mainPath := filepath.Join(dir, "supervisord.log")
	m, _ := NewMainLog(MainLogOptions{Logfile: mainPath, Level: config.LevelInfo, Now: fixedNow})
	defer m.Close()
	c, err := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "full", Channel: "stderr", Path: "/dev/full", MainLog: m})
	if err != nil {
		t.Fatal(err)
	}
	r, w, _ := os.Pipe()
	c.Consume(r, 1)
	w.Write(bytes.Repeat([]byte("x"), 1000))
	waitFor(t, "the bytes to be read", func() bool { return c.Stats().Read == 1000 })
	w.Write(bytes.Repeat([]byte("y"), 500))
	w.Close()
	c.Wait()
	c.Close()
	if st := c.Stats(); st.Dropped != 1500 || st.Written != 0 {
		t.Fatalf("stats %+v, want 1500 dropped", st)
	}
	logged, _ := os.ReadFile(mainPath)
	want := "2026-11-25 13:14:15,987 CRIT 'full' stderr log write failed, 1000 bytes not logged, output is dropped until it can be written: "
	if !strings.HasPrefix(string(logged), want) || !strings.Contains(string(logged), "no space left on device") {
		t.Fatalf("main log %q, want prefix %q", logged, want)
	}
	if !strings.HasSuffix(string(logged), "ERRO 'full' stderr log write failed, 500 more bytes not logged\n") {
		t.Fatalf("main log %q does not account for the last 500 bytes", logged)
	}
}

// syslogAt is a sink for a syslog daemon listening on the unixgram socket
// at path, "supervisord" as the tag.
func syslogAt(path string) *Syslog {
	return &Syslog{network: "unixgram", raddr: path, tag: "supervisord"}
}
