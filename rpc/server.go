package rpc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/logrot"
)

// Options tunes a Server. Zero values pick the defaults.
type Options struct {
	Logs           LogReader     // readLog & co.; default logrot.Files{}
	Follower       LogFollower   // /logtail, /mainlogtail; default logrot.Files{}
	MaxBodyBytes   int64         // largest request body; default 16 MiB
	MaxHeaderBytes int           // largest request head; default 64 KiB
	ReadTimeout    time.Duration // to read one request once it began; default 30 s
	IdleTimeout    time.Duration // keep-alive wait for the next request; default 30 min (medusa's zombie timeout)
	WriteTimeout   time.Duration // to write one response (not streams); default 60 s
	// MaxConns caps the open connections (default 4096). At the cap a new
	// connection evicts the one that has waited longest without a request
	// being handled (idle, or still sending its head or body); when every
	// connection is busy in a handler the new one is closed at once.
	MaxConns int
	// ErrorLog receives what supervisord logs at ERROR/CRIT level: bad
	// requests ("XML-RPC request data '...' is invalid: unmarshallable")
	// and the causes of HTTP 500 answers. nil discards.
	ErrorLog func(msg string)
	// Extensions, when non-nil, serves the gosupervisor.* methods (see
	// GosupervisorFactory); nil keeps the method table Python's.
	Extensions Extensions
	// CountRPC, when set, is called once per answered XML-RPC request
	// with the method name (one of the method table, or "unknown") and
	// the fault's name ("" for a result, INTERNAL_ERROR for HTTP 500).
	CountRPC func(method, fault string)
}

// Server is the HTTP front of supervisord: /RPC2, /logtail, /mainlogtail
// and the web UI, with Python medusa's wire behaviour.
type Server struct {
	backend  Backend
	disp     *Dispatcher
	follower LogFollower
	opts     Options

	ctx    context.Context
	cancel context.CancelFunc

	bufs sync.Pool // *[]byte response buffers

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closed    atomic.Bool // set once by Shutdown, before it closes idle conns
	wg        sync.WaitGroup

	// Pause/Resume (upgrade.go).
	paused    atomic.Bool
	pausedLs  []net.Listener
	accepting sync.WaitGroup // Serve loops running
}

// NewServer returns a Server over b.
func NewServer(b Backend, opts Options) *Server {
	if opts.Logs == nil {
		opts.Logs = logrot.Files{}
	}
	if opts.Follower == nil {
		opts.Follower = logrot.Files{}
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 16 << 20
	}
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = 64 << 10
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 30 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 60 * time.Second
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 4096
	}
	ctx, cancel := context.WithCancel(context.Background())
	disp := NewDispatcher(b, opts.Logs)
	if opts.Extensions != nil {
		disp.enableExtensions(opts.Extensions)
	}
	return &Server{
		backend:   b,
		disp:      disp,
		follower:  opts.Follower,
		opts:      opts,
		ctx:       ctx,
		cancel:    cancel,
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
	}
}

// Dispatcher returns the server's method dispatcher.
func (s *Server) Dispatcher() *Dispatcher { return s.disp }

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("rpc: server closed")

// errPaused is returned by Serve when Pause stopped it.
var errPaused = errors.New("rpc: server paused")

