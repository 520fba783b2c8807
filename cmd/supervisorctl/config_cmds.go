package main

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
)

// formatChanges is DefaultControllerPlugin._formatChanges.
func formatChanges(c *controller, changes configChanges) {
	added, changed, removed := changes.lists()
	m := map[string]string{}
	for _, l := range []struct {
		names []string
		kind  string
	}{{added, "available"}, {changed, "changed"}, {removed, "disappeared"}} {
		for _, n := range l.names {
			m[n] = l.kind
		}
	}
	if len(m) == 0 {
		c.output("No config updates to processes")
		return
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c.output(n + ": " + m[n])
	}
}

func doAvail(c *controller, arg string) (bool, error) {
	if noArgsAllowed(c, "avail", arg) {
		return false, nil
	}
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	var infos []configInfo
	if err := s.callInto(&infos, "supervisor.getAllConfigInfo"); err != nil {
		c.exitStatus = exitGeneric
		if f, ok := asFault(err); ok && f.Code == faults.ShutdownState {
			c.output("ERROR: supervisor shutting down")
			return false, nil
		}
		return false, err
	}
	for _, ci := range infos {
		inuse, auto := "avail", "manual"
		if ci.InUse {
			inuse = "in use"
		}
		if ci.Autostart {
			auto = "auto"
		}
		name := namespec.Make(ci.Group, ci.Name)
		prio := strconv.FormatInt(ci.GroupPrio, 10) + ":" + strconv.FormatInt(ci.ProcessPrio, 10)
		c.output(padRight(name, 32) + " " + padRight(inuse, 9) + " " + padRight(auto, 9) + " " + prio)
	}
	return false, nil
}

func doReread(c *controller, arg string) (bool, error) {
	if noArgsAllowed(c, "reread", arg) {
		return false, nil
	}
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	var res configChanges
	if err := s.callInto(&res, "supervisor.reloadConfig"); err != nil {
		c.exitStatus = exitGeneric
		if f, ok := asFault(err); ok {
			switch f.Code {
			case faults.ShutdownState:
				c.output("ERROR: supervisor shutting down")
				return false, nil
			case faults.CantReread:
				c.output("ERROR: " + f.String)
				return false, nil
			}
		}
		return false, err
	}
	formatChanges(c, res)
	return false, nil
}

func doAdd(c *controller, arg string) (bool, error) {
	return eachGroup(c, arg, "supervisor.addProcessGroup", "added process group", map[int]faultLine{
		faults.ShutdownState: {text: "ERROR: shutting down", fails: true},
		faults.AlreadyAdded:  {text: "ERROR: process group already active"},
		faults.BadName:       {text: "ERROR: no such process/group: ", withName: true, fails: true},
	})
}

func doRemove(c *controller, arg string) (bool, error) {
	return eachGroup(c, arg, "supervisor.removeProcessGroup", "removed process group", map[int]faultLine{
		faults.StillRunning: {text: "ERROR: process/group still running: ", withName: true, fails: true},
		faults.BadName:      {text: "ERROR: no such process/group: ", withName: true, fails: true},
	})
}

// faultLine is what do_add or do_remove prints for one fault: text, then
// the name when withName; fails sets the generic exit status.
type faultLine struct {
	text            string
	withName, fails bool
}

// eachGroup is do_add's and do_remove's loop: method for each name in arg,
// "name: done" when it succeeds, the fault's line when lines has one; any
// other error ends the command with the generic exit status.
func eachGroup(c *controller, arg, method, done string, lines map[int]faultLine) (bool, error) {
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	for _, name := range strings.Fields(arg) {
		if _, err := s.call(method, name); err != nil {
			f, ok := asFault(err)
			line, known := faultLine{}, false
			if ok {
				line, known = lines[f.Code]
			}
			if !known {
				c.exitStatus = exitGeneric
				return false, err
			}
			if line.withName {
				line.text += name
			}
			c.output(line.text)
			if line.fails {
				c.exitStatus = exitGeneric
			}
			continue
		}
		c.output(name + ": " + done)
	}
	return false, nil
}

func doUpdate(c *controller, arg string) (bool, error) {
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	var res configChanges
	if err := s.callInto(&res, "supervisor.reloadConfig"); err != nil {
		c.exitStatus = exitGeneric
		if f, ok := asFault(err); ok && f.Code == faults.ShutdownState {
			c.output("ERROR: already shutting down")
			return false, nil
		}
		return false, err
	}
	added, changed, removed := res.lists()
	// Python keeps the names in a set; ours keeps the order given.
	var valid []string
	validSet := map[string]bool{}
	for _, n := range strings.Fields(arg) {
		if !validSet[n] {
			validSet[n] = true
			valid = append(valid, n)
		}
	}
	if validSet["all"] {
		valid, validSet = nil, map[string]bool{}
	}
	if len(valid) > 0 {
		groups := map[string]bool{}
		var infos []processInfo
		if err := s.callInto(&infos, "supervisor.getAllProcessInfo"); err != nil {
			return false, err
		}
		for _, info := range infos {
			groups[info.Group] = true
		}
		for _, g := range added {
			groups[g] = true
		}
		for _, g := range valid {
			if !groups[g] {
				c.output("ERROR: no such group: " + g)
				c.exitStatus = exitGeneric
			}
		}
	}
	skip := func(g string) bool { return len(valid) > 0 && !validSet[g] }
	// call calls each method with the group name, as Python does without
	// catching a fault
	call := func(g string, methods ...string) error {
		for _, m := range methods {
			if _, err := s.call("supervisor."+m, g); err != nil {
				return err
			}
		}
		return nil
	}
	for _, g := range removed {
		if skip(g) {
			continue
		}
		results, err := callResults(s, "supervisor.stopProcessGroup", g)
		if err != nil {
			return false, err
		}
		c.output(g + ": stopped")
		if slices.ContainsFunc(results, func(r result) bool { return r.Status == faults.Failed }) {
			c.output(g + ": has problems; not removing")
			c.exitStatus = exitGeneric
			continue
		}
		if err := call(g, "removeProcessGroup"); err != nil {
			return false, err
		}
		c.output(g + ": removed process group")
	}
	for _, g := range changed {
		if skip(g) {
			continue
		}
		if err := call(g, "stopProcessGroup"); err != nil {
			return false, err
		}
		c.output(g + ": stopped")
		if err := call(g, "removeProcessGroup", "addProcessGroup"); err != nil {
			return false, err
		}
		c.output(g + ": updated process group")
	}
	for _, g := range added {
		if !skip(g) {
			if err := call(g, "addProcessGroup"); err != nil {
				return false, err
			}
			c.output(g + ": added process group")
		}
	}
	return false, nil
}
