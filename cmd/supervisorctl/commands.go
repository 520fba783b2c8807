package main

// The command table and what the command families share: namespecs,
// result lists and their exit statuses. The commands themselves live in
// process_cmds.go (status, pid, start, stop, restart, signal, clear),
// logs_cmds.go (tail, maintail), config_cmds.go (avail, reread, add,
// remove, update), daemon_cmds.go (shutdown, reload, open, version) and
// stream.go (fg, tail -f).

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// lookupCommand maps a command word to its implementation (Controller's
// do_help/do_EOF and DefaultControllerPlugin's do_* methods).
func lookupCommand(name string) commandFunc {
	switch name {
	case "help":
		return doHelp
	case "EOF":
		return doEOF
	case "quit", "exit":
		return doEOF
	case "status":
		return doStatus
	case "start":
		return doStart
	case "stop":
		return doStop
	case "restart":
		return doRestart
	case "signal":
		return doSignal
	case "pid":
		return doPid
	case "tail":
		return doTail
	case "maintail":
		return doMaintail
	case "fg":
		return doFg
	case "clear":
		return doClear
	case "avail":
		return doAvail
	case "reread":
		return doReread
	case "add":
		return doAdd
	case "remove":
		return doRemove
	case "update":
		return doUpdate
	case "reload":
		return doReload
	case "shutdown":
		return doShutdown
	case "open":
		return doOpen
	case "version":
		return doVersion
	case "health":
		return doHealth
	case "rotate":
		return doRotate
	case "upgrade":
		return doUpgrade
	case "top":
		return doTop
	}
	return nil
}

func containsAll(names []string) bool {
	for _, n := range names {
		if n == "all" {
			return true
		}
	}
	return false
}

func asFault(err error) (*rpcFault, bool) {
	var f *rpcFault
	ok := errors.As(err, &f)
	return f, ok
}

func doEOF(c *controller, _ string) (bool, error) {
	if c.editorEOF {
		// the line editor ended the line when it read Ctrl-D
		c.editorEOF = false
		return true, nil
	}
	c.output("")
	return true, nil
}

// padRight is Python's %-Ns: pads to n characters (code points).
func padRight(s string, n int) string {
	if l := utf8.RuneCountInString(s); l < n {
		return s + strings.Repeat(" ", n-l)
	}
	return s
}

// writePadded writes padRight(s, n) to b.
func writePadded(b *strings.Builder, s string, n int) {
	b.WriteString(s)
	for l := utf8.RuneCountInString(s); l < n; l++ {
		b.WriteByte(' ')
	}
}