// Serve accepts connections on l until Shutdown. When l is a *Listener its
// credentials protect every route.
func (s *Server) Serve(l net.Listener) error {
	var auth *Credentials
	var routes []Route
	serverName, serverPort := "", ""
	if al, ok := l.(*Listener); ok {
		auth, routes = al.Auth, al.Routes
		serverName, serverPort = al.ServerName, al.ServerPort
	}
	if serverName == "" {
		// A plain listener: the address stands for the name.
		serverName, serverPort = l.Addr().String(), ""
		if l.Addr().Network() == "unix" {
			serverName, serverPort = unixServerName, l.Addr().String()
		} else if h, p, err := net.SplitHostPort(serverName); err == nil {
			serverName, serverPort = h, p
		}
	}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.accepting.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		s.accepting.Done()
	}()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.closed.Load() {
				return ErrServerClosed
			}
			if pausedAccept(s, err) {
				return errPaused
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("rpc: accept: %w", err)
		}
		delay = 0
		c := &conn{srv: s, nc: nc, br: bufio.NewReaderSize(nc, 4096), auth: auth, routes: routes, serverName: serverName, serverPort: serverPort}
		s.mu.Lock()
		if s.closed.Load() {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		if len(s.conns) >= s.opts.MaxConns && !s.evictLocked() {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		c.waiting, c.since = true, time.Now()
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

// evictLocked closes the connection that has waited longest without a
// request being handled, to make room for a new one; it reports false
// when every connection is busy in a handler. s.mu is held. A closed
// connection stays counted until its goroutine ends, so the count may
// pass MaxConns by the connections being torn down.
func (s *Server) evictLocked() bool {
	var victim *conn
	var since time.Time
	for c := range s.conns {
		c.mu.Lock()
		ok, t := c.waiting && !c.evicted, c.since
		c.mu.Unlock()
		if ok && (victim == nil || t.Before(since)) {
			victim, since = c, t
		}
	}
	if victim == nil {
		return false
	}
	victim.mu.Lock()
	victim.evicted = true
	victim.mu.Unlock()
	victim.nc.Close()
	return true
}

// Shutdown closes the listeners, cancels blocking calls and streams, and
// waits for connections to finish until ctx is done (then closes them).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed.Store(true)
	var errs []error
	for l := range s.listeners {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	for c := range s.conns {
		c.closeIfIdle()
	}
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		<-done
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}

func (s *Server) logf(format string, a ...any) {
	if s.opts.ErrorLog != nil {
		s.opts.ErrorLog(fmt.Sprintf(format, a...))
	}
}

// conn is one client connection; requests on it are served in order.
type conn struct {
	srv        *Server
	nc         net.Conn
	br         *bufio.Reader
	auth       *Credentials
	routes     []Route
	serverName string // Python's server.server_name
	serverPort string // Python's str(server.port): a number, or the socket path
	curVersion string // HTTP version of the request being handled

	mu   sync.Mutex
	idle bool
	// waiting: no request is being handled (idle, or one is still being
	// read) since the time in since; evictLocked picks the oldest.
	waiting bool
	since   time.Time
	evicted bool
}

// setWaiting marks whether the connection waits for (or reads) a request
// rather than running a handler.
func (c *conn) setWaiting(v bool) {
	c.mu.Lock()
	c.waiting = v
	if v {
		c.since = time.Now()
	}
	c.mu.Unlock()
}

func (c *conn) closeIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle {
		c.nc.Close()
	}
}

// setIdle marks the connection idle (waiting for a request) or busy. It
// reports false when the server is shutting down and an idle connection
// must end. Lock order: never c.mu then srv.mu (Shutdown takes srv.mu, then
// each c.mu).
func (c *conn) setIdle(v bool) bool {
	c.mu.Lock()
	c.idle = v
	c.mu.Unlock()
	return !v || !c.srv.closed.Load()
}

func (c *conn) serve() {
	defer func() {
		if r := recover(); r != nil {
			c.srv.logf("rpc: panic serving %s: %v", c.nc.RemoteAddr(), r)
		}
		c.nc.Close()
		c.srv.mu.Lock()
		delete(c.srv.conns, c)
		c.srv.mu.Unlock()
		c.srv.wg.Done()
	}()
	if tc, ok := c.nc.(*tls.Conn); ok {
		// The handshake gets the time a request head gets.
		tc.SetDeadline(time.Now().Add(c.srv.opts.ReadTimeout))
		if err := tc.HandshakeContext(c.srv.ctx); err != nil {
			return
		}
		tc.SetDeadline(time.Time{})
	}
	for {
		if !c.setIdle(true) {
			return
		}
		c.nc.SetReadDeadline(time.Now().Add(c.srv.opts.IdleTimeout))
		if _, err := c.br.Peek(1); err != nil {
			return
		}
		c.setIdle(false)
		c.nc.SetReadDeadline(time.Now().Add(c.srv.opts.ReadTimeout))
		req, status := c.readRequest()
		if req == nil {
			if status != 0 {
				w := &response{c: c, version: "1.1", close: true}
				w.sendError(status)
			}
			return
		}
		c.nc.SetReadDeadline(time.Time{})
		w := &response{c: c, req: req, version: req.version}
		w.close = req.wantsClose()
		if status != 0 {
			w.close = true
			if c.auth != nil && c.auth.check(req) != 0 {
				// medusa authenticates before any handler rule (411...)
				w.set("Connection", "close")
				w.set("WWW-Authenticate", `Basic realm="default"`)
				status = 401
			}
			w.sendError(status)
			return
		}
		c.setWaiting(false)
		c.curVersion = req.version
		c.srv.handle(w, req)
		if w.close || w.err != nil || c.srv.paused.Load() {
			return
		}
		c.setWaiting(true)
	}
}

// request is one parsed HTTP request.
type request struct {
	method  string
	uri     string
	version string // "1.0", "1.1", or "" for HTTP/0.9 style
	headers [][2]string
	body    []byte
}

func (r *request) header(name string) string {
	for _, h := range r.headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

func (r *request) wantsClose() bool {
	conn := strings.ToLower(strings.TrimSpace(r.header("Connection")))
	switch r.version {
	case "1.1":
		return conn == "close"
	case "1.0":
		return conn != "keep-alive"
	}
	return true
}

var errHeadTooLarge = errors.New("request head too large")

// readLine reads one CRLF- or LF-terminated line within the head budget.
func (c *conn) readLine(budget *int) (string, error) {
	var line []byte
	for {
		frag, err := c.br.ReadSlice('\n')
		*budget -= len(frag)
		if *budget < 0 {
			return "", errHeadTooLarge
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// readRequest parses one request. On a malformed request it returns nil
// and the HTTP status to answer (0: just drop the connection).
func (c *conn) readRequest() (*request, int) {
	budget := c.srv.opts.MaxHeaderBytes
	var line string
	var err error
	// Tolerate empty lines before the request line (RFC 9112 §2.2), which
	// is where supervisorctl's stray CRLF after a previous request lands.
	for {
		line, err = c.readLine(&budget)
		if err != nil {
			if errors.Is(err, errHeadTooLarge) {
				return nil, 431
			}
			return nil, 0
		}
		if line != "" {
			break
		}
	}
	parts := strings.Split(line, " ")
	req := &request{}
	switch {
	case len(parts) == 3 && strings.HasPrefix(parts[2], "HTTP/"):
		req.method, req.uri, req.version = parts[0], parts[1], strings.TrimPrefix(parts[2], "HTTP/")
	case len(parts) == 2:
		req.method, req.uri = parts[0], parts[1]
	default:
		return nil, 400
	}
	if req.method == "" || req.uri == "" {
		return nil, 400
	}
	if req.version != "" && req.version != "1.0" && req.version != "1.1" {
		if !strings.HasPrefix(req.version, "1.") {
			return nil, 505
		}
		req.version = "1.1"
	}
	if req.version != "" {
		for {
			hl, err := c.readLine(&budget)
			if err != nil {
				if errors.Is(err, errHeadTooLarge) {
					return nil, 431
				}
				return nil, 0
			}
			if hl == "" {
				break
			}
			if (hl[0] == ' ' || hl[0] == '\t') && len(req.headers) > 0 {
				req.headers[len(req.headers)-1][1] += " " + strings.TrimSpace(hl)
				continue
			}
			name, value, ok := strings.Cut(hl, ":")
			if !ok || name == "" || strings.ContainsAny(name, " \t") {
				return nil, 400
			}
			if len(req.headers) >= 200 {
				return nil, 431
			}
			req.headers = append(req.headers, [2]string{name, strings.TrimSpace(value)})
		}
	}
	if te := req.header("Transfer-Encoding"); te != "" && !strings.EqualFold(te, "identity") {
		// Medusa has no chunked request bodies either.
		return req, 411
	}
	if cl := req.header("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64)
		if err != nil || n < 0 {
			return req, 400
		}
		if n > c.srv.opts.MaxBodyBytes {
			return req, 413
		}
		if strings.EqualFold(req.header("Expect"), "100-continue") && req.version == "1.1" {
			c.nc.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
		}
		// Grow the body as bytes arrive, so a client announcing a large
		// body costs memory only once it sends it.
		var body bytes.Buffer
		body.Grow(int(min(n, 64<<10)))
		if _, err := io.CopyN(&body, c.br, n); err != nil {
			return nil, 0
		}
		req.body = body.Bytes()
	} else if req.method == "POST" && strings.HasPrefix(req.uri, "/RPC2") {
		return req, 411
	}
	return req, 0
}

// response writes one reply in medusa's layout: status line, Server, Date,
// then headers in the order they were set.
type response struct {
	c       *conn
	req     *request
	version string
	code    int
	headers [][2]string
	close   bool
	err     error
	started bool
}

func (w *response) set(name, value string) {
	for i := range w.headers {
		if w.headers[i][0] == name {
			w.headers[i][1] = value
			return
		}
	}
	w.headers = append(w.headers, [2]string{name, value})
}

// statusText is the reason phrase medusa sends for a status.
func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 304:
		return "Not Modified"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 411:
		return "Length Required"
	case 413:
		return "Request Entity Too Large"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Unknown"
}

func (w *response) head() []byte {
	v := w.version
	if v == "" {
		v = "1.0"
	}
	b := make([]byte, 0, 256)
	b = append(b, "HTTP/"...)
	b = append(b, v...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(w.code), 10)
	b = append(b, ' ')
	b = append(b, statusText(w.code)...)
	b = append(b, "\r\nServer: Medusa/1.12\r\nDate: "...)
	b = time.Now().UTC().AppendFormat(b, "Mon, 02 Jan 2006 15:04:05 GMT")
	b = append(b, "\r\n"...)
	for _, h := range w.headers {
		b = append(b, h[0]...)
		b = append(b, ": "...)
		b = append(b, h[1]...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

// finishKeepAlive applies medusa's persistence rules for a response with a
// Content-Length.
func (w *response) finishKeepAlive() {
	if w.req != nil && w.version == "1.0" && !w.close {
		w.set("Connection", "Keep-Alive")
	}
}

// send writes a complete response with a body.
func (w *response) send(code int, body []byte) {
	w.code = code
	w.set("Content-Length", strconv.Itoa(len(body)))
	if w.c.srv.paused.Load() {
		// An upgrade is under way: the connection ends after this.
		w.close = true
		w.set("Connection", "close")
	}
	w.finishKeepAlive()
	w.c.nc.SetWriteDeadline(time.Now().Add(w.c.srv.opts.WriteTimeout))
	head := w.head()
	if w.req != nil && w.req.method == "HEAD" {
		body = nil
	}
	if len(body) < 16<<10 {
		_, w.err = w.c.nc.Write(append(head, body...))
	} else {
		bufs := net.Buffers{head, body}
		_, w.err = bufs.WriteTo(w.c.nc)
	}
	w.c.nc.SetWriteDeadline(time.Time{})
}

// errorBody is medusa's DEFAULT_ERROR_MESSAGE.
func errorBody(code int) []byte {
	return []byte(strings.Join([]string{
		"<head>",
		"<title>Error response</title>",
		"</head>",
		"<body>",
		"<h1>Error response</h1>",
		fmt.Sprintf("<p>Error code %d.", code),
		fmt.Sprintf("<p>Message: %s.", statusText(code)),
		"</body>",
		"",
	}, "\r\n"))
}

// sendError writes medusa's HTML error page.
func (w *response) sendError(code int) {
	body := errorBody(code)
	w.set("Content-Length", strconv.Itoa(len(body)))
	w.set("Content-Type", "text/html")
	w.send(code, body)
}
