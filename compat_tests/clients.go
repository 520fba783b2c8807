package compattests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/rpc"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testchild"
	"github.com/kolo/xmlrpc"
)

// Endpoint says how to reach one daemon.
type Endpoint struct {
	Sock string // unix socket path
	Port int    // 127.0.0.1 port, 0 when there is no inet server
}

func (e Endpoint) dial(ctx context.Context, via string) (net.Conn, error) {
	var d net.Dialer
	if via == "inet" {
		return d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", e.Port))
	}
	return d.DialContext(ctx, "unix", e.Sock)
}

// PyClient is a long-lived /usr/bin/python3 running testdata/pyrpc.py: one
// process per seat and case, so each call costs a request, not an interpreter.
type PyClient struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr bytes.Buffer
	mu     sync.Mutex
}

// StartPyClient starts the helper.
func StartPyClient(python, script string) (*PyClient, error) {
	c := &PyClient{}
	c.cmd = exec.Command(python, script)
	c.cmd.Stderr = &c.stderr
	in, err := c.cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("pyrpc stdin: %w", err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("pyrpc stdout: %w", err)
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start pyrpc: %w", err)
	}
	c.stdin, c.stdout = in, bufio.NewReaderSize(out, 1<<20)
	return c, nil
}

// Call sends one request and returns the decoded answer (one typed value per
// call). A context deadline kills the helper, since a call cannot be aborted.
func (c *PyClient) Call(ctx context.Context, req map[string]any) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode pyrpc request: %w", err)
	}
	type answer struct {
		line []byte
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		if _, err := c.stdin.Write(append(b, '\n')); err != nil {
			ch <- answer{err: fmt.Errorf("write pyrpc request: %w", err)}
			return
		}
		line, err := c.stdout.ReadBytes('\n')
		ch <- answer{line, err}
	}()
	select {
	case a := <-ch:
		if a.err != nil {
			return nil, fmt.Errorf("pyrpc: %w (stderr: %s)", a.err, c.stderr.String())
		}
		var v any
		if err := json.Unmarshal(a.line, &v); err != nil {
			return nil, fmt.Errorf("decode pyrpc answer %q: %w", a.line, err)
		}
		return v, nil
	case <-ctx.Done():
		_ = c.cmd.Process.Kill()
		<-ch
		return nil, fmt.Errorf("pyrpc call: %w", ctx.Err())
	}
}

// Close stops the helper and waits for it.
func (c *PyClient) Close() {
	_ = c.stdin.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// CtlResult is what a supervisorctl user sees.
type CtlResult struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	RC     any    `json:"rc"` // int, or "interrupted" when KillAfter fired
}

// CtlRun is one supervisorctl invocation.
type CtlRun struct {
	Ctl, Conf string
	Args      []string
	Stdin     string
	Dir       string
	KillAfter time.Duration // SIGINT after this long (0: never)
	KillWhen  string        // SIGINT once stdout holds this text (15 s at most)
}

