//go:build !linux

package main

import (
	"os"
	"testing"
)

// openPty skips: the pseudo-terminal tests use Linux's /dev/ptmx ioctls.
func openPty(t *testing.T) (*os.File, string) {
	t.Skip("pseudo-terminal tests run on Linux")
	return nil, ""
}
