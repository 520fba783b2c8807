package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
)

// logStream is supervisor.http_client.HTTPHandler: a GET of /logtail/...
// or /mainlogtail whose body is copied to stdout as it arrives. Problems
// go to stderr as "<url> <message>", as Python's Listener.error writes
// them.
type logStream struct {
	url    string // serverurl + path, as Python names it in errors
	cancel context.CancelFunc
	done   chan struct{}
}

// startStream begins streaming path to out; stop it with close, or wait
// for the server to end it with wait.
func (c *controller) startStream(path string, out io.Writer, outMu *sync.Mutex) (*logStream, error) {
	t, err := parseServerURL(c.opts.serverURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ls := &logStream{url: c.opts.serverURL + path, cancel: cancel, done: make(chan struct{})}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base+path, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("log stream %s: %w", path, err)
	}
	req.Header.Set("Accept", "*/*")
	req.Header.Set("User-Agent", "Supervisor HTTP Client")
	// Python's http_client sends credentials only for a non-empty
	// password, with "None" for a missing username.
	if c.opts.password != nil && *c.opts.password != "" {
		user := "None"
		if c.opts.username != nil {
			user = *c.opts.username
		}
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+*c.opts.password)))
	}
	tr := t.transport()
	go func() {
		defer close(ls.done)
		defer tr.CloseIdleConnections()
		resp, err := tr.RoundTrip(req)
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(c.errOut, "%s Cannot connect, error: %s\n", ls.url, pyConnectError(err))
			}
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fmt.Fprintf(c.errOut, "%s Cannot read, status code %d\n", ls.url, resp.StatusCode)
			return
		}
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				outMu.Lock()
				out.Write(buf[:n])
				outMu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	return ls, nil
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
	info, err := s.call("supervisor.getProcessInfo", name)
	if err != nil {
		f, ok := asFault(err)
		if !ok {
			return false, err
		}
		if f.Code == faultBadName {
			c.output("ERROR: bad process name supplied")
			c.exitStatus = exitGeneric
		} else {
			c.output("ERROR: " + f.Error())
		}
		return false, nil
	}
	if fieldInt(info, "state") != 20 { // RUNNING
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
	defer func() {
		for _, ls := range streams {
			ls.close()
		}
	}()
	for _, ch := range []string{"stdout", "stderr"} {
		ls, err := c.startStream("/logtail/"+name+"/"+ch, out.w, &mu)
		if err != nil {
			return false, err
		}
		streams = append(streams, ls)
	}
	for {
		line, err := c.readLine(true)
		if err != nil { // EOF or Ctrl-C
			c.output("Exiting foreground")
			return false, nil
		}
		if _, err := s.call("supervisor.sendProcessStdin", name, line+"\n"); err != nil {
			f, ok := asFault(err)
			if !ok {
				return false, err
			}
			if f.Code == faultNotRunning {
				c.output("Process got killed")
			} else {
				c.output("ERROR: " + f.Error())
			}
			c.output("Exiting foreground")
			return false, nil
		}
		info, err := s.call("supervisor.getProcessInfo", name)
		if err != nil {
			return false, err
		}
		if fieldInt(info, "state") != 20 {
			c.output("Process got killed")
			c.output("Exiting foreground")
			return false, nil
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
