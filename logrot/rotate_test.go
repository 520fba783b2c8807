package logrot

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// logFiles returns the backups of dir/base.log in rotation order, then the
// live file.
func logFiles(t *testing.T, dir, base string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var backups []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, base+"-") && strings.HasSuffix(n, ".log") {
			backups = append(backups, filepath.Join(dir, n))
		}
	}
	sort.Strings(backups) // lumberjack's UTC timestamps sort in time order
	return append(backups, filepath.Join(dir, base+".log"))
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func hashFiles(t *testing.T, paths []string) [32]byte {
	t.Helper()
	h := sha256.New()
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(h, f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

func hashStream(t *testing.T, r io.Reader) [32]byte {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// capture runs the writer child into a channel and waits for everything.
func capture(t *testing.T, cfg ChannelConfig, kind string, seed uint64, total int64, writeSize int) *Channel {
	t.Helper()
	ch, err := NewHub(nil).NewChannel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd, r := startWriter(t, kind, seed, total, writeSize)
	ch.Consume(r, cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("writer child: %v", err)
	}
	ch.Wait()
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	return ch
}

// checkLineBoundaries checks the rotation rule on files (backups in order,
// then the live file): none holds more than maxBytes, and a file that does
// not end at a line boundary is one piece of a line longer than maxBytes
// (exactly maxBytes bytes, no newline in it), so no shorter line is ever
// split. It returns the files' contents joined.
func checkLineBoundaries(t *testing.T, files []string, maxBytes int64) []byte {
	t.Helper()
	var all []byte
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
		if int64(len(b)) > maxBytes {
			t.Errorf("%s has %d bytes, more than maxbytes %d", filepath.Base(f), len(b), maxBytes)
		}
		if i == len(files)-1 || bytes.HasSuffix(b, []byte("\n")) {
			continue
		}
		if int64(len(b)) != maxBytes || bytes.IndexByte(b, '\n') >= 0 {
			tail := b[bytes.LastIndexByte(b, '\n')+1:]
			t.Errorf("%s (%d bytes) ends inside a line shorter than maxbytes: %.40q", filepath.Base(f), len(b), tail)
		}
	}
	return all
}

// TestRotationByteAccounting pushes tens of MiB through a real child and a
// real pipe with a small maxbytes: every byte must be in the backups plus
// the live file, in order, no file may exceed maxbytes, and rotation
// happens at line boundaries (issue 11: a child's numbered lines were cut
// across two files at every rotation).
func TestRotationByteAccounting(t *testing.T) {
	cases := []struct {
		name      string
		kind      string
		total     int64
		maxBytes  int64
		writeSize int
		hook      bool // a PROCESS_LOG hook: read(2)/write(2) instead of splice(2)
	}{
		{"binary", "binary", 64 << 20, 1 << 20, 128<<10 + 7, false},
		{"lines", "lines", 32 << 20, 1 << 20, 4096, false},
		{"lines 256KB", "lines", 8 << 20, 256 << 10, 4096, false},
		{"lines 256KB via read path", "lines", 8 << 20, 256 << 10, 4096, true},
		{"odd sizes", "binary", 10<<20 + 12345, 1000003, 65536, false},
		{"exact multiple", "lines", 4 << 20, 1 << 20, 1000, false},
		{"binary via read path", "binary", 16<<20 + 5, 1 << 20, 100000, true},
		{"lines longer than maxbytes", "lines", 20 << 10, 100, 3000, false},
		{"lines longer than maxbytes via read path", "lines", 20 << 10, 100, 3000, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "prog.log")
			cfg := ChannelConfig{
				ProcessName: "prog", Channel: "stdout", Path: path,
				MaxBytes: tc.maxBytes, Backups: 1 << 20,
			}
			hooked := sha256.New()
			if tc.hook {
				cfg.EventsEnabled = true
				cfg.OnLog = func(_ int, d []byte) { hooked.Write(d) }
			}
			ch := capture(t, cfg, tc.kind, uint64(i), tc.total, tc.writeSize)
			if ch.splice == tc.hook {
				t.Fatalf("splice=%v with hook=%v", ch.splice, tc.hook)
			}

			files := logFiles(t, dir, "prog")
			if min := int((tc.total - 1) / tc.maxBytes); len(files)-1 < min {
				t.Fatalf("%d backups, want at least %d", len(files)-1, min)
			}
			all := checkLineBoundaries(t, files, tc.maxBytes)
			st := ch.Stats()
			if st.Read != tc.total || st.Written != tc.total || st.Dropped != 0 || st.Rotations != int64(len(files)-1) {
				t.Errorf("stats %+v, want read=written=%d dropped=0 rotations=%d", st, tc.total, len(files)-1)
			}
			want := hashStream(t, newStream(tc.kind, uint64(i), tc.total))
			if sha256.Sum256(all) != want {
				t.Fatal("backups + live file differ from the bytes written")
			}
			if tc.hook && [32]byte(hooked.Sum(nil)) != want {
				t.Fatal("PROCESS_LOG data differ from the bytes written")
			}
		})
	}
}

