package rpc

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/procman"
)

func TestAnswerBufs(t *testing.T) {
	var a answerBufs
	cases := []struct {
		name       string
		hint, fill int
		mapped     bool // on Linux
	}{
		{"small", 1000, 900, false},
		{"small outgrown", 1000, 5000, false},
		{"large", 2 << 20, 2 << 20, true},
		{"large outgrown", largeAnswer, 3 * largeAnswer, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			buf := a.get(c.hint)
			if len(buf.b) != 0 || cap(buf.b) < c.hint {
				t.Fatalf("get(%d): len %d cap %d", c.hint, len(buf.b), cap(buf.b))
			}
			if want := c.mapped && runtime.GOOS == "linux"; buf.mapped != want {
				t.Fatalf("get(%d): mapped %v, want %v", c.hint, buf.mapped, want)
			}
			want := bytes.Repeat([]byte("<x/>"), c.fill/4)
			body := append(buf.b, want...)
			if !bytes.Equal(body, want) {
				t.Fatal("the buffer does not hold what was written")
			}
			a.put(buf, body)
		})
	}
}

// TestAnswerBufsLinger: a large answer's mapping is kept for the next
// one, and given back once no large answer came for largeLinger.
func TestAnswerBufsLinger(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("large answers are mapped on Linux only")
	}
	var a answerBufs
	first := a.get(1 << 20)
	a.put(first, first.b)
	if !a.held() {
		t.Fatal("the mapping was not kept after the answer")
	}
	second := a.get(1 << 20)
	if &second.b[:1][0] != &first.b[:1][0] {
		t.Error("the next large answer did not reuse the kept mapping")
	}
	// A concurrent large answer gets its own mapping, unmapped at once.
	third := a.get(1 << 20)
	a.put(second, second.b)
	a.put(third, third.b)
	deadline := time.Now().Add(30 * time.Second)
	for a.held() {
		if time.Now().After(deadline) {
			t.Fatal("the idle mapping was never given back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// and a later answer maps afresh.
	again := a.get(1 << 20)
	if !again.mapped {
		t.Error("no mapping after the release")
	}
	a.put(again, again.b)
}

// TestLargeAnswerBytes: an answer big enough to be encoded into a mapping
// is on the wire byte for byte what the encoder writes, on calls that
// reuse the kept mapping and on one after it was given back.
func TestLargeAnswerBytes(t *testing.T) {
	b := benchBackend(1500)
	b.now = time.Now().Unix() // a fixed clock: the answers do not change
	b.mu.Lock()
	for i, p := range b.groups["group007"] {
		p.info.State, p.info.PID = procman.Fatal, 0
		p.info.SpawnErr = fmt.Sprintf("can't find command '<a&b>%d'", i)
	}
	b.mu.Unlock()
	want, err := EncodeResponse(nil, sortProcessInfo(b.AllProcessInfo(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < largeAnswer {
		t.Fatalf("the answer is %d bytes, under the %d a mapping is used for", len(want), largeAnswer)
	}
	sock, srv := startServer(t, b, nil, Options{})
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	get := func() []byte {
		t.Helper()
		if _, err := c.Write(rpcRequest(call("supervisor.getAllProcessInfo"))); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ContentLength != int64(len(body)) {
			t.Fatalf("Content-Length %d, body %d bytes", resp.ContentLength, len(body))
		}
		return body
	}
	for i := range 4 {
		if i == 3 {
			// After the kept mapping was given back.
			deadline := time.Now().Add(30 * time.Second) // bounds a hang only
			for srv.answers.held() {
				if time.Now().After(deadline) {
					t.Fatal("the kept mapping was never given back")
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		if got := get(); !bytes.Equal(got, want) {
			t.Fatalf("call %d: %d bytes differ from the encoder's %d", i+1, len(got), len(want))
		}
	}
}
