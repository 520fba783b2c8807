package procman

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gosupervisor/gosupervisor/config"
)

// fcgiSocket is the listening socket of an [fcgi-program:x] group, Python's
// SocketManager: created on first use, shared by the group's processes as
// their fd 0, closed when the last process holding it is gone.
type fcgiSocket struct {
	cfg *config.FCGISocket
	log func(config.LogLevel, string, ...any)

	mu   sync.Mutex
	refs int
	file *os.File
}

// acquire returns the socket, creating it if no process holds it.
func (f *fcgiSocket) acquire() (*os.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refs == 0 {
		f.log(config.LevelInfo, "Creating socket %s", f.cfg.URL)
		file, err := createFCGISocket(f.cfg)
		if err != nil {
			return nil, err
		}
		f.file = file
	}
	f.refs++
	return f.file, nil
}

// release drops one reference; the last one closes the socket.
func (f *fcgiSocket) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refs <= 0 {
		return
	}
	f.refs--
	if f.refs == 0 {
		f.log(config.LevelInfo, "Closing socket %s", f.cfg.URL)
		f.file.Close()
		f.file = nil
	}
}

// createFCGISocket is create_and_bind plus listen: a unix socket (replacing
// a stale file, then chown and chmod) or an AF_INET TCP socket with
// SO_REUSEADDR, listening with the configured backlog or SOMAXCONN.
func createFCGISocket(c *config.FCGISocket) (*os.File, error) {
	backlog := c.Backlog
	if backlog <= 0 {
		backlog = syscall.SOMAXCONN
	}
	var fd int
	var err error
	switch {
	case strings.HasPrefix(c.URL, "unix://"):
		path := strings.TrimPrefix(c.URL, "unix://")
		if _, serr := os.Lstat(path); serr == nil {
			_ = os.Remove(path)
		}
		fd, err = syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("socket: %w", err)
		}
		fail := func(err error) (*os.File, error) {
			syscall.Close(fd)
			_ = os.Remove(path)
			return nil, err
		}
		if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
			return fail(fmt.Errorf("bind %s: %w", path, err))
		}
		if c.OwnerUID >= 0 {
			if err := os.Lchown(path, c.OwnerUID, c.OwnerGID); err != nil {
				//lint:ignore ST1005 Python's wording
				return fail(fmt.Errorf("Could not change ownership of socket file: %w", err))
			}
		}
		if c.Mode != 0 {
			if err := os.Chmod(path, c.Mode.Perm()); err != nil {
				//lint:ignore ST1005 Python's wording
				return fail(fmt.Errorf("Could not change permissions of socket file: %w", err))
			}
		}
	case strings.HasPrefix(c.URL, "tcp://"):
		host, portText, serr := net.SplitHostPort(strings.TrimPrefix(c.URL, "tcp://"))
		if serr != nil {
			return nil, serr
		}
		port, perr := strconv.Atoi(portText)
		if perr != nil {
			return nil, perr
		}
		var sa syscall.SockaddrInet4
		sa.Port = port
		if host != "" && host != "*" {
			ip, rerr := net.ResolveIPAddr("ip4", host)
			if rerr != nil {
				return nil, rerr
			}
			copy(sa.Addr[:], ip.IP.To4())
		}
		fd, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("socket: %w", err)
		}
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
			syscall.Close(fd)
			return nil, err
		}
		if err := syscall.Bind(fd, &sa); err != nil {
			syscall.Close(fd)
			return nil, fmt.Errorf("bind %s: %w", c.URL, err)
		}
	default:
		return nil, fmt.Errorf("unsupported socket url %q", c.URL)
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("listen: %w", err)
	}
	return os.NewFile(uintptr(fd), c.URL), nil
}
