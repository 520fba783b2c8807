package logrot

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestOnOutputSeesRawChunks: the OnOutput tap gets every byte as read,
// before capture mode and strip_ansi, and the channel stops splicing.
func TestOnOutputSeesRawChunks(t *testing.T) {
	var h hookLog
	var got strings.Builder
	in := "a\x1b[31mred\x1b[0m\n" + tBegin + "captured" + tEnd + "b\n"
	for _, chunks := range splits(in) {
		got.Reset()
		c, err := NewHub(nil).NewChannel(ChannelConfig{
			ProcessName: "p", Channel: "stdout", Path: filepath.Join(t.TempDir(), "p.log"),
			StripANSI: true, CaptureMaxBytes: 100,
			OnOutput: func(pid int, d []byte) {
				got.Write(d)
				if pid != 42 {
					h.add("wrong pid", pid, d)
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.splice {
			t.Fatal("a tapped channel splices")
		}
		feed(c, chunks)
		c.Close()
		if got.String() != in {
			t.Fatalf("chunks %q: tap saw %q", chunks, got.String())
		}
	}
	if e := h.get(); len(e) != 0 {
		t.Errorf("%v", e)
	}
	c, err := NewHub(nil).NewChannel(ChannelConfig{ProcessName: "p", Channel: "stdout", Path: filepath.Join(t.TempDir(), "q.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.splice {
		t.Error("an untapped plain channel does not splice")
	}
}
