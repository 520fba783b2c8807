package rpc

import (
	"context"
)

// LogReader reads log files with supervisor's readFile/tailFile rules
// (reference §3.5). logrot.Files is the implementation.
type LogReader interface {
	// ReadFile returns BAD_ARGUMENTS for bad sign combinations and FAILED
	// for I/O errors.
	ReadFile(path string, offset, length int64) ([]byte, error)
	// TailFile never fails: an I/O error gives ("", offset, false).
	TailFile(path string, offset, length int64) (data []byte, newOffset int64, overflow bool)
}

// LogFollower streams a growing log file for /logtail and /mainlogtail;
// logrot.Files is the implementation.
type LogFollower interface {
	// Follow calls emit with the last head bytes of path (the whole file
	// if smaller), then with new bytes as they are written, until ctx is
	// done or emit fails. A truncation emits "==> File truncated <==\n"
	// and restarts at offset 0; a replaced file (rotation) is reopened.
	Follow(ctx context.Context, path string, head int64, emit func([]byte) error) error
}
