package rpc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ListenConfig is one [unix_http_server] or [inet_http_server] section.
type ListenConfig struct {
	Section string // "unix_http_server" or "inet_http_server", for messages
	Family  string // "unix" or "inet"
	// inet
	Host string // "" or "*" for all interfaces
	Port int
	// unix
	File     string
	Chmod    os.FileMode // 0 means the default 0700
	ChownUID int         // -1: unchanged
	ChownGID int         // -1: unchanged
	// Username and Password turn on basic auth when Username is set.
	Username string
	Password string
}

// ErrAddressInUse is returned when a live server already owns the socket.
// The text is supervisord's.
//
//lint:ignore ST1005 supervisord's exact message
var ErrAddressInUse = errors.New("Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.")

// Listener is a net.Listener with the credentials and server name of its
// config section. Closing a unix Listener removes its socket file if it is
// still the one it created.
type Listener struct {
	net.Listener
	Auth       *Credentials
	ServerName string // used in redirects when the client sent no Host
	// StaleRemoved is set when a stale unix socket (nothing answered on
	// it) was unlinked; supervisord logs "Unlinking stale socket <file>".
	StaleRemoved bool

	path      string
	ino       uint64
	closeOnce sync.Once
	closeErr  error
}

// Close closes the listener and removes its own unix socket file.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		l.closeErr = l.Listener.Close()
		if l.path != "" {
			if st, err := os.Lstat(l.path); err == nil {
				if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Ino == l.ino {
					os.Remove(l.path)
				}
			}
		}
	})
	return l.closeErr
}

// ParseInetPort parses an [inet_http_server] port value: "host:port",
// "*:port", ":port" or a bare "port". The host is lowercased; "*" and ""
// mean all interfaces.
func ParseInetPort(s string) (host string, port int, err error) {
	h, p := "", s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		h, p = s[:i], s[i+1:]
	}
	h = strings.ToLower(strings.TrimSpace(h))
	if h == "*" {
		h = ""
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	port, err = strconv.Atoi(strings.TrimSpace(p))
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("invalid port value %q", s)
	}
	return h, port, nil
}

// Listen opens the listener of one HTTP server section.
func Listen(cfg ListenConfig) (*Listener, error) {
	var auth *Credentials
	if cfg.Username != "" {
		auth = &Credentials{Username: cfg.Username, Password: cfg.Password}
	}
	switch cfg.Family {
	case "inet":
		host := cfg.Host
		if host == "*" {
			host = ""
		}
		addr := net.JoinHostPort(host, strconv.Itoa(cfg.Port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			var se *os.SyscallError
			if errors.As(err, &se) && errors.Is(se.Err, syscall.EADDRINUSE) {
				return nil, fmt.Errorf("%s %s: %w", cfg.Section, addr, ErrAddressInUse)
			}
			return nil, fmt.Errorf("%s: listen on %s: %w", cfg.Section, addr, err)
		}
		name := cfg.Host
		if name == "" || name == "*" {
			name, _ = os.Hostname()
		}
		return &Listener{Listener: l, Auth: auth, ServerName: net.JoinHostPort(name, strconv.Itoa(cfg.Port))}, nil
	case "unix":
		l, ino, stale, err := listenUnix(cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Section, err)
		}
		return &Listener{Listener: l, Auth: auth, ServerName: "<unix domain socket>", StaleRemoved: stale, path: cfg.File, ino: ino}, nil
	}
	return nil, fmt.Errorf("%s: unknown family %q", cfg.Section, cfg.Family)
}

// listenUnix binds <file>.<pid>, applies chmod/chown, then hard-links it to
// <file> as supervisord does, so the socket never appears with the wrong
// permissions. An existing socket is replaced only when nothing answers
// on it.
func listenUnix(cfg ListenConfig) (l net.Listener, ino uint64, stale bool, err error) {
	if cfg.File == "" {
		return nil, 0, false, errors.New("no socket file")
	}
	mode := cfg.Chmod
	if mode == 0 {
		mode = 0o700
	}
	tmp := fmt.Sprintf("%s.%d", cfg.File, os.Getpid())
	os.Remove(tmp)
	defer os.Remove(tmp)
	l, err = net.Listen("unix", tmp)
	if err != nil {
		return nil, 0, false, fmt.Errorf("bind %s: %w", tmp, err)
	}
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	fail := func(err error) (net.Listener, uint64, bool, error) {
		l.Close()
		return nil, 0, false, err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fail(fmt.Errorf("chmod %s: %w", tmp, err))
	}
	if cfg.ChownUID >= 0 || cfg.ChownGID >= 0 {
		if err := os.Lchown(tmp, cfg.ChownUID, cfg.ChownGID); err != nil {
			user := strconv.Itoa(os.Getuid())
			//lint:ignore ST1005 supervisord's exact message
			return fail(fmt.Errorf("Not permitted to chown %s to uid/gid %d/%d; adjust \"sockchown\" value in config file or on command line to values that the current user (%s) can successfully chown: %w",
				cfg.File, cfg.ChownUID, cfg.ChownGID, user, err))
		}
	}
	for attempt := 0; ; attempt++ {
		err := os.Link(tmp, cfg.File)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || attempt > 0 {
			return fail(fmt.Errorf("link %s: %w", cfg.File, err))
		}
		if socketAlive(cfg.File) {
			return fail(ErrAddressInUse)
		}
		st, serr := os.Lstat(cfg.File)
		if serr == nil && st.Mode()&os.ModeSocket == 0 {
			return fail(fmt.Errorf("%s exists and is not a socket", cfg.File))
		}
		if err := os.Remove(cfg.File); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fail(fmt.Errorf("remove stale socket %s: %w", cfg.File, err))
		}
		stale = true
	}
	if st, err := os.Lstat(cfg.File); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			ino = sys.Ino
		}
	}
	return l, ino, stale, nil
}

// socketAlive reports whether something accepts connections on path.
func socketAlive(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
