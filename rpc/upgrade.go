package rpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
)

// The HTTP front's part of the in-place upgrade (gosupervisor.upgrade,
// issue 16): Pause stops accepting without closing the listening sockets
// (connections wait in the kernel's backlog) and lets the requests in
// progress finish; the listeners' descriptors go to the new image, which
// serves them again (ListenConfig.Inherited); the connection that asked for
// the upgrade is handed over too and the new image answers it
// (WriteHandoffReply).

type connKey struct{}

// withConn records the connection carrying a request in its context.
func withConn(ctx context.Context, c *conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// HandoffConn returns a duplicate descriptor (close-on-exec) of the
// connection that carries the request of ctx, and the HTTP version to
// answer it with. A TLS connection cannot be handed over.
func HandoffConn(ctx context.Context) (*os.File, string, error) {
	c, _ := ctx.Value(connKey{}).(*conn)
	if c == nil {
		return nil, "", errors.New("no connection in the request context")
	}
	fc, ok := c.nc.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, "", fmt.Errorf("a %T connection cannot be handed over", c.nc)
	}
	f, err := fc.File()
	if err != nil {
		return nil, "", fmt.Errorf("duplicate the connection: %w", err)
	}
	v := "1.0"
	if c.curVersion != "" {
		v = c.curVersion
	}
	return f, v, nil
}

// File returns a duplicate of the listening socket's descriptor
// (close-on-exec), for a new image of the daemon.
func (l *Listener) File() (*os.File, error) {
	fl, ok := l.raw.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, fmt.Errorf("a %T listener cannot be handed over", l.raw)
	}
	return fl.File()
}

// Port is the TCP port an inet listener is bound to (0 for unix).
func (l *Listener) Port() int {
	if ta, ok := l.Addr().(*net.TCPAddr); ok {
		return ta.Port
	}
	return 0
}

// Inode is the unix socket file's inode this listener owns (0 for inet).
func (l *Listener) Inode() uint64 { return l.ino }

// Pause stops accepting on every listener (new connections wait in the
// backlog), closes idle connections (one just accepted gets freshGrace to
// send its first request) and waits until no request is in
// progress but the one of self (the context of the request asking for the
// pause), or until ctx ends, when the rest are closed. Responses written
// while paused say "Connection: close".
func (s *Server) Pause(ctx context.Context, self context.Context) error {
	selfConn, _ := self.Value(connKey{}).(*conn)
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.paused.Store(true)
	ls := make([]net.Listener, 0, len(s.listeners))
	for l := range s.listeners {
		ls = append(ls, l)
	}
	s.mu.Unlock()
	s.pausedLs = ls
	for _, l := range ls {
		if d, ok := rawListener(l).(interface{ SetDeadline(time.Time) error }); ok {
			d.SetDeadline(time.Unix(1, 0)) //nolint:errcheck // a listener without deadlines is closed below instead
		}
	}
	s.accepting.Wait()
	for {
		s.mu.Lock()
		others := 0
		for c := range s.conns {
			if c == selfConn {
				continue
			}
			c.closeIdleForPause(time.Now())
			others++
		}
		if others > 0 && ctx.Err() != nil {
			for c := range s.conns {
				if c != selfConn {
					c.nc.Close()
				}
			}
		}
		s.mu.Unlock()
		if others == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// freshGrace is how long Pause leaves an idle connection that has not sent
// its first request yet: a client that has just connected is about to send
// one, and closing it would fail that call (net/http's Shutdown gives such
// connections 5 s). A connection that has served a request and waits for
// the next is closed at once, as a keep-alive client expects.
const freshGrace = time.Second

// closeIdleForPause closes the connection when it waits for a request and
// has served one before, or has waited freshGrace since it was accepted
// without sending any.
func (c *conn) closeIdleForPause(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle && (c.served || now.Sub(c.accepted) >= freshGrace) {
		c.nc.Close()
	}
}

// Resume accepts again on the listeners Pause stopped (the upgrade did not
// happen).
func (s *Server) Resume() {
	ls := s.pausedLs
	s.pausedLs = nil
	for _, l := range ls {
		if d, ok := rawListener(l).(interface{ SetDeadline(time.Time) error }); ok {
			d.SetDeadline(time.Time{}) //nolint:errcheck // as in Pause
		}
	}
	s.paused.Store(false)
	for _, l := range ls {
		go s.Serve(l) //nolint:errcheck // ends with the server
	}
}

// rawListener is the socket under l's TLS and peer-credential wrappers.
func rawListener(l net.Listener) net.Listener {
	if al, ok := l.(*Listener); ok && al.raw != nil {
		return al.raw
	}
	return l
}

// WriteHandoffReply answers, on a connection handed over by HandoffConn,
// the XML-RPC call that asked for the upgrade: v as the result, or the
// fault when f is set; then it closes the connection.
func WriteHandoffReply(c *os.File, version string, v any, f *Fault) error {
	defer c.Close()
	var body []byte
	if f != nil {
		body = EncodeFault(nil, f)
	} else {
		var err error
		body, err = EncodeResponse(nil, v)
		if err != nil {
			return fmt.Errorf("encode the upgrade reply: %w", err)
		}
	}
	w := &response{version: version, code: 200}
	w.set("Content-Type", "text/xml")
	w.set("Content-Length", strconv.Itoa(len(body)))
	w.set("Connection", "close")
	if _, err := c.Write(append(w.head(), body...)); err != nil {
		return fmt.Errorf("write the upgrade reply: %w", err)
	}
	return nil
}

// clearDeadlineErr reports whether an Accept error is the deadline Pause
// set.
func pausedAccept(s *Server, err error) bool {
	var ne net.Error
	return s.paused.Load() && (errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EINVAL))
}
