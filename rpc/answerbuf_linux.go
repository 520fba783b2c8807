package rpc

import (
	"os"
	"syscall"
)

// mapAnswer maps an anonymous private region of at least size bytes for
// a large answer; where mmap fails it falls back to the heap.
func mapAnswer(size int) (b []byte, mapped bool) {
	page := os.Getpagesize()
	size = (size + page - 1) &^ (page - 1)
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, 0, size), false
	}
	return b[:0], true
}

// unmapAnswer gives a mapping from mapAnswer back to the OS.
func unmapAnswer(b []byte) {
	_ = syscall.Munmap(b[:cap(b)])
}
