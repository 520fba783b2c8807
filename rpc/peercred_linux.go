package rpc

import (
	"errors"
	"net"
	"syscall"
	"unsafe"
)

// soPeerGroups is SO_PEERGROUPS (Linux 4.13): the peer's supplementary
// groups at connect time. The syscall package lacks the constant.
const soPeerGroups = 59

// peerCredentials reads the uid, gid and pid (SO_PEERCRED) and the
// supplementary groups (SO_PEERGROUPS, nil on kernels without it) of the
// process at the other end of a unix socket, as they were when it
// connected.
func peerCredentials(c net.Conn) (peer, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return peer{}, errors.New("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return peer{}, err
	}
	var p peer
	var opErr error
	err = raw.Control(func(fd uintptr) {
		cred, err := syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
		if err != nil {
			opErr = err
			return
		}
		p = peer{uid: int(cred.Uid), gid: int(cred.Gid), pid: int(cred.Pid)}
		p.groups, opErr = peerGroups(fd)
	})
	if err != nil {
		return peer{}, err
	}
	return p, opErr
}

func peerGroups(fd uintptr) ([]int, error) {
	buf := make([]uint32, 64)
	for {
		n := uint32(len(buf) * 4)
		_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_SOCKET, soPeerGroups,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
		switch errno {
		case 0:
			groups := make([]int, n/4)
			for i := range groups {
				groups[i] = int(buf[i])
			}
			return groups, nil
		case syscall.ERANGE:
			if int(n/4) <= len(buf) || n > 1<<20 {
				return nil, errno
			}
			buf = make([]uint32, n/4)
		case syscall.ENOPROTOOPT:
			return nil, nil // before Linux 4.13: the primary group only
		default:
			return nil, errno
		}
	}
}