// TestRotationBackupsKept: only the newest `backups` files survive, and
// they are the newest bytes.
func TestRotationBackupsKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prog.log")
	const mb = 1 << 20
	capture(t, ChannelConfig{ProcessName: "prog", Channel: "stdout", Path: path, MaxBytes: mb, Backups: 3},
		"binary", 7, 8*mb, 50000)
	// lumberjack deletes old backups asynchronously.
	deadline := time.Now().Add(10 * time.Second)
	var files []string
	for {
		files = logFiles(t, dir, "prog")
		if len(files) == 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(files) != 4 {
		t.Fatalf("files %v, want 3 backups and the live file", files)
	}
	all, _ := io.ReadAll(newStream("binary", 7, 8*mb))
	kept := checkLineBoundaries(t, files, mb)
	if len(kept) < 3*mb || !bytes.HasSuffix(all, kept) {
		t.Fatalf("kept backups (%d bytes) are not the newest bytes", len(kept))
	}
}

// TestRotationNoBackupsTruncates: backups=0 keeps no backup; the file is
// truncated at the threshold.
func TestRotationNoBackupsTruncates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prog.log")
	const mb = 1 << 20
	total := int64(3*mb + mb/2)
	ch := capture(t, ChannelConfig{ProcessName: "prog", Channel: "stdout", Path: path, MaxBytes: mb, Backups: 0},
		"lines", 3, total, 3000)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("dir holds %d files, want only the live file", len(ents))
	}
	all, _ := io.ReadAll(newStream("lines", 3, total))
	got, _ := os.ReadFile(path)
	if len(got) < int(total-3*mb) || len(got) > mb || !bytes.HasSuffix(all, got) || !bytes.HasSuffix(all[:len(all)-len(got)], []byte("\n")) {
		t.Fatalf("live file has %d bytes, want the last whole lines written after 3 rotations", len(got))
	}
	if r := ch.Stats().Rotations; r != 3 {
		t.Errorf("%d rotations, want 3", r)
	}
}

// TestNoRotationWhenMaxBytesZero: maxbytes=0 never rotates.
func TestNoRotationWhenMaxBytesZero(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prog.log")
	total := int64(5 << 20)
	capture(t, ChannelConfig{ProcessName: "prog", Channel: "stdout", Path: path, MaxBytes: 0, Backups: 10},
		"binary", 4, total, 65536)
	if files := logFiles(t, dir, "prog"); len(files) != 1 || fileSize(t, path) != total {
		t.Fatalf("files %v, want one file of %d bytes", files, total)
	}
}

// TestRotationCountsExistingFile: an existing file is appended to and its
// size counts toward the threshold.
func TestRotationCountsExistingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prog.log")
	old := bytes.Repeat([]byte("old\n"), 150) // 600 bytes
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := openSink(sinkOptions{Path: path, MaxBytes: 1000, Backups: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write(bytes.Repeat([]byte("n"), 700)); err != nil {
		t.Fatal(err)
	}
	files := logFiles(t, dir, "prog")
	if len(files) != 2 {
		t.Fatalf("files %v, want one backup", files)
	}
	// The 700 bytes are one open line: they start the new file.
	b, _ := os.ReadFile(files[0])
	if !bytes.Equal(b, old) {
		t.Errorf("backup has %d bytes, want the old 600", len(b))
	}
	if sz := fileSize(t, path); sz != 700 {
		t.Errorf("live file %d bytes, want 700", sz)
	}
	// The mode of the file is carried over to the new live file.
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("live file mode %v, want 0644", fi.Mode().Perm())
	}
}

