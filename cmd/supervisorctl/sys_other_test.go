//go:build !linux

package main

import (
	"os"
	"testing"
)

// becomeSubreaper has no equivalent here: leaked processes are found only
// among direct children.
func becomeSubreaper() error { return nil }

// openPty skips: the pseudo-terminal tests use Linux's /dev/ptmx ioctls.
func openPty(t *testing.T) (*os.File, string) {
	t.Skip("pseudo-terminal tests run on Linux")
	return nil, ""
}
