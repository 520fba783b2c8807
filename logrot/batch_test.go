package logrot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestBusyPipeIsBatched: a child that floods its pipe in small writes is
// read in large batches from a grown pipe, on the splice(2) path and the
// read(2) path, and every byte arrives in order.
func TestBusyPipeIsBatched(t *testing.T) {
	for _, hook := range []bool{false, true} {
		hub := NewHub(nil)
		path := filepath.Join(t.TempDir(), "p.log")
		cfg := ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path}
		if hook {
			cfg.EventsEnabled = true
			cfg.OnLog = func(int, []byte) {}
		}
		c, err := hub.NewChannel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		c.Consume(r, 1)
		const writeSize, total = 4 << 10, 64 << 20
		chunk := bytes.Repeat([]byte("0123456789abcde\n"), writeSize/16)
		h := sha256.New()
		writes := 0
		pipeSize := 0
		for n := 0; n < total; n += writeSize {
			binary.BigEndian.PutUint64(chunk, uint64(n)) // every chunk differs
			if _, err := w.Write(chunk); err != nil {
				t.Fatal(err)
			}
			h.Write(chunk)
			writes++
			if n == total/2 {
				rc, _ := w.SyscallConn()
				rc.Control(func(fd uintptr) {
					r, _, _ := syscall.Syscall(syscall.SYS_FCNTL, fd, fGetPipeSz, 0)
					pipeSize = int(r)
				})
			}
		}
		w.Close()
		c.Wait()
		c.Close()
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != total || sha256Sum(got) != fmt.Sprintf("%x", h.Sum(nil)) {
			t.Fatalf("hook=%v: file has %d bytes (or other bytes), want the %d written", hook, len(got), total)
		}
		reads := c.reads.Load()
		t.Logf("hook=%v: %d writes of %d bytes read in %d reads; pipe size %d", hook, writes, writeSize, reads, pipeSize)
		if pipeSize != bigPipe && (hub.privileged || hub.grown.Load() < maxGrownUnprivileged) {
			t.Errorf("hook=%v: the busy pipe holds %d bytes, want it grown to %d", hook, pipeSize, bigPipe)
		}
		if reads > int64(writes)/4 {
			t.Errorf("hook=%v: %d reads for %d writes: the busy pipe is not batched", hook, reads, writes)
		}
	}
}

func sha256Sum(b []byte) string {
	s := sha256.Sum256(b)
	return fmt.Sprintf("%x", s[:])
}

// TestCloseDuringFlood: Close while a worker is in the middle of a busy
// pipe's burst returns promptly, stops reading, and the file holds a
// prefix of what was written.
func TestCloseDuringFlood(t *testing.T) {
	for _, hook := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "p.log")
		cfg := ChannelConfig{ProcessName: "p", Channel: "stdout", Path: path}
		if hook {
			cfg.EventsEnabled = true
			cfg.OnLog = func(int, []byte) {}
		}
		c, err := NewHub(nil).NewChannel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		c.Consume(r, 1)
		chunk := bytes.Repeat([]byte("0123456789abcde\n"), 256)
		done := make(chan int64)
		go func() {
			var n int64
			for {
				m, err := w.Write(chunk)
				n += int64(m)
				if err != nil {
					done <- n
					return
				}
			}
		}()
		time.Sleep(50 * time.Millisecond)
		closed := make(chan struct{})
		go func() { c.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("hook=%v: Close did not return during a flood", hook)
		}
		written := <-done // the writer gets EPIPE once the read end is closed
		w.Close()
		got, _ := os.ReadFile(path)
		if int64(len(got)) > written || !bytes.Equal(got, bytes.Repeat(chunk, len(got)/len(chunk)+1)[:len(got)]) {
			t.Errorf("hook=%v: file has %d bytes, not a prefix of the %d written", hook, len(got), written)
		}
	}
}
