package procman

import (
	"io"
	"os"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// OutputSink consumes one output channel (stdout or stderr) of a process.
// Consume is called once per spawn with the read end of the child's pipe
// and the child's pid. The sink owns r: it must read it until EOF without
// blocking the caller (in its own goroutine; r is non-blocking and served by
// the runtime poller) and close it.
type OutputSink interface {
	Consume(r *os.File, pid int)
}

// A Preparer is an OutputSink that must get ready before each spawn (its
// log file opened). A Prepare error fails the spawn before the fork, as a
// failure in Python's make_dispatchers does: the process goes to BACKOFF
// with spawnerr "unknown error making dispatchers for 'x': EACCES".
type Preparer interface {
	Prepare() error
}

// A Settler is an OutputSink that can tell when it has handled what a
// child wrote. When a child has exited, procman calls Settle before it
// handles the exit (logs it, publishes EXITED/BACKOFF, restarts), so the
// child's last output comes first, as Python drains a child's pipes before
// it reports the exit. Settle returns once every pipe consumed for pid is
// at EOF and handled, or idle with nothing left to read (a grandchild may
// hold it open), or timeout has passed; with timeout 0 it only looks.
type Settler interface {
	Settle(pid int, timeout time.Duration) bool
}

// settleTimeout bounds how long an exit waits for its output to settle.
const settleTimeout = time.Second

// Output is what the Options.Output hook returns for one process.
type Output struct {
	Stdout OutputSink // nil: drained and discarded
	Stderr OutputSink // nil: drained and discarded; unused with redirect_stderr
	// Log file paths reported in ProcessInfo ("" for none).
	StdoutLogfile string
	StderrLogfile string
	// Tap, when set, gets the output for a log: ready check (probes.go).
	Tap *OutputTap
}

// discardSink drains a pipe and throws the bytes away.
type discardSink struct{}

func (discardSink) Consume(r *os.File, _ int) {
	go func() {
		_, _ = io.Copy(io.Discard, r)
		_ = r.Close()
	}()
}

// DefaultOutput is the Output used when Options.Output is nil: both
// channels are discarded and the log file fields show the configured
// paths (AUTO shows as "").
func DefaultOutput(_ *config.Group, p *config.Process) Output {
	path := func(f string) string {
		if f == config.LogAuto {
			return ""
		}
		return f
	}
	return Output{StdoutLogfile: path(p.Stdout.File), StderrLogfile: path(p.Stderr.File)}
}
