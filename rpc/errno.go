package rpc

import "syscall"

const (
	syscallEMFILE = syscall.EMFILE
	syscallENFILE = syscall.ENFILE
)
