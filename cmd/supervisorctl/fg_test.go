package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fgOutput is fg's stdout in TestFgExitAfterStreams: it tells when both
// streams have shown their line, and when "Exiting foreground" is
// written it waits (up to a bound) for the server to see both streams
// closed, recording whether they were.
type fgOutput struct {
	mu           sync.Mutex
	buf          bytes.Buffer
	shown        chan struct{} // closed once both lines are out
	closed       chan string   // the server's closed streams
	closedAtExit int           // streams closed when the exit message came
}

func (o *fgOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	s := o.buf.String()
	if strings.Contains(s, "out line\n") && strings.Contains(s, "err line\n") {
		select {
		case <-o.shown:
		default:
			close(o.shown)
		}
	}
	if bytes.Contains(p, []byte("Exiting foreground")) {
		deadline := time.After(time.Minute)
	wait:
		for o.closedAtExit < 2 {
			select {
			case <-o.closed:
				o.closedAtExit++
			case <-deadline:
				break wait
			}
		}
	}
	return len(p), nil
}

// TestFgExitAfterStreams: fg stops both log streams before it writes
// "Exiting foreground", so no output of the child can follow that
// message (it closed them after writing it, and a line arriving in
// between came out after it).
func TestFgExitAfterStreams(t *testing.T) {
	out := &fgOutput{shown: make(chan struct{}), closed: make(chan string, 2)}
	logtail := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var line string
		switch r.URL.Path {
		case "/logtail/cat/stdout":
			line = "out line\n"
		case "/logtail/cat/stderr":
			line = "err line\n"
		default:
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, line) // chunked, as supervisord streams
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the client closed the stream
		out.closed <- r.URL.Path
	})
	conf := cannedServer(t, 0, map[string][]byte{"supervisor.getProcessInfo": infoAnswer("cat", 4242)}, logtail)
	stdin, typed := io.Pipe()
	go func() {
		<-out.shown
		typed.Close() // EOF: fg exits
	}()
	var stderr bytes.Buffer
	code := run([]string{"supervisorctl", "-c", conf, "fg", "cat"}, stdin, out, &stderr, nil)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	got := out.buf.String()
	if !strings.HasPrefix(got, "==> Press Ctrl-C to exit <==\n") || !strings.HasSuffix(got, "Exiting foreground\n") {
		t.Errorf("output %q: want the banner first and the exit message last", got)
	}
	if out.closedAtExit != 2 {
		t.Errorf("%d of 2 log streams were closed when fg wrote \"Exiting foreground\"", out.closedAtExit)
	}
}