// RunCtl runs supervisorctl -c conf args... and returns what the user sees.
// It is interrupted (SIGINT, like Ctrl-C) per KillAfter/KillWhen and killed
// when ctx ends.
func RunCtl(ctx context.Context, r CtlRun) (CtlResult, error) {
	cmd := exec.Command(r.Ctl, append([]string{"-c", r.Conf}, r.Args...)...)
	cmd.Dir = r.Dir
	cmd.Stdin = strings.NewReader(r.Stdin)
	var out, errb testchild.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		return CtlResult{}, fmt.Errorf("start supervisorctl: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timer <-chan time.Time
	if r.KillAfter > 0 {
		timer = time.After(r.KillAfter)
	}
	var poll <-chan time.Time
	var pollDeadline time.Time
	if r.KillWhen != "" {
		ticker := time.NewTicker(50 * time.Millisecond)
		defer ticker.Stop()
		poll = ticker.C
		pollDeadline = time.Now().Add(15 * time.Second)
	}
	interrupted := false
	interrupt := func() {
		interrupted = true
		_ = cmd.Process.Signal(syscall.SIGINT)
		timer, poll = nil, nil
		go func() {
			time.Sleep(3 * time.Second)
			_ = cmd.Process.Kill() // a no-op once Wait has returned
		}()
	}
	var werr error
loop:
	for {
		select {
		case werr = <-done:
			break loop
		case <-timer:
			interrupt()
		case <-poll:
			if strings.Contains(out.String(), r.KillWhen) || time.Now().After(pollDeadline) {
				interrupt()
			}
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-done
			return CtlResult{}, fmt.Errorf("supervisorctl %s: %w (stdout so far %q)", strings.Join(r.Args, " "), ctx.Err(), out.String())
		}
	}
	res := CtlResult{Stdout: out.String(), Stderr: errb.String(), RC: 0}
	var ee *exec.ExitError
	switch {
	case interrupted:
		res.RC = "interrupted"
		res.Stderr = "" // a KeyboardInterrupt traceback depends on where it hit
	case errors.As(werr, &ee):
		res.RC = ee.ExitCode()
	case werr != nil:
		return CtlResult{}, fmt.Errorf("wait supervisorctl: %w", werr)
	}
	return res, nil
}

// goClient returns a kolo/xmlrpc client for the endpoint.
func goClient(ep Endpoint, via string, creds []string) (*xmlrpc.Client, *http.Transport, error) {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return ep.dial(ctx, via) },
	}
	u := &url.URL{Scheme: "http", Host: "localhost", Path: "/RPC2"}
	if via == "inet" {
		u.Host = fmt.Sprintf("127.0.0.1:%d", ep.Port)
	}
	if len(creds) == 2 {
		u.User = url.UserPassword(creds[0], creds[1])
	}
	c, err := xmlrpc.NewClient(u.String(), tr)
	if err != nil {
		return nil, nil, fmt.Errorf("xmlrpc client: %w", err)
	}
	return c, tr, nil
}

// GoCall makes one XML-RPC call with github.com/kolo/xmlrpc and returns the
// decoded value (int64, bool, string, float64, []any, map[string]any) or the
// client's error text, which is what a Go user sees.
func GoCall(ctx context.Context, ep Endpoint, via string, creds []string, method string, args []any) (any, error) {
	c, tr, err := goClient(ep, via, creds)
	if err != nil {
		return nil, err
	}
	defer tr.CloseIdleConnections()
	defer c.Close()
	var reply any
	var params any
	if len(args) > 0 {
		params = args
	}
	call := c.Go(method, params, &reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		return reply, call.Error
	case <-ctx.Done():
		return nil, fmt.Errorf("xmlrpc %s: %w", method, ctx.Err())
	}
}

// TypedGo encodes a kolo/xmlrpc result in the harness's typed form.
func TypedGo(v any) any {
	switch x := v.(type) {
	case bool:
		return map[string]any{"bool": x}
	case int64:
		return map[string]any{"int": float64(x)}
	case int:
		return map[string]any{"int": float64(x)}
	case float64:
		return map[string]any{"double": x}
	case string:
		return map[string]any{"str": x}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = TypedGo(e)
		}
		return map[string]any{"array": out}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // a Go map has no member order
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = []any{k, TypedGo(x[k])}
		}
		return map[string]any{"struct": out}
	case time.Time:
		return map[string]any{"datetime": x.Format("20060102T15:04:05")}
	case nil:
		return map[string]any{"nil": nil}
	default:
		return map[string]any{"unknown": fmt.Sprintf("%T %v", v, v)}
	}
}

// goArgs turns JSON call arguments into Go values kolo encodes with the
// intended wire type ({"$double": x}, {"$base64": s} as in pyrpc.py).
func goArgs(raw []any) []any {
	out := make([]any, len(raw))
	for i, a := range raw {
		out[i] = goArg(a)
	}
	return out
}

func goArg(a any) any {
	switch x := a.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int(x)
		}
		return x
	case map[string]any:
		if d, ok := x["$double"].(float64); ok {
			return d
		}
		if s, ok := x["$base64"].(string); ok {
			return xmlrpc.Base64(base64.StdEncoding.EncodeToString([]byte(s)))
		}
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = goArg(v)
		}
		return m
	case []any:
		return goArgs(x)
	default:
		return a
	}
}

// HTTPResult is the compared part of one raw HTTP exchange.
type HTTPResult struct {
	Status  int               `json:"status"`
	Proto   string            `json:"proto"`
	Headers map[string]string `json:"headers,omitempty"`
	Names   []string          `json:"header_names,omitempty"`
	Chunked *bool             `json:"chunked,omitempty"`
	Body    *string           `json:"body,omitempty"`
}

