//go:build !linux

package rpc

// mapAnswer allocates on the heap where the daemon does not map large
// answers (it runs on Linux only).
func mapAnswer(size int) (b []byte, mapped bool) { return make([]byte, 0, size), false }

func unmapAnswer([]byte) {}
