package rpc

import (
	"context"
	"crypto/tls"
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

	// gosupervisor options (nil/empty: exactly Python's behaviour).
	TLS       *tls.Config // inet: serve TLS with this configuration
	AllowUIDs []int       // unix: admit only these peer uids...
	AllowGIDs []int       // ...or peers in one of these groups
	// Refused receives a line for each connection allow_uids/allow_groups
	// refused.
	Refused func(msg string)
	Routes  []Route // extra routes (/metrics, /healthz)
	// Inherited, when set, is this section's listening socket handed
	// over by a previous image of the daemon (upgrade.go): it is served
	// as it is, nothing is bound, chmodded or linked.
	Inherited *os.File
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
	Auth *Credentials
	// ServerName and ServerPort are the server_name and port of Python's
	// HTTP server object: the static directory redirect uses the name,
	// the web UI's redirect both when the client sent no Host.
	ServerName string
	ServerPort string
	// Routes are the extra routes this listener serves.
	Routes []Route
	// StaleRemoved is set when a stale unix socket (nothing answered on
	// it) was unlinked; supervisord logs "Unlinking stale socket <file>".
	StaleRemoved bool

	raw       net.Listener // the socket under the TLS and peer wrappers
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
		l, err := listenTCP(addr, cfg.Inherited)
		if err != nil {
			var se *os.SyscallError
			if errors.As(err, &se) && errors.Is(se.Err, syscall.EADDRINUSE) {
				return nil, fmt.Errorf("%s %s: %w", cfg.Section, addr, ErrAddressInUse)
			}
			return nil, fmt.Errorf("%s: listen on %s: %w", cfg.Section, addr, err)
		}
		port := cfg.Port
		if ta, ok := l.Addr().(*net.TCPAddr); ok && port == 0 {
			port = ta.Port // tests ask for any port; a config never does
		}
		raw := l
		if cfg.TLS != nil {
			l = tls.NewListener(l, cfg.TLS.Clone())
		}
		return &Listener{Listener: l, raw: raw, Auth: auth, Routes: cfg.Routes, ServerName: pyServerName(context.Background(), net.DefaultResolver, host, os.Hostname),
			ServerPort: strconv.Itoa(port)}, nil
	case "unix":
		var l net.Listener
		var ino uint64
		var stale bool
		var err error
		if cfg.Inherited != nil {
			l, ino, err = inheritUnix(cfg)
		} else {
			l, ino, stale, err = listenUnix(cfg)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Section, err)
		}
		raw := l
		if len(cfg.AllowUIDs) > 0 || len(cfg.AllowGIDs) > 0 {
			l = &peerListener{Listener: l, file: cfg.File, uids: cfg.AllowUIDs, gids: cfg.AllowGIDs, refused: cfg.Refused}
		}
		return &Listener{Listener: l, Auth: auth, Routes: cfg.Routes, ServerName: unixServerName, ServerPort: cfg.File, StaleRemoved: stale, path: cfg.File, ino: ino, raw: raw}, nil
	}
	return nil, fmt.Errorf("%s: unknown family %q", cfg.Section, cfg.Family)
}

// unixServerName is the server_name of Python's unix socket HTTP server.
const unixServerName = "<unix domain socket>"

// hostResolver is the part of *net.Resolver pyServerName uses.
type hostResolver interface {
	LookupIP(ctx context.Context, network, host string) ([]net.IP, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// pyServerName is the server_name supervisor_af_inet_http_server gives an
// inet server bound to host ("" for all interfaces): for "", the IPv4
// address of gethostname() (socket.gethostbyname); then the first name a
// reverse lookup of that address gives (socket.gethostbyaddr(ip)[0], which
// resolves a host name first), or the address itself when the lookup
// fails. Bound to 127.0.0.1 it is typically "localhost". Where Python
// cannot resolve the host name for "" it refuses to start; this falls
// back to the host name instead.
func pyServerName(ctx context.Context, r hostResolver, host string, hostname func() (string, error)) string {
	ip := host
	if ip == "" {
		name, err := hostname()
		if err != nil {
			return ""
		}
		ip = name
		if ips, err := r.LookupIP(ctx, "ip4", name); err == nil && len(ips) > 0 {
			ip = ips[0].String()
		}
	}
	addr := ip
	if net.ParseIP(addr) == nil {
		ips, err := r.LookupIP(ctx, "ip", addr)
		if err != nil || len(ips) == 0 {
			return ip
		}
		addr = ips[0].String()
	}
	names, err := r.LookupAddr(ctx, addr)
	if err != nil || len(names) == 0 || strings.TrimSuffix(names[0], ".") == "" {
		return ip
	}
	return strings.TrimSuffix(names[0], ".")
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

// listenTCP binds addr, or serves the inherited socket.
func listenTCP(addr string, inherited *os.File) (net.Listener, error) {
	if inherited == nil {
		return net.Listen("tcp", addr)
	}
	defer inherited.Close()
	l, err := net.FileListener(inherited)
	if err != nil {
		return nil, fmt.Errorf("inherited socket for %s: %w", addr, err)
	}
	return l, nil
}

// inheritUnix serves a unix socket handed over by a previous image; the
// socket file stays as it was (the inode is read for Close).
func inheritUnix(cfg ListenConfig) (net.Listener, uint64, error) {
	defer cfg.Inherited.Close()
	l, err := net.FileListener(cfg.Inherited)
	if err != nil {
		return nil, 0, fmt.Errorf("inherited socket %s: %w", cfg.File, err)
	}
	ul, ok := l.(*net.UnixListener)
	if !ok {
		l.Close()
		return nil, 0, fmt.Errorf("inherited socket %s is not a unix socket", cfg.File)
	}
	ul.SetUnlinkOnClose(false)
	var ino uint64
	if st, err := os.Lstat(cfg.File); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			ino = sys.Ino
		}
	}
	return l, ino, nil
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
