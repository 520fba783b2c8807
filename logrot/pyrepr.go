package logrot

import "github.com/gosupervisor/gosupervisor/internal/pyrepr"

// pyStrRepr is Python's repr() of a str (process names in main log lines:
// 'name' stdout output:). It stays as a name channel.go calls.
func pyStrRepr(s string) string { return pyrepr.Str(s) }

// pyBytesRepr is Python's repr() of bytes (b'...'), as listener output is
// logged. It stays as a name channel.go calls.
func pyBytesRepr(p []byte) string { return pyrepr.Bytes(p) }
