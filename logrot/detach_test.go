package logrot

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestDetachAttachByteExact hands busy pipes from one channel to another
// (a new hub, as a new image would have) several times while writers
// flood them: the file holds every byte once, in order.
func TestDetachAttachByteExact(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ChannelConfig
	}{
		{"splice", ChannelConfig{}},
		{"copy", ChannelConfig{StripANSI: true}},
		{"capture", ChannelConfig{CaptureMaxBytes: 1 << 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			const writers, lines = 3, 20000
			var want [writers]bytes.Buffer
			var ws []*os.File
			var pipes []Pipe
			for i := range writers {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				fd, err := dupFD(r)
				if err != nil {
					t.Fatal(err)
				}
				r.Close()
				ws = append(ws, w)
				pipes = append(pipes, Pipe{FD: fd, PID: 100 + i})
				for n := range lines {
					fmt.Fprintf(&want[i], "w%d line %06d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", i, n)
				}
			}
			// One channel (and file) per writer, all on one hub, as a
			// daemon has them.
			newChannels := func() []*Channel {
				h := NewHub(nil)
				var cs []*Channel
				for i := range writers {
					cfg := tc.cfg
					cfg.ProcessName, cfg.Channel, cfg.Path = fmt.Sprint("p", i), "stdout", filepath.Join(dir, fmt.Sprint(i, ".log"))
					c, err := h.NewChannel(cfg)
					if err != nil {
						t.Fatal(err)
					}
					cs = append(cs, c)
				}
				return cs
			}
			cs := newChannels()
			for i, c := range cs {
				c.Attach(pipes[i : i+1])
			}
			var wg sync.WaitGroup
			for i, w := range ws {
				wg.Add(1)
				go func() {
					defer wg.Done()
					data := want[i].Bytes()
					for len(data) > 0 {
						n := min(len(data), 4096)
						if _, err := w.Write(data[:n]); err != nil {
							t.Error(err)
							return
						}
						data = data[n:]
					}
				}()
			}
			for range 5 {
				got := DetachAll(cs)
				for i, c := range cs {
					if len(got[i]) != 1 || got[i][0].PID != 100+i {
						t.Fatalf("channel %d detached %v, want its one pipe", i, got[i])
					}
					if err := c.Close(); err != nil {
						t.Fatal(err)
					}
				}
				cs = newChannels()
				for i, c := range cs {
					c.Attach(got[i])
				}
			}
			wg.Wait()
			for _, w := range ws {
				w.Close()
			}
			for i, c := range cs {
				c.Wait()
				c.Close()
				data, err := os.ReadFile(filepath.Join(dir, fmt.Sprint(i, ".log")))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, want[i].Bytes()) {
					t.Errorf("writer %d: %d bytes stored, want %d (lost or duplicated output)", i, len(data), want[i].Len())
				}
			}
		})
	}
}
