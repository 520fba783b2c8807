package main

import (
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/pyint"
	"github.com/gosupervisor/gosupervisor/internal/xmlrpcvalue"
)

// pyIntArg is Python's int() of a tail/maintail modifier.
func pyIntArg(s string) (int, bool) {
	n, err := pyint.Parse(s, 10)
	return n, err == nil
}

func doTail(c *controller, arg string) (bool, error) {
	up, err := c.upcheck()
	if err != nil || !up {
		return false, err
	}
	args := strings.Fields(arg)
	if len(args) < 1 {
		c.output("Error: too few arguments")
		c.exitStatus = exitGeneric
		helpTail(c)
		return false, nil
	}
	if len(args) > 3 {
		c.output("Error: too many arguments")
		c.exitStatus = exitGeneric
		helpTail(c)
		return false, nil
	}
	modifier := ""
	if strings.HasPrefix(args[0], "-") {
		modifier, args = args[0], args[1:]
	}
	var name, channel string
	switch {
	case len(args) == 1:
		name, channel = args[0], "stdout"
	case len(args) > 0:
		name, channel = args[0], strings.ToLower(args[len(args)-1])
		if channel != "stderr" && channel != "stdout" {
			c.output("Error: bad channel " + pyRepr(channel))
			c.exitStatus = exitGeneric
			return false, nil
		}
	default:
		c.output("Error: tail requires process name")
		c.exitStatus = exitGeneric
		return false, nil
	}
	bytes, follow := 1600, false
	if modifier != "" {
		what := modifier[1:]
		if what == "f" {
			follow = true
		} else {
			n, ok := pyIntArg(what)
			if !ok {
				c.output("Error: bad argument " + modifier)
				c.exitStatus = exitGeneric
				return false, nil
			}
			bytes = n
		}
	}
	if follow {
		return false, c.tailf("/logtail/" + name + "/" + channel)
	}
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	method := "supervisor.readProcessStdoutLog"
	if channel != "stdout" {
		method = "supervisor.readProcessStderrLog"
	}
	out, err := s.call(method, name, -bytes, 0)
	if err != nil {
		if f, ok := asFault(err); ok {
			c.exitStatus = exitGeneric
			switch f.Code {
			case faults.NoFile:
				c.output(name + ": ERROR (no log file)")
				return false, nil
			case faults.Failed:
				c.output(name + ": ERROR (unknown error reading log)")
				return false, nil
			case faults.BadName:
				c.output(name + ": ERROR (no such process name)")
				return false, nil
			}
		}
		return false, err
	}
	c.output(xmlrpcvalue.Str(out))
	return false, nil
}

func doMaintail(c *controller, arg string) (bool, error) {
	up, err := c.upcheck()
	if err != nil || !up {
		return false, err
	}
	args := strings.Fields(arg)
	bytes := 1600
	switch {
	case len(args) > 1:
		c.output("Error: too many arguments")
		c.exitStatus = exitGeneric
		helpMaintail(c)
		return false, nil
	case len(args) == 1:
		if !strings.HasPrefix(args[0], "-") {
			c.output("Error: bad argument " + args[0])
			c.exitStatus = exitGeneric
			return false, nil
		}
		what := args[0][1:]
		if what == "f" {
			return false, c.tailf("/mainlogtail")
		}
		n, ok := pyIntArg(what)
		if !ok {
			c.output("Error: bad argument " + args[0])
			c.exitStatus = exitGeneric
			return false, nil
		}
		bytes = n
	}
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	out, err := s.call("supervisor.readLog", -bytes, 0)
	if err != nil {
		if f, ok := asFault(err); ok {
			c.exitStatus = exitGeneric
			switch f.Code {
			case faults.NoFile:
				c.output("supervisord: ERROR (no log file)")
				return false, nil
			case faults.Failed:
				c.output("supervisord: ERROR (unknown error reading log)")
				return false, nil
			}
		}
		return false, err
	}
	c.output(xmlrpcvalue.Str(out))
	return false, nil
}