// TestSinkNoticesTruncation: a file truncated behind the sink's back
// (logrotate copytruncate) is not rotated early and gets no hole.
func TestSinkNoticesTruncation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.log")
	s, err := openSink(sinkOptions{Path: path, MaxBytes: 1000, Backups: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Write(bytes.Repeat([]byte("a"), 800))
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	s.Write(bytes.Repeat([]byte("b"), 500))
	got, _ := os.ReadFile(path)
	if string(got) != strings.Repeat("b", 500) || s.Rotations() != 0 {
		t.Fatalf("file %q after truncation, %d rotations", got, s.Rotations())
	}
}

// TestSinkWholeWrites: the main log's rule: a write (one record, maybe of
// several lines) that does not fit rotates first, so a record is never
// split and no file exceeds maxbytes; a record longer than maxbytes is cut
// at its line boundaries.
func TestSinkWholeWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.log")
	s, err := openSink(sinkOptions{Path: path, MaxBytes: 1000, Backups: 10, WholeWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("a"), 299)
	line = append(line, '\n')
	for range 10 {
		if _, err := s.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	record := []byte(strings.Repeat("b", 99) + "\n" + strings.Repeat("c", 99) + "\n") // 200 bytes, two lines
	s.Write(record)
	long := []byte(strings.Repeat(strings.Repeat("d", 599)+"\n", 3)) // 1800 bytes: three lines
	s.Write(long)
	s.Close()
	var sizes []int64
	for _, f := range logFiles(t, dir, "main") {
		sizes = append(sizes, fileSize(t, f))
	}
	// 3 lines per file; the record does not fit after the 10th line
	// (300+200 <= 1000 fits), the long record is cut after its first line
	// that fits.
	want := []int64{900, 900, 900, 300 + 200, 600 * 1, 600 * 1, 600}
	if fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Fatalf("sizes %v, want %v", sizes, want)
	}
}

// TestNonRegularTargetNeverRotates: a FIFO (like /dev/stdout on a pipe)
// is never seeked, rotated, truncated or removed.
func TestNonRegularTargetNeverRotates(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- b
	}()
	total := int64(3 << 20)
	ch := capture(t, ChannelConfig{ProcessName: "prog", Channel: "stdout", Path: fifo, MaxBytes: 1 << 20, Backups: 2},
		"lines", 9, total, 8192)
	b := <-got
	all, _ := io.ReadAll(newStream("lines", 9, total))
	if !bytes.Equal(b, all) {
		t.Fatalf("fifo reader got %d bytes, want the %d written", len(b), total)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("dir holds %d entries, want only the fifo", len(ents))
	}
	if ch.Stats().Rotations != 0 {
		t.Fatal("a fifo was rotated")
	}
}

