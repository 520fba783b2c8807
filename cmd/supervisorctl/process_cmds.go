package main

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/internal/states"
	"github.com/gosupervisor/gosupervisor/internal/xmlrpcvalue"
)

// showStatuses is DefaultControllerPlugin._show_statuses. The table goes
// out in one write (1,000 lines were 1,000 write calls).
func showStatuses(c *controller, infos []processInfo) {
	names := make([]string, len(infos))
	maxlen := 30
	size := 0
	for i, info := range infos {
		names[i] = info.namespec()
		if l := utf8.RuneCountInString(names[i]); l > maxlen {
			maxlen = l
		}
		size += len(names[i]) + len(info.StateName) + len(info.Description) + 16
	}
	var b strings.Builder
	b.Grow(size + len(infos)*maxlen)
	for i, info := range infos {
		writePadded(&b, names[i], maxlen+3)
		writePadded(&b, info.StateName, 10)
		b.WriteString(info.Description)
		b.WriteByte('\n')
	}
	io.WriteString(c.out, b.String())
}

func doStatus(c *controller, arg string) (bool, error) {
	s, err := c.statusSupervisor()
	if s == nil {
		return false, err
	}
	defer s.close()
	var allInfos []processInfo
	if err := s.callInto(&allInfos, "supervisor.getAllProcessInfo"); err != nil {
		return false, err
	}
	names, asJSON := takeFlag(strings.Fields(arg), "--json")
	matching := matchNames(c, names, allInfos, func(p processInfo) (string, string) { return p.Group, p.Name },
		statusExitUnknown, asJSON)
	for _, info := range matching {
		if states.IsStopped(int(info.State)) {
			c.exitStatus = statusExitNotRunning
		}
	}
	if asJSON {
		if matching == nil {
			matching = []processInfo{}
		}
		return false, c.outputJSON(matching)
	}
	showStatuses(c, matching)
	return false, nil
}

func doPid(c *controller, arg string) (bool, error) {
	s, err := c.upSupervisor()
	if s == nil {
		return false, err
	}
	defer s.close()
	names := strings.Fields(arg)
	switch {
	case len(names) == 0:
		pid, err := s.call("supervisor.getPID")
		if err != nil {
			return false, err
		}
		c.output(xmlrpcvalue.Str(pid))
	case containsAll(names):
		var all []processInfo
		if err := s.callInto(&all, "supervisor.getAllProcessInfo"); err != nil {
			return false, err
		}
		for _, info := range all {
			c.output(strconv.FormatInt(info.PID, 10))
		}
	default:
		for _, name := range names {
			var info processInfo
			if err := s.callInto(&info, "supervisor.getProcessInfo", name); err != nil {
				c.exitStatus = exitGeneric
				if f, ok := asFault(err); ok && f.Code == faults.BadName {
					c.output("No such process " + name)
					continue
				}
				return false, err
			}
			c.output(strconv.FormatInt(info.PID, 10))
			if info.PID == 0 {
				c.exitStatus = exitNotRunning
			}
		}
	}
	return false, nil
}

func startResult(r result) (string, error) {
	name := namespec.Make(r.Group, r.Name)
	switch r.Status {
	case faults.BadName:
		return name + ": ERROR (no such process)", nil
	case faults.NoFile:
		return name + ": ERROR (no such file)", nil
	case faults.NotExecutable:
		return name + ": ERROR (file is not executable)", nil
	case faults.AlreadyStarted:
		return name + ": ERROR (already started)", nil
	case faults.SpawnError:
		return name + ": ERROR (spawn error)", nil
	case faults.AbnormalTermination:
		return name + ": ERROR (abnormal termination)", nil
	case faults.Success:
		return name + ": started", nil
	}
	return "", &unknownResultError{code: r.Status, name: name, line: 761}
}

func signalResult(r result, success string) (string, error) {
	name := namespec.Make(r.Group, r.Name)
	switch r.Status {
	case faults.BadName:
		return name + ": ERROR (no such process)", nil
	case faults.BadSignal:
		return name + ": ERROR (bad signal name)", nil
	case faults.NotRunning:
		return name + ": ERROR (not running)", nil
	case faults.Success:
		return name + ": " + success, nil
	case faults.Failed:
		return r.Description, nil
	}
	return "", &unknownResultError{code: r.Status, name: name, line: 835}
}

func clearResult(r result) (string, error) {
	name := namespec.Make(r.Group, r.Name)
	switch r.Status {
	case faults.BadName:
		return name + ": ERROR (no such process)", nil
	case faults.Failed:
		return name + ": ERROR (failed)", nil
	case faults.Success:
		return name + ": cleared", nil
	}
	return "", &unknownResultError{code: r.Status, name: name, line: 1260}
}

// printResults prints a multi-process result list with format and sets the
// exit status, ignoring the fault code ignored.
func (c *controller) printResults(list []result, format func(result) (string, error), ignored int) error {
	for _, r := range list {
		line, err := format(r)
		if err != nil {
			return err
		}
		c.output(line)
		c.setExitStatusFromFault(r.Status, ignored)
	}
	return nil
}

// callResults calls a method that answers a result list.
func callResults(s *rpcClient, method string, args ...any) ([]result, error) {
	var l []result
	err := s.callInto(&l, method, args...)
	return l, err
}

// startStop is where supervisorctl's start and stop differ (Python's
// do_start and do_stop are otherwise the same code).
type startStop struct {
	verb         string // "start", "stop": the command and the RPC method prefix
	done         string // "started", "stopped"
	noNameExit   int    // exit status when no name is given
	badGroupExit int    // exit status after "no such group"
	ignored      int    // the fault that is not an error (already started, not running)
	result       func(result) (string, error)
}

