package logrot

import (
	"os"
	"path/filepath"
	"testing"
)

// TestUnopenedSinkStillSplices: output reaching a CreateAtSpawn log before
// any prepare (a pipe adopted after an upgrade) goes through Write, which
// opens the file, and the next chunk splices: the stream must not fall
// back to read and write for good.
func TestUnopenedSinkStillSplices(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.log")
	s, err := openSink(sinkOptions{Path: path, MaxBytes: 1 << 20, Backups: 1, CreateLater: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	w.Write([]byte("one\n"))
	if _, err := s.spliceFrom(int(r.Fd()), 1<<16); err != errSinkFull {
		t.Fatalf("spliceFrom before the file was opened: %v, want errSinkFull (Write opens it)", err)
	}
	buf := make([]byte, 16)
	n, _ := r.Read(buf)
	if _, err := s.Write(buf[:n]); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("two\n"))
	if n, err := s.spliceFrom(int(r.Fd()), 1<<16); err != nil || n != 4 {
		t.Fatalf("spliceFrom once Write opened the file: %d, %v", n, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "one\ntwo\n" {
		t.Errorf("log holds %q", b)
	}
}
