package main

import (
	"errors"
	"strings"
	"syscall"

	"github.com/gosupervisor/gosupervisor/internal/faults"
)

// confirm is how do_shutdown and do_reload begin: no arguments, and in the
// shell a y/N question (eofLine is the line Python's traceback names when
// stdin ends there). It reports whether to go on.
func confirm(c *controller, cmd, arg, question string, eofLine int) (bool, error) {
	if noArgsAllowed(c, cmd, arg) {
		return false, nil
	}
	if !c.opts.interactive {
		return true, nil
	}
	yes, err := c.rawInput(question)
	if errors.Is(err, errInterrupted) {
		return false, err
	}
	if err != nil {
		return false, inputEOF(eofLine)
	}
	return strings.HasPrefix(strings.ToLower(yes), "y"), nil
}

func doShutdown(c *controller, arg string) (bool, error) {
	if ok, err := confirm(c, "shutdown", arg, "Really shut the remote supervisord process down y/N? ", 987); !ok {
		return false, err
	}
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	if _, err := s.call("supervisor.shutdown"); err != nil {
		if f, ok := asFault(err); ok {
			if f.Code == faults.ShutdownState {
				c.output("ERROR: already shutting down")
				return false, nil
			}
			c.exitStatus = exitGeneric
			return false, err
		}
		if en, ok := errnoOf(err); ok {
			c.exitStatus = exitGeneric
			switch en {
			case syscall.ECONNREFUSED:
				c.output("ERROR: " + c.opts.serverURL + " refused connection (already shut down?)")
				return false, nil
			case syscall.ENOENT:
				c.output("ERROR: " + c.opts.serverURL + " no such file (already shut down?)")
				return false, nil
			}
		}
		return false, err
	}
	c.output("Shut down")
	return false, nil
}

func doReload(c *controller, arg string) (bool, error) {
	if ok, err := confirm(c, "reload", arg, "Really restart the remote supervisord process y/N? ", 1027); !ok {
		return false, err
	}
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	if _, err := s.call("supervisor.restart"); err != nil {
		if f, ok := asFault(err); ok {
			c.exitStatus = exitGeneric
			if f.Code == faults.ShutdownState {
				c.output("ERROR: already shutting down")
				return false, nil
			}
		}
		return false, err
	}
	c.output("Restarted supervisord")
	return false, nil
}

func doOpen(c *controller, arg string) (bool, error) {
	u := strings.TrimSpace(arg)
	scheme, _, _ := urlParts(u)
	if scheme != "unix" && scheme != "http" && scheme != "https" {
		c.output("ERROR: url must be http:// or unix://")
		c.exitStatus = exitGeneric
		return false, nil
	}
	c.opts.serverURL = u
	old := c.exitStatus
	_, err := doStatus(c, "")
	c.exitStatus = old
	return false, err
}

func doVersion(c *controller, arg string) (bool, error) {
	if noArgsAllowed(c, "version", arg) {
		return false, nil
	}
	s, err := c.upSupervisor()
	if s == nil {
		return false, err
	}
	defer s.close()
	var v string
	if err := s.callInto(&v, "supervisor.getSupervisorVersion"); err != nil {
		return false, err
	}
	c.output(v)
	return false, nil
}
