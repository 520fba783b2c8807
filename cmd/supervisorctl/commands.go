package main

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"syscall"
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
	}
	return nil
}

// makeNamespec and splitNamespec are supervisor.options' helpers.
func makeNamespec(group, name string) string {
	if group == name {
		return name
	}
	return group + ":" + name
}

// splitNamespec returns the group and process names; hasProcess is false
// for "group:" and "group:*" (Python's None).
func splitNamespec(spec string) (group, process string, hasProcess bool) {
	if g, p, ok := strings.Cut(spec, ":"); ok {
		if p == "" || p == "*" {
			return g, "", false
		}
		return g, p, true
	}
	return spec, spec, true
}

func field(m any, key string) any {
	if mm, ok := m.(map[string]any); ok {
		return mm[key]
	}
	return nil
}

func fieldStr(m any, key string) string { return pyStr(field(m, key)) }

func fieldInt(m any, key string) int {
	switch v := field(m, key).(type) {
	case int:
		return v
	case bool:
		if v {
			return 1
		}
	}
	return 0
}

func fieldTrue(m any, key string) bool {
	switch v := field(m, key).(type) {
	case bool:
		return v
	case int:
		return v != 0
	case string:
		return v != ""
	}
	return false
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
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

// result is one entry of a multi-process result list, or a fault turned
// into one.
type result struct {
	name, group, description string
	status                   int
}

func toResult(v any) result {
	return result{name: fieldStr(v, "name"), group: fieldStr(v, "group"),
		description: fieldStr(v, "description"), status: fieldInt(v, "status")}
}

func doEOF(c *controller, _ string) (bool, error) {
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

func showStatuses(c *controller, infos []any) {
	maxlen := 30
	specs := make([]string, len(infos))
	for i, info := range infos {
		specs[i] = makeNamespec(fieldStr(info, "group"), fieldStr(info, "name"))
		if l := utf8.RuneCountInString(specs[i]); l > maxlen {
			maxlen = l
		}
	}
	for i, info := range infos {
		c.output(padRight(specs[i], maxlen+3) + padRight(fieldStr(info, "statename"), 10) + fieldStr(info, "description"))
	}
}

// stoppedStates is supervisor.states.STOPPED_STATES.
func isStoppedState(state int) bool {
	switch state {
	case 0, 100, 200, 1000: // STOPPED, EXITED, FATAL, UNKNOWN
		return true
	}
	return false
}

func doStatus(c *controller, arg string) (bool, error) {
	up, err := c.upcheck()
	if err != nil {
		return false, err
	}
	if !up {
		c.exitStatus = statusExitUnknown
		return false, nil
	}
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	all, err := s.call("supervisor.getAllProcessInfo")
	if err != nil {
		return false, err
	}
	allInfos := asList(all)
	names := strings.Fields(arg)
	var matching []any
	if len(names) == 0 || containsAll(names) {
		matching = allInfos
	} else {
		for _, name := range names {
			bad := true
			group, process, hasProcess := splitNamespec(name)
			for _, info := range allInfos {
				matched := fieldStr(info, "group") == group
				if hasProcess {
					matched = matched && fieldStr(info, "name") == process
				}
				if matched {
					bad = false
					matching = append(matching, info)
				}
			}
			if bad {
				if !hasProcess {
					c.output(group + ": ERROR (no such group)")
				} else {
					c.output(name + ": ERROR (no such process)")
				}
				c.exitStatus = statusExitUnknown
			}
		}
	}
	showStatuses(c, matching)
	for _, info := range matching {
		if isStoppedState(fieldInt(info, "state")) {
			c.exitStatus = statusExitNotRunning
		}
	}
	return false, nil
}

func doPid(c *controller, arg string) (bool, error) {
	up, err := c.upcheck()
	if err != nil || !up {
		return false, err
	}
	s, err := c.supervisor()
	if err != nil {
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
		c.output(pyStr(pid))
	case containsAll(names):
		all, err := s.call("supervisor.getAllProcessInfo")
		if err != nil {
			return false, err
		}
		for _, info := range asList(all) {
			c.output(pyStr(field(info, "pid")))
		}
	default:
		for _, name := range names {
			info, err := s.call("supervisor.getProcessInfo", name)
			if err != nil {
				c.exitStatus = exitGeneric
				if f, ok := asFault(err); ok && f.Code == faultBadName {
					c.output("No such process " + name)
					continue
				}
				return false, err
			}
			c.output(pyStr(field(info, "pid")))
			if fieldInt(info, "pid") == 0 {
				c.exitStatus = exitNotRunning
			}
		}
	}
	return false, nil
}

func startResult(r result) (string, error) {
	name := makeNamespec(r.group, r.name)
	switch r.status {
	case faultBadName:
		return name + ": ERROR (no such process)", nil
	case faultNoFile:
		return name + ": ERROR (no such file)", nil
	case faultNotExecutable:
		return name + ": ERROR (file is not executable)", nil
	case faultAlreadyStarted:
		return name + ": ERROR (already started)", nil
	case faultSpawnError:
		return name + ": ERROR (spawn error)", nil
	case faultAbnormalTermination:
		return name + ": ERROR (abnormal termination)", nil
	case faultSuccess:
		return name + ": started", nil
	}
	return "", &unknownResultError{code: r.status, name: name, line: 761}
}

func signalResult(r result, success string) (string, error) {
	name := makeNamespec(r.group, r.name)
	switch r.status {
	case faultBadName:
		return name + ": ERROR (no such process)", nil
	case faultBadSignal:
		return name + ": ERROR (bad signal name)", nil
	case faultNotRunning:
		return name + ": ERROR (not running)", nil
	case faultSuccess:
		return name + ": " + success, nil
	case faultFailed:
		return r.description, nil
	}
	return "", &unknownResultError{code: r.status, name: name, line: 835}
}

func clearResult(r result) (string, error) {
	name := makeNamespec(r.group, r.name)
	switch r.status {
	case faultBadName:
		return name + ": ERROR (no such process)", nil
	case faultFailed:
		return name + ": ERROR (failed)", nil
	case faultSuccess:
		return name + ": cleared", nil
	}
	return "", &unknownResultError{code: r.status, name: name, line: 1260}
}

// printResults prints a multi-process result list with format and sets the
// exit status, ignoring the fault code ignored.
func (c *controller) printResults(list any, format func(result) (string, error), ignored int) error {
	for _, v := range asList(list) {
		r := toResult(v)
		line, err := format(r)
		if err != nil {
			return err
		}
		c.output(line)
		c.setExitStatusFromFault(r.status, ignored)
	}
	return nil
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
		ignored: faultAlreadyStarted, result: startResult}
	stopCmd = startStop{verb: "stop", done: "stopped", noNameExit: exitGeneric, badGroupExit: exitGeneric,
		ignored: faultNotRunning, result: stopResult}
)

func doStart(c *controller, arg string) (bool, error) { return doStartStop(c, arg, startCmd) }

func doStop(c *controller, arg string) (bool, error) { return doStartStop(c, arg, stopCmd) }

func doStartStop(c *controller, arg string, k startStop) (bool, error) {
	up, err := c.upcheck()
	if err != nil || !up {
		return false, err
	}
	names := strings.Fields(arg)
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	if len(names) == 0 {
		c.output("Error: " + k.verb + " requires a process name")
		c.exitStatus = k.noNameExit
		showHelp(c, k.verb)
		return false, nil
	}
	if containsAll(names) {
		res, err := s.call("supervisor." + k.verb + "AllProcesses")
		if err != nil {
			return false, err
		}
		return false, c.printResults(res, k.result, k.ignored)
	}
	for _, name := range names {
		group, process, hasProcess := splitNamespec(name)
		if !hasProcess {
			res, err := s.call("supervisor."+k.verb+"ProcessGroup", group)
			if err != nil {
				if f, ok := asFault(err); ok && f.Code == faultBadName {
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
			line, err := k.result(result{name: process, group: group, status: f.Code, description: f.String})
			if err != nil {
				return false, err
			}
			c.output(line)
			c.setExitStatusFromFault(f.Code, k.ignored)
			continue
		}
		c.output(makeNamespec(group, process) + ": " + k.done)
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
		res, err := s.call("supervisor.signalAllProcesses", sig)
		if err != nil {
			return false, err
		}
		return false, c.printResults(res, signalledResult, -1)
	}
	for _, name := range names {
		group, process, hasProcess := splitNamespec(name)
		if !hasProcess {
			res, err := s.call("supervisor.signalProcessGroup", group, sig)
			if err != nil {
				if f, ok := asFault(err); ok && f.Code == faultBadName {
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
			line, err := signalledResult(result{name: process, group: group, status: f.Code, description: f.String})
			if err != nil {
				return false, err
			}
			c.output(line)
			c.setExitStatusFromFault(f.Code, -1)
			continue
		}
		c.output(makeNamespec(group, process) + ": signalled")
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
		res, err := s.call("supervisor.clearAllProcessLogs")
		if err != nil {
			return false, err
		}
		return false, c.printResults(res, clearResult, -1)
	}
	for _, name := range names {
		group, process, _ := splitNamespec(name)
		if _, err := s.call("supervisor.clearProcessLogs", name); err != nil {
			f, ok := asFault(err)
			if !ok {
				return false, err
			}
			line, err := clearResult(result{name: process, group: group, status: f.Code, description: f.String})
			if err != nil {
				return false, err
			}
			c.output(line)
			c.setExitStatusFromFault(f.Code, -1)
			continue
		}
		c.output(makeNamespec(group, process) + ": cleared")
	}
	return false, nil
}

// confirm is how do_shutdown and do_reload begin: no arguments, and in the
// shell a y/N question (eofLine is the line Python's traceback names when
// stdin ends there). It reports whether to go on.
func confirm(c *controller, cmd, arg, question string, eofLine int) (bool, error) {
	if arg != "" {
		c.output("Error: " + cmd + " accepts no arguments")
		c.exitStatus = exitGeneric
		showHelp(c, cmd)
		return false, nil
	}
	if !c.opts.interactive {
		return true, nil
	}
	yes, err := c.rawInput(question)
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
			if f.Code == faultShutdownState {
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
			if f.Code == faultShutdownState {
				c.output("ERROR: already shutting down")
				return false, nil
			}
		}
		return false, err
	}
	c.output("Restarted supervisord")
	return false, nil
}

func formatChanges(c *controller, changes any) {
	lists := asList(changes)
	kinds := []string{"available", "changed", "disappeared"}
	m := map[string]string{}
	for i, l := range lists {
		if i >= len(kinds) {
			break
		}
		for _, n := range asList(l) {
			m[pyStr(n)] = kinds[i]
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
	if arg != "" {
		c.output("Error: avail accepts no arguments")
		c.exitStatus = exitGeneric
		helpAvail(c)
		return false, nil
	}
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	infos, err := s.call("supervisor.getAllConfigInfo")
	if err != nil {
		c.exitStatus = exitGeneric
		if f, ok := asFault(err); ok && f.Code == faultShutdownState {
			c.output("ERROR: supervisor shutting down")
			return false, nil
		}
		return false, err
	}
	for _, ci := range asList(infos) {
		inuse, auto := "avail", "manual"
		if fieldTrue(ci, "inuse") {
			inuse = "in use"
		}
		if fieldTrue(ci, "autostart") {
			auto = "auto"
		}
		name := makeNamespec(fieldStr(ci, "group"), fieldStr(ci, "name"))
		prio := pyStr(field(ci, "group_prio")) + ":" + pyStr(field(ci, "process_prio"))
		c.output(padRight(name, 32) + " " + padRight(inuse, 9) + " " + padRight(auto, 9) + " " + prio)
	}
	return false, nil
}

func doReread(c *controller, arg string) (bool, error) {
	if arg != "" {
		c.output("Error: reread accepts no arguments")
		c.exitStatus = exitGeneric
		helpReread(c)
		return false, nil
	}
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	res, err := s.call("supervisor.reloadConfig")
	if err != nil {
		c.exitStatus = exitGeneric
		if f, ok := asFault(err); ok {
			switch f.Code {
			case faultShutdownState:
				c.output("ERROR: supervisor shutting down")
				return false, nil
			case faultCantReread:
				c.output("ERROR: " + f.String)
				return false, nil
			}
		}
		return false, err
	}
	formatChanges(c, firstOf(res))
	return false, nil
}

func firstOf(v any) any {
	if l := asList(v); len(l) > 0 {
		return l[0]
	}
	return nil
}

func doAdd(c *controller, arg string) (bool, error) {
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	for _, name := range strings.Fields(arg) {
		if _, err := s.call("supervisor.addProcessGroup", name); err != nil {
			f, ok := asFault(err)
			switch {
			case ok && f.Code == faultShutdownState:
				c.output("ERROR: shutting down")
				c.exitStatus = exitGeneric
			case ok && f.Code == faultAlreadyAdded:
				c.output("ERROR: process group already active")
			case ok && f.Code == faultBadName:
				c.output("ERROR: no such process/group: " + name)
				c.exitStatus = exitGeneric
			default:
				c.exitStatus = exitGeneric
				return false, err
			}
			continue
		}
		c.output(name + ": added process group")
	}
	return false, nil
}

func doRemove(c *controller, arg string) (bool, error) {
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	for _, name := range strings.Fields(arg) {
		if _, err := s.call("supervisor.removeProcessGroup", name); err != nil {
			c.exitStatus = exitGeneric
			f, ok := asFault(err)
			switch {
			case ok && f.Code == faultStillRunning:
				c.output("ERROR: process/group still running: " + name)
			case ok && f.Code == faultBadName:
				c.output("ERROR: no such process/group: " + name)
			default:
				return false, err
			}
			continue
		}
		c.output(name + ": removed process group")
	}
	return false, nil
}

func doUpdate(c *controller, arg string) (bool, error) {
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	res, err := s.call("supervisor.reloadConfig")
	if err != nil {
		c.exitStatus = exitGeneric
		if f, ok := asFault(err); ok && f.Code == faultShutdownState {
			c.output("ERROR: already shutting down")
			return false, nil
		}
		return false, err
	}
	lists := asList(firstOf(res))
	strs := func(i int) []string {
		var out []string
		if i < len(lists) {
			for _, v := range asList(lists[i]) {
				out = append(out, pyStr(v))
			}
		}
		return out
	}
	added, changed, removed := strs(0), strs(1), strs(2)
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
		infos, err := s.call("supervisor.getAllProcessInfo")
		if err != nil {
			return false, err
		}
		for _, info := range asList(infos) {
			groups[fieldStr(info, "group")] = true
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
	for _, g := range removed {
		if skip(g) {
			continue
		}
		results, err := s.call("supervisor.stopProcessGroup", g)
		if err != nil {
			return false, err
		}
		c.output(g + ": stopped")
		failed := false
		for _, r := range asList(results) {
			if fieldInt(r, "status") == faultFailed {
				failed = true
			}
		}
		if failed {
			c.output(g + ": has problems; not removing")
			c.exitStatus = exitGeneric
			continue
		}
		if _, err := s.call("supervisor.removeProcessGroup", g); err != nil {
			return false, err
		}
		c.output(g + ": removed process group")
	}
	for _, g := range changed {
		if skip(g) {
			continue
		}
		if _, err := s.call("supervisor.stopProcessGroup", g); err != nil {
			return false, err
		}
		c.output(g + ": stopped")
		if _, err := s.call("supervisor.removeProcessGroup", g); err != nil {
			return false, err
		}
		if _, err := s.call("supervisor.addProcessGroup", g); err != nil {
			return false, err
		}
		c.output(g + ": updated process group")
	}
	for _, g := range added {
		if skip(g) {
			continue
		}
		if _, err := s.call("supervisor.addProcessGroup", g); err != nil {
			return false, err
		}
		c.output(g + ": added process group")
	}
	return false, nil
}

func doOpen(c *controller, arg string) (bool, error) {
	u := strings.TrimSpace(arg)
	scheme, _, _ := urlParts(u)
	if scheme != "unix" && scheme != "http" {
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
	if arg != "" {
		c.output("Error: version accepts no arguments")
		c.exitStatus = exitGeneric
		helpVersion(c)
		return false, nil
	}
	up, err := c.upcheck()
	if err != nil || !up {
		return false, err
	}
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	v, err := s.call("supervisor.getSupervisorVersion")
	if err != nil {
		return false, err
	}
	c.output(pyStr(v))
	return false, nil
}

// pyIntArg is Python's int() of a tail/maintail modifier.
func pyIntArg(s string) (int, bool) {
	t := strings.TrimSpace(s)
	sign := ""
	if strings.HasPrefix(t, "+") || strings.HasPrefix(t, "-") {
		sign, t = t[:1], t[1:]
	}
	if t == "" || t[0] == '_' || t[len(t)-1] == '_' || strings.Contains(t, "__") {
		return 0, false
	}
	t = strings.ReplaceAll(t, "_", "")
	for _, r := range t {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(sign + t)
	if err != nil {
		return 0, false
	}
	return n, true
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
			case faultNoFile:
				c.output(name + ": ERROR (no log file)")
				return false, nil
			case faultFailed:
				c.output(name + ": ERROR (unknown error reading log)")
				return false, nil
			case faultBadName:
				c.output(name + ": ERROR (no such process name)")
				return false, nil
			}
		}
		return false, err
	}
	c.output(pyStr(out))
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
			case faultNoFile:
				c.output("supervisord: ERROR (no log file)")
				return false, nil
			case faultFailed:
				c.output("supervisord: ERROR (unknown error reading log)")
				return false, nil
			}
		}
		return false, err
	}
	c.output(pyStr(out))
	return false, nil
}
