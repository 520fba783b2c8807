package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
	"github.com/gosupervisor/gosupervisor/internal/states"
)

// logStream is supervisor.http_client.HTTPHandler: a GET of /logtail/...
// or /mainlogtail whose body is written to stdout as it arrives, one
// HTTP chunk at a time, each decoded as UTF-8 or shown as
// "Undecodable: b'...'" as Python's Listener.feed does. Problems go to
// stderr as "<url> <message>", as Python's Listener.error writes them.
type logStream struct {
	url    string // serverurl + path, as Python names it in errors
	cancel context.CancelFunc
	done   chan struct{}
}

// startStream begins streaming path to out (writes hold outMu); stop it
// with close, or wait on done for the server to end it.
func (c *controller) startStream(path string, out io.Writer, outMu *sync.Mutex) (*logStream, error) {
	t, err := parseServerURL(c.opts.serverURL, c.opts.tls)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ls := &logStream{url: c.opts.serverURL + path, cancel: cancel, done: make(chan struct{})}
	host := t.host()
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept-Encoding: chunked\r\nAccept: */*\r\nUser-agent: Supervisor HTTP Client\r\n", path, host)
	// Python's http_client sends credentials only for a non-empty
	// password, with "None" for a missing username.
	if c.opts.password != nil && *c.opts.password != "" {
		user := "None"
		if c.opts.username != nil {
			user = *c.opts.username
		}
		fmt.Fprintf(&req, "Authorization: Basic %s\r\n", base64.StdEncoding.EncodeToString([]byte(user+":"+*c.opts.password)))
	}
	req.WriteString("\r\n")
	feed := func(p []byte) {
		outMu.Lock()
		io.WriteString(out, pyrepr.DecodedOrUndecodable(p))
		outMu.Unlock()
	}
	go func() {
		defer close(ls.done)
		var d net.Dialer
		network, addr := "tcp", host
		if t.socket != "" {
			network, addr = "unix", t.socket
		}
		conn, err := d.DialContext(ctx, network, addr)
		if err == nil && t.tls != nil {
			tc := tls.Client(conn, t.tls)
			if err = tc.HandshakeContext(ctx); err != nil {
				conn.Close()
			}
			conn = tc
		}
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(c.errOut, "%s Cannot connect, error: %s\n", ls.url, pyConnectError(err))
			}
			return
		}
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		defer stop()
		defer conn.Close()
		if _, err := io.WriteString(conn, req.String()); err != nil {
			return
		}
		if msg := readStream(bufio.NewReader(conn), feed); msg != "" && ctx.Err() == nil {
			fmt.Fprintf(c.errOut, "%s %s\n", ls.url, msg)
		}
	}()
	return ls, nil
}

// readStream reads one HTTP response and feeds its body: each chunk of a
// chunked body, or each piece of a Content-Length body as it arrives. It
// returns Python's error text for a non-200 status, "" otherwise.
func readStream(r *bufio.Reader, feed func([]byte)) string {
	status, err := r.ReadString('\n')
	if err != nil {
		return ""
	}
	f := strings.Fields(status)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return ""
	}
	if code, err := strconv.Atoi(f[1]); err != nil || code != 200 {
		return "Cannot read, status code " + f[1]
	}
	chunked, length := false, 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return ""
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "transfer-encoding":
			chunked = strings.EqualFold(strings.TrimSpace(value), "chunked")
		case "content-length":
			length, _ = strconv.Atoi(strings.TrimSpace(value))
		}
	}
	if !chunked {
		buf := make([]byte, 4096)
		for length > 0 {
			n, err := r.Read(buf[:min(len(buf), length)])
			if n > 0 {
				feed(buf[:n])
				length -= n
			}
			if err != nil {
				return ""
			}
		}
		return ""
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return ""
		}
		sizeText, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		if sizeText == "" {
			continue
		}
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
		if err != nil || size < 0 {
			return ""
		}
		if size == 0 {
			return ""
		}
		chunk := make([]byte, size)
		if _, err := io.ReadFull(r, chunk); err != nil {
			return ""
		}
		feed(chunk)
	}
}

func (ls *logStream) close() {
	ls.cancel()
	<-ls.done
}

// pyConnectError formats a connection failure as http_client's
// handle_error does: "<class 'X'> ([Errno N] text)".
func pyConnectError(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		return fmt.Sprintf("<class '%s'> ([Errno %d] %s)", pyErrnoClass(en), int(en), pyStrerror(en))
	}
	return fmt.Sprintf("<class 'OSError'> (%s)", err)
}

// tailf is DefaultControllerPlugin._tailf: stream path until the server
// closes it or the user presses Ctrl-C.
func (c *controller) tailf(path string) error {
	c.output("==> Press Ctrl-C to exit <==")
	defer c.catchInterrupts()()
	var mu sync.Mutex
	ls, err := c.startStream(path, c.out, &mu)
	if err != nil {
		return err
	}
	select {
	case <-ls.done:
	case <-c.interrupts:
		ls.close()
		c.output("")
	}
	return nil
}

// doFg is DefaultControllerPlugin.do_fg: stream both logs of a running
// process and send each typed line to its stdin.
func doFg(c *controller, arg string) (bool, error) {
	up, err := c.upcheck()
	if err != nil || !up {
		return false, err
	}
	names := strings.Fields(arg)
	if len(names) == 0 {
		c.output("ERROR: no process name supplied")
		c.exitStatus = exitGeneric
		helpFg(c)
		return false, nil
	}
	if len(names) > 1 {
		c.output("ERROR: too many process names supplied")
		c.exitStatus = exitGeneric
		return false, nil
	}
	name := names[0]
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	var info processInfo
	if err := s.callInto(&info, "supervisor.getProcessInfo", name); err != nil {
		f, ok := asFault(err)
		if !ok {
			return false, err
		}
		if f.Code == faults.BadName {
			c.output("ERROR: bad process name supplied")
			c.exitStatus = exitGeneric
		} else {
			c.output("ERROR: " + f.Error())
		}
		return false, nil
	}
	if info.State != states.Running {
		c.output("ERROR: process not running")
		c.exitStatus = exitGeneric
		return false, nil
	}
	c.output("==> Press Ctrl-C to exit <==")
	defer c.catchInterrupts()()
	var mu sync.Mutex
	out := lockedWriter{w: c.out, mu: &mu}
	c.out = out
	defer func() { c.out = out.w }()
	var streams []*logStream
	// stopStreams ends both streams and waits for them: nothing of the
	// process's output is written after it, so the closing messages come
	// last (Python writes them before it kills its output thread, which
	// may still print).
	stopStreams := func() {
		for _, ls := range streams {
			ls.close()
		}
		streams = nil
	}
	defer stopStreams()
	exit := func(msgs ...string) (bool, error) {
		stopStreams()
		for _, m := range msgs {
			c.output(m)
		}
		return false, nil
	}
	for _, ch := range []string{"stdout", "stderr"} {
		ls, err := c.startStream("/logtail/"+name+"/"+ch, out.w, &mu)
		if err != nil {
			return false, err
		}
		streams = append(streams, ls)
	}
	for {
		line, err := c.input("", true)
		if err != nil { // EOF or Ctrl-C
			return exit("Exiting foreground")
		}
		if _, err := s.call("supervisor.sendProcessStdin", name, line+"\n"); err != nil {
			f, ok := asFault(err)
			if !ok {
				return false, err
			}
			if f.Code == faults.NotRunning {
				return exit("Process got killed", "Exiting foreground")
			}
			return exit("ERROR: "+f.Error(), "Exiting foreground")
		}
		if err := s.callInto(&info, "supervisor.getProcessInfo", name); err != nil {
			return false, err
		}
		if info.State != states.Running {
			return exit("Process got killed", "Exiting foreground")
		}
	}
}

// lockedWriter serializes writes from the command and the log streams.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
