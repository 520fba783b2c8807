// Command supervisord is gosupervisor's daemon, a drop-in for Python
// supervisord 4.2.5. This package owns the command line, daemon mode (a
// detached re-exec of the binary, since Go cannot fork), the pidfile,
// rlimits, dropping privileges, signals, reload and shutdown, and it wires
// config, procman, logrot, events and rpc together (the rpc.Backend the
// XML-RPC server drives is implemented here).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gosupervisor/gosupervisor/handover"
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit status.
func run(argv []string, stdout, stderr io.Writer) int {
	progname := argv[0]
	child := daemonChildFromEnv()
	// An image started by an upgrade (handover): a state it cannot read
	// went back to the old binary inside Take, which returns only if
	// that failed too.
	taken, err := handover.Take()
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 2
	}
	// After Take: a state this build cannot read goes back to the old
	// image with the descriptors it names, which only that image knows.
	if err := closeInheritedOnExec(); err != nil {
		// Our programs may inherit a descriptor; nothing else is wrong.
		fmt.Fprintf(stderr, "Warning: %v\n", err)
	}
	ignorePythonsSignals()
	restoreNofile()
	cwd, err := os.Getwd()
	if err != nil {
		cwd = "."
	}
	c, err := parseArgs(argv[1:], cwd)
	if err != nil {
		return reportStartupError(child, progname, stderr, err)
	}
	switch {
	case c.help:
		fmt.Fprint(stdout, strings.ReplaceAll(helpText, "%s", progname))
		return 0
	case c.showVersion:
		fmt.Fprintln(stdout, compatVersion)
		return 0
	case c.ownVersion:
		fmt.Fprintln(stdout, ownVersion())
		return 0
	}
	d := &daemon{
		progname: progname,
		args:     argv[1:],
		cli:      c,
		cwd:      cwd,
		stderr:   stderr,
		child:    child,
		argv:     argv,
		exe:      executable(),
		taken:    taken,
	}
	cfg, err := d.realize()
	if err != nil && taken != nil {
		err = taken.Fallback("the configuration cannot be read: " + err.Error())
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 2
	}
	if err != nil {
		return reportStartupError(child, progname, stderr, err)
	}
	if taken != nil {
		d.daemonized = taken.State.Daemonized
	}
	if !cfg.Supervisord.Nodaemon && child == nil && !d.daemonized {
		// The parent half of daemon mode: start the detached copy and
		// relay how its startup went.
		return spawnDaemon(argv, stderr)
	}
	if _, err := startPprof(); err != nil {
		return reportStartupError(child, progname, stderr, err)
	}
	code, err := d.serve(cfg)
	if err != nil {
		return reportStartupError(child, progname, stderr, err)
	}
	return code
}

// reportStartupError prints a startup failure as Python's usage() does
// ("Error: ..." and "For help, use <argv0> -h", exit 2), or hands it to the
// waiting parent when we are the daemonized copy.
func reportStartupError(child *daemonChild, progname string, stderr io.Writer, err error) int {
	var ue *usageError
	msg := err.Error()
	text := ""
	if errors.As(err, &ue) {
		text = fmt.Sprintf("Error: %s\nFor help, use %s -h\n", ue.msg, progname)
	} else {
		text = fmt.Sprintf("Error: %s\n", msg)
	}
	if child != nil && child.report(2, text) {
		return 2
	}
	fmt.Fprint(stderr, text)
	return 2
}

// executable is the binary this image runs from, resolved at start (a
// package upgrade later replaces the file at that path: that is the binary
// gosupervisor.upgrade executes).
func executable() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		return r
	}
	return exe
}
