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

// pipedChannel is a stdout channel of process name logging to a file in a
// temp dir (with a log hook, which takes the read(2) path, when hook) that
// consumes a new pipe for pid; it returns the channel, the pipe's write
// end and the log file's path.
func pipedChannel(t *testing.T, hub *Hub, name string, hook bool, pid int) (*Channel, *os.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".log")
	cfg := ChannelConfig{ProcessName: name, Channel: "stdout", Path: path}
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
	c.Consume(r, pid)
	return c, w, path
}

// TestBusyPipeIsBatched: a child that floods its pipe in small writes is
// read in large batches from a grown pipe, on the splice(2) path and the
// read(2) path, and every byte arrives in order.
func TestBusyPipeIsBatched(t *testing.T) {
	for _, hook := range []bool{false, true} {
		hub := NewHub(nil)
		c, w, path := pipedChannel(t, hub, "p", hook, 1)
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

// TestBusyPipesBatchedTogether: several children flooding their pipes at
// once (their workers then park on timers between reads instead of
// sleeping on their threads) lose no byte and reorder none, on the
// splice(2) and the read(2) paths, and the hub's count of batching pipes
// is back to zero once they are done.
func TestBusyPipesBatchedTogether(t *testing.T) {
	for _, hook := range []bool{false, true} {
		hub := NewHub(nil)
		const children, writeSize, total = 4, 4 << 10, 16 << 20
		type child struct {
			c    *Channel
			w    *os.File
			path string
			sum  string
		}
		kids := make([]*child, children)
		for i := range kids {
			c, w, path := pipedChannel(t, hub, fmt.Sprintf("p%d", i), hook, i+1)
			kids[i] = &child{c: c, w: w, path: path}
		}
		stop := make(chan struct{})
		maxBatching := make(chan int64)
		go func() {
			var m int64
			for {
				select {
				case <-stop:
					maxBatching <- m
					return
				default:
				}
				m = max(m, hub.batching.Load())
				time.Sleep(100 * time.Microsecond)
			}
		}()
		errs := make(chan error, children)
		for i, k := range kids {
			go func() {
				chunk := bytes.Repeat([]byte(fmt.Sprintf("%x123456789abcde\n", i)[:16]), writeSize/16)
				h := sha256.New()
				for n := 0; n < total; n += writeSize {
					binary.BigEndian.PutUint64(chunk, uint64(n))
					if _, err := k.w.Write(chunk); err != nil {
						errs <- err
						return
					}
					h.Write(chunk)
				}
				k.sum = fmt.Sprintf("%x", h.Sum(nil))
				errs <- k.w.Close()
			}()
		}
		for range kids {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		var reads int64
		for _, k := range kids {
			k.c.Wait()
			reads += k.c.reads.Load()
			k.c.Close()
		}
		close(stop)
		t.Logf("hook=%v: %d writes read in %d reads; at most %d pipes batching at once", hook, children*total/writeSize, reads, <-maxBatching)
		for i, k := range kids {
			got, err := os.ReadFile(k.path)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != total || sha256Sum(got) != k.sum {
				t.Errorf("hook=%v: child %d: file has %d bytes (or other bytes), want the %d written", hook, i, len(got), total)
			}
		}
		if n := hub.batching.Load(); n != 0 {
			t.Errorf("hook=%v: %d pipes still counted as batching after every stream ended", hook, n)
		}
		if reads > children*total/writeSize/4 {
			t.Errorf("hook=%v: %d reads for %d writes: the busy pipes are not batched", hook, reads, children*total/writeSize)
		}
	}
}

// TestNapperYields: a worker sleeping in nanosleep(2) between reads of a
// lone busy pipe yields to the scheduler once every yieldEvery, counted
// from the first pause of its burst.
func TestNapperYields(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name      string
		yielded   time.Time
		want      bool
		wantSince time.Time // yielded after the call
	}{
		{name: "first pause", want: false, wantSince: now},
		{name: "yielded 1 ms ago", yielded: now.Add(-time.Millisecond), want: false, wantSince: now.Add(-time.Millisecond)},
		{name: "yielded just under yieldEvery ago", yielded: now.Add(-yieldEvery + time.Microsecond), want: false, wantSince: now.Add(-yieldEvery + time.Microsecond)},
		{name: "yielded yieldEvery ago", yielded: now.Add(-yieldEvery), want: true, wantSince: now},
		{name: "yielded long ago", yielded: now.Add(-time.Second), want: true, wantSince: now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := napper{yielded: tt.yielded}
			if got := n.yield(now); got != tt.want {
				t.Errorf("yield = %v, want %v", got, tt.want)
			}
			if !n.yielded.Equal(tt.wantSince) {
				t.Errorf("last yield at %v after the call, want %v", n.yielded.Sub(now), tt.wantSince.Sub(now))
			}
		})
	}
}
