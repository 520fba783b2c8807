package logrot

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestQuietLogsHoldNoDescriptor: channels whose process has printed
// nothing keep no log descriptor open (their files exist), and the first
// bytes open the file and land in it.
func TestQuietLogsHoldNoDescriptor(t *testing.T) {
	dir := t.TempDir()
	hub := NewHub(nil)
	before := openFDs(t)
	var chans []*Channel
	for i := range 100 {
		c, err := hub.NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout",
			Path: filepath.Join(dir, "p"+string(rune('a'+i%26))+string(rune('a'+i/26))+".log"), MaxBytes: 1 << 20, Backups: 2})
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, c)
	}
	if got := openFDs(t) - before; got > 0 {
		t.Errorf("100 quiet channels hold %d descriptors, want 0", got)
	}
	for _, c := range chans {
		if _, err := os.Stat(c.Path()); err != nil {
			t.Errorf("log file not created: %v", err)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := chans[7]
	c.Consume(r, 1)
	w.Write([]byte("hello\n"))
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().Written < 6 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	w.Close()
	c.Wait()
	if got, _ := os.ReadFile(c.Path()); string(got) != "hello\n" {
		t.Errorf("log holds %q", got)
	}
	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	// The Hub's poller closes its epoll descriptors once its last pipe
	// is gone, just after Wait returns.
	for openFDs(t) > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := openFDs(t) - before; got > 0 {
		t.Errorf("after Clear: %d descriptors held, want 0", got)
	}
	for _, c := range chans {
		c.Close()
	}
}

// TestConsumeRegularFile: a descriptor epoll cannot wait on (a regular
// file) is read with plain reads to EOF instead.
func TestConsumeRegularFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("from a file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: filepath.Join(dir, "p.log")})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	c.Consume(f, 1)
	c.Wait()
	c.Close()
	if got, _ := os.ReadFile(c.Path()); string(got) != "from a file\n" {
		t.Errorf("log holds %q", got)
	}
}

// TestCreateAtSpawn: with CreateAtSpawn a missing log file is created by
// Prepare (each spawn, as Python's make_dispatchers opens the log), not
// by NewChannel; until then rotating, reopening and clearing create
// nothing, and readers get NO_FILE. Prepare creates the file again if it
// was deleted, leaves one held open alone, and fails when it cannot
// create it.
func TestCreateAtSpawn(t *testing.T) {
	dir := t.TempDir()
	hub := NewHub(nil)
	path := filepath.Join(dir, "p.log")
	c, err := hub.NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path,
		MaxBytes: 1 << 20, Backups: 2, RotateEvery: time.Hour, CreateAtSpawn: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	exists := func() bool {
		_, err := os.Stat(path)
		return err == nil
	}
	if exists() {
		t.Fatal("NewChannel created the log file")
	}
	if err := c.Rotate(); err != nil {
		t.Errorf("Rotate before any spawn: %v", err)
	}
	if err := c.Reopen(); err != nil {
		t.Errorf("Reopen before any spawn: %v", err)
	}
	if err := c.Clear(); err != nil {
		t.Errorf("Clear before any spawn: %v", err)
	}
	if exists() {
		t.Fatal("rotating, reopening or clearing created the log file")
	}
	if _, err := ReadFile(path, 0, 10); !errors.Is(err, ErrNoFile) {
		t.Errorf("ReadFile of a log never created: %v, want ErrNoFile", err)
	}
	next := func() time.Time {
		c.sink.mu.Lock()
		defer c.sink.mu.Unlock()
		return c.sink.nextRotate
	}
	if !next().IsZero() {
		t.Error("a rotate_every timer runs for a file not created")
	}
	if err := c.Prepare(); err != nil || !exists() {
		t.Fatalf("Prepare: %v, file created %v", err, exists())
	}
	if next().IsZero() {
		t.Error("no rotate_every timer once the file is created")
	}
	os.Remove(path)
	if err := c.Prepare(); err != nil || !exists() {
		t.Fatalf("Prepare after the file was deleted: %v, file created %v", err, exists())
	}
	// A log left from before: nothing touches it until the first spawn
	// (Python has no dispatcher to clear it before), and a path that is a
	// directory fails that spawn, not the config load.
	old := filepath.Join(dir, "old.log")
	if err := os.WriteFile(old, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	kept, err := hub.NewChannel(ChannelConfig{ProcessName: "o", Channel: "stdout", Path: old, CreateAtSpawn: true})
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	if err := kept.Clear(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(old); err != nil || string(b) != "old\n" {
		t.Errorf("clearing a log its program never spawned with: %q, %v", b, err)
	}
	isDir, err := hub.NewChannel(ChannelConfig{ProcessName: "d", Channel: "stdout", Path: t.TempDir(), CreateAtSpawn: true})
	if err != nil {
		t.Fatalf("a directory as the log path fails at the config load: %v", err)
	}
	defer isDir.Close()
	if err := isDir.Prepare(); !errors.Is(err, syscall.EISDIR) {
		t.Errorf("Prepare of a directory: %v, want EISDIR", err)
	}
	// Not there at all: the spawn fails with the open's error.
	gone, err := hub.NewChannel(ChannelConfig{ProcessName: "q", Channel: "stdout", Path: filepath.Join(dir, "missing", "q.log"), CreateAtSpawn: true})
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close()
	if err := gone.Prepare(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Prepare in a missing directory: %v, want ENOENT", err)
	}
}
