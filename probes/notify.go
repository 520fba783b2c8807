package probes

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
)

// NotifySocket is the datagram socket of one process run for the sd_notify
// protocol: the child finds its path in $NOTIFY_SOCKET and sends
// newline-separated KEY=VALUE assignments; READY=1 marks it ready.
type NotifySocket struct {
	path string
	conn *net.UnixConn

	mu      sync.Mutex
	onReady func()
	ready   bool // READY=1 arrived (possibly before onReady was set)
	closed  bool
	status  string // the last STATUS= text
}

// maxNotifyDatagram bounds one message; sd_notify messages are tiny.
const maxNotifyDatagram = 4096

// ListenNotify creates the socket at path (removing a stale one), readable
// and writable by the owner only; chown it with Chown when the child runs
// as another user. A goroutine reads it until Close.
func ListenNotify(path string) (*NotifySocket, error) {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("notify socket %s: %w", path, err)
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		conn.Close()
		os.Remove(path)
		return nil, fmt.Errorf("notify socket %s: %w", path, err)
	}
	n := &NotifySocket{path: path, conn: conn}
	go n.read()
	return n, nil
}

// Path is the value for $NOTIFY_SOCKET.
func (n *NotifySocket) Path() string { return n.path }

// Chown gives the socket to the child's user.
func (n *NotifySocket) Chown(uid, gid int) error { return os.Chown(n.path, uid, gid) }

// Status is the last STATUS= text the process sent.
func (n *NotifySocket) Status() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.status
}

// setOnReady arranges for f to be called once READY=1 has arrived (at
// once if it already has).
func (n *NotifySocket) setOnReady(f func()) {
	n.mu.Lock()
	n.onReady = f
	fire := n.ready && !n.closed
	n.mu.Unlock()
	if fire {
		f()
	}
}

func (n *NotifySocket) read() {
	buf := make([]byte, maxNotifyDatagram)
	for {
		k, _, err := n.conn.ReadFromUnix(buf)
		if err != nil {
			return // closed
		}
		n.handle(buf[:k])
	}
}

// handle applies one datagram.
func (n *NotifySocket) handle(msg []byte) {
	ready := false
	n.mu.Lock()
	for _, line := range bytes.Split(msg, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte("="))
		if !ok {
			continue
		}
		switch string(k) {
		case "READY":
			if string(v) == "1" && !n.ready {
				n.ready, ready = true, true
			}
		case "STATUS":
			n.status = string(v)
		}
	}
	f := n.onReady
	closed := n.closed
	n.mu.Unlock()
	if ready && f != nil && !closed {
		f()
	}
}

// Close stops reading and removes the socket file.
func (n *NotifySocket) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.mu.Unlock()
	err := n.conn.Close()
	os.Remove(n.path)
	return err
}

// NotifyDir creates a private directory for the notify sockets of one
// supervisor (mode 0711: children running as other users reach their own
// socket by path, but cannot list the others).
func NotifyDir() (string, error) {
	dir, err := os.MkdirTemp("", "gosupervisor-notify-")
	if err != nil {
		return "", fmt.Errorf("notify socket directory: %w", err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("notify socket directory: %w", err)
	}
	return dir, nil
}

// NotifyPath is the socket path in dir for id, a number unique within the
// supervisor (short: a unix socket path has at most 107 bytes).
func NotifyPath(dir string, id uint64) string {
	return filepath.Join(dir, fmt.Sprintf("n%d.sock", id))
}