var (
	startCmd = startStop{verb: "start", done: "started", noNameExit: exitInvalidArgs, badGroupExit: exitInvalidArgs,
		ignored: faults.AlreadyStarted, result: startResult}
	stopCmd = startStop{verb: "stop", done: "stopped", noNameExit: exitGeneric, badGroupExit: exitGeneric,
		ignored: faults.NotRunning, result: stopResult}
)

func doStart(c *controller, arg string) (bool, error) { return doStartStop(c, arg, startCmd) }

func doStop(c *controller, arg string) (bool, error) { return doStartStop(c, arg, stopCmd) }

func doStartStop(c *controller, arg string, k startStop) (bool, error) {
	s, err := c.upSupervisor()
	if s == nil {
		return false, err
	}
	defer s.close()
	names := strings.Fields(arg)
	if len(names) == 0 {
		c.output("Error: " + k.verb + " requires a process name")
		c.exitStatus = k.noNameExit
		showHelp(c, k.verb)
		return false, nil
	}
	if containsAll(names) {
		res, err := callResults(s, "supervisor."+k.verb+"AllProcesses")
		if err != nil {
			return false, err
		}
		return false, c.printResults(res, k.result, k.ignored)
	}
	for _, name := range names {
		group, process := namespec.Split(name)
		if process == "" {
			res, err := callResults(s, "supervisor."+k.verb+"ProcessGroup", group)
			if err != nil {
				if f, ok := asFault(err); ok && f.Code == faults.BadName {
					c.output(group + ": ERROR (no such group)")
					c.exitStatus = k.badGroupExit
					continue
				}
				c.exitStatus = exitGeneric
				return false, err
			}
			if err := c.printResults(res, k.result, k.ignored); err != nil {
				return false, err
			}
			continue
		}
		if _, err := s.call("supervisor."+k.verb+"Process", name); err != nil {
			f, ok := asFault(err)
			if !ok {
				return false, err
			}
			line, err := k.result(result{Name: process, Group: group, Status: f.Code, Description: f.String})
			if err != nil {
				return false, err
			}
			c.output(line)
			c.setExitStatusFromFault(f.Code, k.ignored)
			continue
		}
		c.output(namespec.Make(group, process) + ": " + k.done)
	}
	return false, nil
}

func stopResult(r result) (string, error) { return signalResult(r, "stopped") }

func signalledResult(r result) (string, error) { return signalResult(r, "signalled") }

func doSignal(c *controller, arg string) (bool, error) {
	up, err := c.upcheck()
	if err != nil || !up {
		return false, err
	}
	args := strings.Fields(arg)
	if len(args) < 2 {
		c.output("Error: signal requires a signal name and a process name")
		helpSignal(c)
		c.exitStatus = exitGeneric
		return false, nil
	}
	sig, names := args[0], args[1:]
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	if containsAll(names) {
		res, err := callResults(s, "supervisor.signalAllProcesses", sig)
		if err != nil {
			return false, err
		}
		return false, c.printResults(res, signalledResult, -1)
	}
	for _, name := range names {
		group, process := namespec.Split(name)
		if process == "" {
			res, err := callResults(s, "supervisor.signalProcessGroup", group, sig)
			if err != nil {
				if f, ok := asFault(err); ok && f.Code == faults.BadName {
					c.output(group + ": ERROR (no such group)")
					c.exitStatus = exitGeneric
					continue
				}
				return false, err
			}
			if err := c.printResults(res, signalledResult, -1); err != nil {
				return false, err
			}
			continue
		}
		if _, err := s.call("supervisor.signalProcess", name, sig); err != nil {
			f, ok := asFault(err)
			if !ok {
				return false, err
			}
			line, err := signalledResult(result{Name: process, Group: group, Status: f.Code, Description: f.String})
			if err != nil {
				return false, err
			}
			c.output(line)
			c.setExitStatusFromFault(f.Code, -1)
			continue
		}
		c.output(namespec.Make(group, process) + ": signalled")
	}
	return false, nil
}

func doRestart(c *controller, arg string) (bool, error) {
	up, err := c.upcheck()
	if err != nil || !up {
		return false, err
	}
	if len(strings.Fields(arg)) == 0 {
		c.output("Error: restart requires a process name")
		c.exitStatus = exitGeneric
		helpRestart(c)
		return false, nil
	}
	if _, err := doStop(c, arg); err != nil {
		return false, err
	}
	return doStart(c, arg)
}

func doClear(c *controller, arg string) (bool, error) {
	up, err := c.upcheck()
	if err != nil || !up {
		return false, err
	}
	names := strings.Fields(arg)
	if len(names) == 0 {
		c.output("Error: clear requires a process name")
		c.exitStatus = exitGeneric
		helpClear(c)
		return false, nil
	}
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	if containsAll(names) {
		res, err := callResults(s, "supervisor.clearAllProcessLogs")
		if err != nil {
			return false, err
		}
		return false, c.printResults(res, clearResult, -1)
	}
	for _, name := range names {
		group, process := namespec.Split(name)
		if process == "" {
			process = "None" // Python's make_namespec(group, None) is "group:None"
		}
		if _, err := s.call("supervisor.clearProcessLogs", name); err != nil {
			f, ok := asFault(err)
			if !ok {
				return false, err
			}
			line, err := clearResult(result{Name: process, Group: group, Status: f.Code, Description: f.String})
			if err != nil {
				return false, err
			}
			c.output(line)
			c.setExitStatusFromFault(f.Code, -1)
			continue
		}
		c.output(namespec.Make(group, process) + ": cleared")
	}
	return false, nil
}
