package rpc

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
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

	answers answerBufs // XML-RPC answer buffers (answerbuf.go)

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
		c.accepted = c.since
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
	// accepted is when the connection was accepted; served is set once
	// its first request is being handled (see closeIdleForPause).
	accepted time.Time
	served   bool
}

// setWaiting marks whether the connection waits for (or reads) a request
// rather than running a handler.
func (c *conn) setWaiting(v bool) {
	c.mu.Lock()
	c.waiting = v
	if v {
		c.since = time.Now()
	} else {
		c.served = true
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