// DoHTTP sends one raw request (or several pipelined ones) and reads the
// response(s). With Stream the body is read until the stream time ends (the
// daemon keeps it open). With Responses > 1 the result is a list.
func DoHTTP(ctx context.Context, ep Endpoint, via string, h *HTTPStep, raw string) (any, error) {
	conn, err := ep.dial(ctx, via)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	deadline := time.Now().Add(20 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, raw); err != nil {
		return nil, fmt.Errorf("write request: %w", err)
	}
	br := bufio.NewReader(conn)
	if h.Responses <= 1 {
		return readHTTPResponse(br, conn, h)
	}
	var all []any
	for i := 0; i < h.Responses; i++ {
		res, err := readHTTPResponse(br, conn, h)
		if err != nil {
			all = append(all, map[string]any{"error": fmt.Sprintf("response %d: %v", i+1, err)})
			break
		}
		all = append(all, res)
	}
	return all, nil
}

func readHTTPResponse(br *bufio.Reader, conn net.Conn, h *HTTPStep) (HTTPResult, error) {
	method := h.Method
	if method == "" {
		method = "GET"
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return HTTPResult{}, fmt.Errorf("read response: %w", err)
	}
	defer resp.Body.Close()
	res := HTTPResult{Status: resp.StatusCode, Proto: resp.Proto}
	var body []byte
	if h.Stream > 0 {
		_ = conn.SetReadDeadline(time.Now().Add(time.Duration(h.Stream * float64(time.Second))))
		body, _ = io.ReadAll(resp.Body) // ends at the deadline: a stream never ends
		chunked := len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked"
		res.Chunked = &chunked
	} else {
		body, err = io.ReadAll(resp.Body)
		if err != nil {
			return HTTPResult{}, fmt.Errorf("read body: %w", err)
		}
	}
	if !h.NoBody {
		s := string(body)
		res.Body = &s
	}
	for _, name := range h.Compare {
		if name == "*" {
			for k := range resp.Header {
				res.Names = append(res.Names, k)
			}
			if len(resp.TransferEncoding) > 0 {
				res.Names = append(res.Names, "Transfer-Encoding")
			}
			if resp.Close && resp.Header.Get("Connection") == "" {
				res.Names = append(res.Names, "Connection")
			}
			sort.Strings(res.Names)
			continue
		}
		if res.Headers == nil {
			res.Headers = map[string]string{}
		}
		v, ok := resp.Header[http.CanonicalHeaderKey(name)]
		// net/http moves these two out of Header while parsing.
		switch {
		case strings.EqualFold(name, "Connection") && !ok && resp.Close:
			v, ok = []string{"close"}, true
		case strings.EqualFold(name, "Transfer-Encoding") && !ok && len(resp.TransferEncoding) > 0:
			v, ok = resp.TransferEncoding, true
		}
		switch {
		case !ok:
			res.Headers[name] = "<absent>"
		case strings.EqualFold(name, "Server"):
			res.Headers[name] = "<SERVER>" // identification may differ; presence may not
		default:
			res.Headers[name] = strings.Join(v, ", ")
		}
	}
	return res, nil
}

// BuildRequest renders an HTTPStep as raw bytes (CRLF line ends).
func BuildRequest(h *HTTPStep, creds []string, expand func(string) string) string {
	if h.Raw != "" {
		return expand(h.Raw)
	}
	method, path, proto := h.Method, expand(h.Path), h.Proto
	if method == "" {
		method = "GET"
	}
	if proto == "" {
		proto = "HTTP/1.1"
	}
	body := expand(h.Body.Text())
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\r\n", method, path, proto)
	has := map[string]bool{}
	for _, kv := range h.Headers {
		has[strings.ToLower(kv[0])] = true
		fmt.Fprintf(&b, "%s: %s\r\n", kv[0], expand(kv[1]))
	}
	if !has["host"] {
		b.WriteString("Host: localhost\r\n")
	}
	if h.Auth && len(creds) == 2 && !has["authorization"] {
		tok := base64.StdEncoding.EncodeToString([]byte(creds[0] + ":" + creds[1]))
		fmt.Fprintf(&b, "Authorization: Basic %s\r\n", tok)
	}
	if body != "" && !has["content-length"] {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	if h.Stream == 0 && !has["connection"] && proto == "HTTP/1.1" {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.String()
}

// readFileText returns the file's content, or "" when it does not exist.
func readFileText(path string) (string, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	return string(b), true, nil
}