// TestDevNullTarget: /dev/null works and Clear does not remove it.
func TestDevNullTarget(t *testing.T) {
	ch, err := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: os.DevNull, MaxBytes: 10, Backups: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, w, _ := os.Pipe()
	ch.Consume(r, 1)
	w.Write(bytes.Repeat([]byte("x"), 100))
	w.Close()
	ch.Wait()
	if err := ch.Clear(); err != nil {
		t.Fatal(err)
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(os.DevNull); err != nil {
		t.Fatal("/dev/null is gone")
	}
	if st := ch.Stats(); st.Written != 100 || st.Rotations != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestDevStdoutRedirectedToFile: /dev/stdout pointing at a regular file
// (supervisord -n > out.log) is appended to, never rotated or removed.
func TestDevStdoutRedirectedToFile(t *testing.T) {
	if os.Getenv(childEnv+"_DEVSTDOUT") == "1" {
		s, err := openSink(sinkOptions{Path: "/dev/stdout", MaxBytes: 10, Backups: 1})
		if err != nil {
			os.Exit(3)
		}
		for range 5 {
			if _, err := s.Write([]byte("0123456789ab\n")); err != nil {
				os.Exit(4)
			}
		}
		if err := s.Clear(); err != nil {
			os.Exit(5)
		}
		s.Write([]byte("after clear\n"))
		s.Close()
		os.Exit(0)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out.log")
	if err := os.WriteFile(out, []byte("shell wrote this\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(out, os.O_WRONLY, 0) // like "> out.log" after the first line: no O_APPEND
	if err != nil {
		t.Fatal(err)
	}
	f.Seek(0, io.SeekEnd)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDevStdoutRedirectedToFile$")
	cmd.Env = append(os.Environ(), childEnv+"_DEVSTDOUT=1")
	cmd.Stdout = f
	err = cmd.Run()
	f.Close()
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	got, _ := os.ReadFile(out)
	want := "shell wrote this\n" + strings.Repeat("0123456789ab\n", 5) + "after clear\n"
	if string(got) != want {
		t.Fatalf("out.log %q, want %q", got, want)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d files in dir: /dev/stdout was rotated", len(ents))
	}
}

// TestReopenUnderLoad: an external logrotate renames the file and sends
// SIGUSR2 (Reopen) over and over while a child writes; the renamed files
// plus the live file hold every byte in order.
func TestReopenUnderLoad(t *testing.T) {
	for _, hook := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "prog.log")
		cfg := ChannelConfig{ProcessName: "prog", Channel: "stdout", Path: path}
		if hook {
			cfg.EventsEnabled = true
			cfg.OnLog = func(int, []byte) {}
		}
		ch, err := NewHub(nil).NewChannel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		total := int64(16 << 20)
		cmd, r := startWriter(t, "binary", 11, total, 32768)
		ch.Consume(r, cmd.Process.Pid)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var moved []string
	loop:
		for i := 0; ; i++ {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				break loop
			case <-time.After(3 * time.Millisecond):
			}
			name := fmt.Sprintf("%s.%04d", path, i)
			if err := os.Rename(path, name); err != nil {
				t.Fatal(err)
			}
			moved = append(moved, name)
			if err := ch.Reopen(); err != nil {
				t.Fatal(err)
			}
		}
		ch.Wait()
		ch.Close()
		if len(moved) < 3 {
			t.Logf("only %d reopens happened", len(moved))
		}
		if hashFiles(t, append(moved, path)) != hashStream(t, newStream("binary", 11, total)) {
			t.Fatalf("hook=%v: renamed files + live file differ from the bytes written", hook)
		}
	}
}

// TestCompressOptIn: lumberjack's compression, opt-in, gzips backups.
func TestCompressOptIn(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prog.log")
	s, err := openSink(sinkOptions{Path: path, MaxBytes: 1000, Backups: 5, Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Write(bytes.Repeat([]byte("z"), 2500))
	s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		gz, _ := filepath.Glob(filepath.Join(dir, "prog-*.log.gz"))
		plain, _ := filepath.Glob(filepath.Join(dir, "prog-*.log"))
		if len(gz) == 2 && len(plain) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backups gz=%v plain=%v, want 2 compressed", gz, plain)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if sz := fileSize(t, path); sz != 500 {
		t.Fatalf("live file %d bytes", sz)
	}
}

// TestSharedLogFile: stdout and stderr of several processes logging to one
// file share one sink: no byte overwritten, rotation counted once.
func TestSharedLogFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "shared.log")
	hub := NewHub(nil)
	const writers = 4
	const per = 2 << 20
	var chans []*Channel
	var cmds []*exec.Cmd
	for i := range writers {
		hook := i%2 == 1 // mix the splice and read paths
		cfg := ChannelConfig{ProcessName: fmt.Sprintf("p%d", i), Channel: "stdout", Path: path, MaxBytes: 1 << 20, Backups: 100}
		if hook {
			cfg.EventsEnabled = true
			cfg.OnLog = func(int, []byte) {}
		}
		ch, err := hub.NewChannel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cmd, r := startWriter(t, "binary", uint64(100+i), per, 4096)
		ch.Consume(r, cmd.Process.Pid)
		chans = append(chans, ch)
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	for _, ch := range chans {
		ch.Wait()
		if err := ch.Close(); err != nil {
			t.Fatal(err)
		}
	}
	files := logFiles(t, dir, "shared")
	total := int64(len(checkLineBoundaries(t, files, 1<<20)))
	if total != writers*per || len(files) < writers*per/(1<<20) {
		t.Fatalf("%d files, %d bytes; want at least %d files, %d bytes", len(files), total, writers*per/(1<<20), writers*per)
	}
	// Each writer's bytes appear in order (4096-byte writes are atomic in a
	// pipe, and reads never straddle writers): reassemble per writer by
	// matching 4096-byte blocks.
	var all []byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		all = append(all, b...)
	}
	streams := make([][]byte, writers)
	next := make([]int, writers)
	for i := range writers {
		streams[i], _ = io.ReadAll(newStream("binary", uint64(100+i), per))
	}
	for off := 0; off < len(all); {
		matched := false
		for i := range writers {
			n := next[i]
			if n >= per {
				continue
			}
			end := min(n+4096, per)
			if bytes.HasPrefix(all[off:], streams[i][n:end]) {
				next[i] = end
				off += end - n
				matched = true
				break
			}
		}
		if !matched {
			for i := range writers {
				n := next[i]
				k := 0
				for k < 4096 && n+k < per && off+k < len(all) && all[off+k] == streams[i][n+k] {
					k++
				}
				idx := bytes.Index(all, streams[i][n:min(n+64, per)])
				t.Logf("writer %d next %d: %d bytes match; its next 64 bytes are at %d", i, n, k, idx)
			}
			var sizes []int64
			for _, f := range files {
				sizes = append(sizes, fileSize(t, f))
			}
			t.Logf("sizes %v", sizes)
			t.Fatalf("bytes at offset %d belong to no writer's next block", off)
		}
	}
}

// TestRotationFailureKeepsBytes: when rotation fails the file grows past
// maxbytes (nothing is lost), the failure is reported once, and rotation
// is retried later.
func TestRotationFailureKeepsBytes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.log")
	mainPath := filepath.Join(dir, "supervisord.log")
	m, _ := NewMainLog(MainLogOptions{Logfile: mainPath, Level: config.LevelInfo, Now: fixedNow})
	defer m.Close()
	ch, err := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path, MaxBytes: 100, Backups: 3, MainLog: m})
	if err != nil {
		t.Fatal(err)
	}
	fail := true
	ch.sink.failRotate = func() error {
		if fail {
			return errors.New("injected rename failure")
		}
		return nil
	}
	r, w, _ := os.Pipe()
	ch.Consume(r, 7)
	w.Write(bytes.Repeat([]byte("a"), 150))
	waitFor(t, "150 bytes", func() bool { return ch.Stats().Read == 150 })
	w.Write(bytes.Repeat([]byte("b"), 100))
	waitFor(t, "250 bytes", func() bool { return ch.Stats().Read == 250 })
	if st := ch.Stats(); st.Written != 250 || st.Dropped != 0 || st.Rotations != 0 {
		t.Fatalf("stats %+v", st)
	}
	if sz := fileSize(t, path); sz != 250 {
		t.Fatalf("live file %d bytes, want 250 (rotation failed, nothing lost)", sz)
	}
	fail = false
	ch.sink.mu.Lock()
	ch.sink.rotateFailed = time.Now().Add(-2 * rotateRetry)
	ch.sink.mu.Unlock()
	w.Write([]byte("c"))
	w.Close()
	ch.Wait()
	ch.Close()
	if st := ch.Stats(); st.Rotations != 1 || st.Written != 251 {
		t.Fatalf("stats %+v after the retry", st)
	}
	if got, _ := os.ReadFile(path); string(got) != "c" {
		t.Fatalf("live file %q after the retry", got)
	}
	logged, _ := os.ReadFile(mainPath)
	if n := strings.Count(string(logged), "ERRO 'p' stdout log rotation failed, the file grows past maxbytes"); n != 1 {
		t.Fatalf("main log reports the failure %d times:\n%s", n, logged)
	}
}

// TestSharedSinkNewestOptionsWin: a new Channel on a path still held by an
// old one (config reload) brings its rotation settings.
func TestSharedSinkNewestOptionsWin(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.log")
	hub := NewHub(nil)
	old, _ := hub.NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path, MaxBytes: 0})
	cur, _ := hub.NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path, MaxBytes: 100, Backups: 2})
	if old.sink != cur.sink {
		t.Fatal("channels on one path do not share the sink")
	}
	old.Close()
	feed(cur, []string{strings.Repeat("a", 150)})
	cur.Close()
	if files := logFiles(t, dir, "p"); len(files) != 2 || fileSize(t, path) != 50 {
		t.Fatalf("files %v: the new maxbytes did not apply", files)
	}
}
