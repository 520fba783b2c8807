package rpc

import (
	"fmt"
	"net"
	"slices"
)

// peer is who is at the other end of a unix socket connection.
type peer struct {
	uid, gid, pid int
	groups        []int // supplementary groups
}

// peerListener admits only peers whose uid is in uids, or whose primary
// or supplementary group is in gids ([unix_http_server] allow_uids and
// allow_groups). Refused connections are closed before a byte is read.
type peerListener struct {
	net.Listener
	file       string
	uids, gids []int
	refused    func(msg string)
}

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		p, err := peerCredentials(c)
		if err == nil && l.allowed(p) {
			return c, nil
		}
		c.Close()
		if l.refused == nil {
			continue
		}
		if err != nil {
			l.refused(fmt.Sprintf("refused a connection on %s: cannot read the peer's credentials: %v", l.file, err))
		} else {
			l.refused(fmt.Sprintf("refused a connection on %s from pid %d (uid %d, gid %d): not in allow_uids or allow_groups", l.file, p.pid, p.uid, p.gid))
		}
	}
}

func (l *peerListener) allowed(p peer) bool {
	if slices.Contains(l.uids, p.uid) || slices.Contains(l.gids, p.gid) {
		return true
	}
	for _, g := range p.groups {
		if slices.Contains(l.gids, g) {
			return true
		}
	}
	return false
}
