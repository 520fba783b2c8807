package rpc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/internal/xmlrpcvalue"
)

func sig(s ...string) []string { return s }

// methodTable builds the fixed table of the 41 public methods of
// supervisor 4.2.5 (aliases included). Signatures are those Python's
// methodSignature returns; help texts are our own.
func methodTable() map[string]*method {
	t := map[string]*method{}
	add := func(name string, s []string, help string, minA, maxA int, run handler) *method {
		m := &method{sig: s, help: help, minArgs: minA, maxArgs: maxA, run: run}
		t[name] = m
		return m
	}
	sys := func(m *method) { m.noUpdate = true }

	// system namespace
	sys(add("system.listMethods", sig("array"),
		"List the names of every method this server offers, sorted.\n\n@return array names", 0, 0,
		func(_ context.Context, d *Dispatcher, _ []any) (any, error) { return d.Methods(), nil }))
	// methodInfo answers what of a listed method; any other name is
	// SIGNATURE_UNSUPPORTED
	methodInfo := func(what func(*method) any) handler {
		return func(_ context.Context, d *Dispatcher, p []any) (any, error) {
			if s, ok := p[0].(string); ok {
				if m := d.methods[s]; m != nil {
					return what(m), nil
				}
			}
			return nil, NewFault(faults.SignatureUnsupported)
		}
	}
	sys(add("system.methodHelp", sig("string", "string"),
		"Describe a method in a few sentences.\n\n@param string name  a method name from listMethods\n@return string help", 1, 1,
		methodInfo(func(m *method) any { return m.help })))
	sys(add("system.methodSignature", sig("array", "string"),
		"Give a method's types as [return type, parameter types...].\n\n@param string name  a method name\n@return array types", 1, 1,
		methodInfo(func(m *method) any { return m.sig })))
	sys(add("system.multicall", sig("array", "array"),
		"Run several calls, given as structs {methodName, params}, one after the other in one request. Each result is the bare value, or a {faultCode, faultString} struct.\n\n@param array calls\n@return array results", 1, 1,
		func(ctx context.Context, d *Dispatcher, p []any) (any, error) { return d.multicall(ctx, p[0]) }))

	// supervisor namespace: daemon
	apiVersion := func(context.Context, *Dispatcher, []any) (any, error) { return APIVersion, nil }
	add("supervisor.getAPIVersion", sig("string"), "Report the version of this RPC API (3.0).\n\n@return string version", 0, 0, apiVersion)
	add("supervisor.getVersion", sig("string"), "Old name of getAPIVersion, kept for older clients.\n\n@return string version", 0, 0, apiVersion)
	add("supervisor.getSupervisorVersion", sig("string"), "Report which supervisord release this daemon is compatible with.\n\n@return string version", 0, 0,
		func(context.Context, *Dispatcher, []any) (any, error) { return SupervisorVersion, nil })
	add("supervisor.getIdentification", sig("string"), "Report the identifier option of this daemon.\n\n@return string identifier", 0, 0,
		func(_ context.Context, d *Dispatcher, _ []any) (any, error) { return d.backend.Identification(), nil })
	add("supervisor.getState", sig("struct"), "Report the daemon's state as {statecode, statename}.\n\n@return struct state", 0, 0,
		func(_ context.Context, d *Dispatcher, _ []any) (any, error) {
			c := d.backend.State()
			return Struct{{"statecode", int(c)}, {"statename", c.String()}}, nil
		})
	add("supervisor.getPID", sig("int"), "Report the process id of the daemon.\n\n@return int pid", 0, 0,
		func(_ context.Context, d *Dispatcher, _ []any) (any, error) { return d.backend.PID(), nil })
	readLog := func(_ context.Context, d *Dispatcher, p []any) (any, error) {
		path := d.backend.MainLogFile()
		if path == "" {
			return nil, NewFault(faults.NoFile)
		}
		if !fileExists(path) {
			return nil, NewFault(faults.NoFile, path)
		}
		return d.readFile(path, p[0], p[1])
	}
	add("supervisor.readLog", sig("string", "int", "int"), "Read part of the daemon's own log: length bytes from offset, or the last -offset bytes when offset is negative and length is 0.\n\n@param int offset\n@param int length\n@return string text", 2, 2, readLog)
	add("supervisor.readMainLog", sig("string", "int", "int"), "Old name of readLog.\n\n@param int offset\n@param int length\n@return string text", 2, 2, readLog)
	add("supervisor.clearLog", sig("boolean"), "Empty the daemon's own log file.\n\n@return boolean done", 0, 0,
		func(_ context.Context, d *Dispatcher, _ []any) (any, error) {
			path := d.backend.MainLogFile()
			if path == "" || !fileExists(path) {
				return nil, NewFault(faults.NoFile)
			}
			return trueAfter(d.backend.ClearMainLog())
		})
	add("supervisor.shutdown", sig("boolean"), "Ask the daemon to stop every process and exit.\n\n@return boolean accepted", 0, 0,
		func(_ context.Context, d *Dispatcher, _ []any) (any, error) { return trueAfter(d.backend.Shutdown()) })
	add("supervisor.restart", sig("boolean"), "Ask the daemon to stop everything and reload its configuration in place.\n\n@return boolean accepted", 0, 0,
		func(_ context.Context, d *Dispatcher, _ []any) (any, error) { return trueAfter(d.backend.Restart()) })
	add("supervisor.reloadConfig", sig("array"), "Read the configuration again without applying it; report the group names added, changed and removed as [[added, changed, removed]].\n\n@return array diff", 0, 0,
		func(_ context.Context, d *Dispatcher, _ []any) (any, error) {
			a, c, r, err := d.backend.ReloadConfig()
			if err != nil {
				return nil, err
			}
			nz := func(s []string) []string {
				if s == nil {
					return []string{}
				}
				return s
			}
			return []any{[]any{nz(a), nz(c), nz(r)}}, nil
		})
	add("supervisor.addProcessGroup", sig("boolean", "string"), "Activate a group from the configuration last read.\n\n@param string name  group name\n@return boolean done", 1, 1,
		func(_ context.Context, d *Dispatcher, p []any) (any, error) {
			// Python compares with each config's name: no hashing, so
			// any non-string is just an unknown name.
			name, ok := p[0].(string)
			if !ok {
				return nil, NewFault(faults.BadName, xmlrpcvalue.Str(p[0]))
			}
			return trueAfter(d.backend.AddProcessGroup(name))
		})
	add("supervisor.removeProcessGroup", sig("boolean", "string"), "Deactivate a group whose processes are all stopped.\n\n@param string name  group name\n@return boolean done", 1, 1,
		func(_ context.Context, d *Dispatcher, p []any) (any, error) {
			name, err := groupName(p[0])
			if err != nil {
				return nil, err
			}
			return trueAfter(d.backend.RemoveProcessGroup(name))
		})

	// processes: start, stop, signal
	add("supervisor.startProcess", sig("boolean", "string", "boolean"), "Start one process (or, given group:*, its whole group). With wait, answer once it is RUNNING or has failed.\n\n@param string name  process name or group:*\n@param boolean wait\n@return boolean started", 1, 2,
		oneProcess(Backend.StartProcess))
	add("supervisor.startProcessGroup", sig("array", "string", "boolean"), "Start every process of a group that is not running.\n\n@param string name  group name\n@param boolean wait\n@return array results", 1, 2,
		wholeGroup(Backend.StartProcessGroup))
	add("supervisor.startAllProcesses", sig("array", "boolean"), "Start every process that is not running, in priority order.\n\n@param boolean wait\n@return array results", 0, 1,
		allProcesses(Backend.StartAllProcesses))
	add("supervisor.stopProcess", sig("boolean", "string", "boolean"), "Stop one process (or, given group:*, its whole group). With wait, answer once it has stopped.\n\n@param string name  process name or group:*\n@param boolean wait\n@return boolean stopped", 1, 2,
		oneProcess(Backend.StopProcess))
	add("supervisor.stopProcessGroup", sig("array", "string", "boolean"), "Stop every running process of a group.\n\n@param string name  group name\n@param boolean wait\n@return array results", 1, 2,
		wholeGroup(Backend.StopProcessGroup))
	add("supervisor.stopAllProcesses", sig("array", "boolean"), "Stop every running process.\n\n@param boolean wait\n@return array results", 0, 1,
		allProcesses(Backend.StopAllProcesses))
	add("supervisor.signalProcess", sig("boolean", "string", "string"), "Send a signal (a name such as HUP or a number) to one process, or to a group given group:*.\n\n@param string name  process name or group:*\n@param string signal\n@return boolean sent", 2, 2,
		func(_ context.Context, d *Dispatcher, p []any) (any, error) {
			name, err := argNamespec(p[0])
			if err != nil {
				return nil, err
			}
			s, err := argSignal(p[1])
			if err != nil {
				if g, proc := namespec.Split(name); proc == "" {
					return d.badGroupSignal(g, name, err)
				}
				return nil, err
			}
			return groupOrTrue(d.backend.SignalProcess(name, s))
		})
	add("supervisor.signalProcessGroup", sig("array", "string", "string"), "Send a signal to every process of a group that can take one.\n\n@param string name  group name\n@param string signal\n@return array results", 2, 2,
		func(_ context.Context, d *Dispatcher, p []any) (any, error) {
			name, err := groupName(p[0])
			if err != nil {
				return nil, err
			}
			s, err := argSignal(p[1])
			if err != nil {
				return d.badGroupSignal(name, name, err)
			}
			r, err := d.backend.SignalProcessGroup(name, s)
			if err != nil {
				return nil, err
			}
			return resultsValue(r), nil
		})
	add("supervisor.signalAllProcesses", sig("array", "string"), "Send a signal to every process that can take one.\n\n@param string signal\n@return array results", 1, 1,
		func(_ context.Context, d *Dispatcher, p []any) (any, error) {
			s, err := argSignal(p[0])
			if err != nil {
				if _, some := d.signallable(""); !some {
					return []Result{}, nil
				}
				return nil, err
			}
			return resultsValue(d.backend.SignalAllProcesses(s)), nil
		})

	// process information
	add("supervisor.getProcessInfo", sig("struct", "string"), "Describe one process: name, group, times, state, pid, log paths, exit status and a readable description.\n\n@param string name  process name\n@return struct info", 1, 1,
		byNamespec(func(d *Dispatcher, name string) (any, error) {
			info, err := d.backend.ProcessInfo(name)
			if err != nil {
				return nil, err
			}
			return info, nil
		}))
	add("supervisor.getAllProcessInfo", sig("array"), "Describe every process, sorted by group then name.\n\n@return array infos", 0, 0,
		func(_ context.Context, d *Dispatcher, _ []any) (any, error) {
			return d.allProcessInfo(), nil
		})
	add("supervisor.getAllConfigInfo", sig("array"), "Describe the configuration of every configured process, active or not, sorted by name.\n\n@return array configs", 0, 0,
		func(_ context.Context, d *Dispatcher, _ []any) (any, error) {
			all := d.backend.AllConfigInfo()
			slices.SortStableFunc(all, func(a, b ConfigInfo) int { return strings.Compare(a.Name, b.Name) })
			if all == nil {
				all = []ConfigInfo{}
			}
			return all, nil
		})

	// process logs
	// logOf is the path of a process's channel log, "" when it has none
	logOf := func(d *Dispatcher, p []any, channel string) (string, error) {
		name, err := argNamespec(p[0])
		if err != nil {
			return "", err
		}
		return d.backend.ProcessLogFile(name, channel)
	}
	readProc := func(channel string) handler {
		return func(_ context.Context, d *Dispatcher, p []any) (any, error) {
			path, err := logOf(d, p, channel)
			switch {
			case err != nil:
				return nil, err
			case path == "":
				return nil, NewFault(faults.NoFile)
			case !fileExists(path):
				return nil, NewFault(faults.NoFile, path)
			}
			return d.readFile(path, p[1], p[2])
		}
	}
	tailProc := func(channel string) handler {
		return func(_ context.Context, d *Dispatcher, p []any) (any, error) {
			path, err := logOf(d, p, channel)
			if err != nil {
				return nil, err
			}
			if path == "" || !fileExists(path) {
				return []any{"", 0, false}, nil
			}
			off, err := pyInt(p[1])
			if err != nil {
				return nil, err
			}
			n, err := pyInt(p[2])
			if err != nil {
				return nil, err
			}
			data, newOff, overflow := d.logs.TailFile(path, off, n)
			return []any{string(data), newOff, overflow}, nil
		}
	}
	const readHelp = "Read part of a process's %s log: length bytes from offset, or the last -offset bytes when offset is negative and length is 0.\n\n@param string name  process name\n@param int offset\n@param int length\n@return string text"
	const tailHelp = "Read the end of a process's %s log for following it: returns [text, next offset, overflow], where overflow says bytes were skipped.\n\n@param string name  process name\n@param int offset\n@param int length\n@return array [text, offset, overflow]"
	add("supervisor.readProcessStdoutLog", sig("string", "string", "int", "int"), fmt.Sprintf(readHelp, "stdout"), 3, 3, readProc("stdout"))
	add("supervisor.readProcessLog", sig("string", "string", "int", "int"), "Old name of readProcessStdoutLog.\n\n@param string name\n@param int offset\n@param int length\n@return string text", 3, 3, readProc("stdout"))
	add("supervisor.readProcessStderrLog", sig("string", "string", "int", "int"), fmt.Sprintf(readHelp, "stderr"), 3, 3, readProc("stderr"))
	add("supervisor.tailProcessStdoutLog", sig("array", "string", "int", "int"), fmt.Sprintf(tailHelp, "stdout"), 3, 3, tailProc("stdout"))
	add("supervisor.tailProcessLog", sig("array", "string", "int", "int"), "Old name of tailProcessStdoutLog.\n\n@param string name\n@param int offset\n@param int length\n@return array [text, offset, overflow]", 3, 3, tailProc("stdout"))
	add("supervisor.tailProcessStderrLog", sig("array", "string", "int", "int"), fmt.Sprintf(tailHelp, "stderr"), 3, 3, tailProc("stderr"))
	clearLogs := byNamespec(func(d *Dispatcher, name string) (any, error) {
		return trueAfter(d.backend.ClearProcessLogs(name))
	})
	add("supervisor.clearProcessLogs", sig("boolean", "string"), "Empty both log files of one process.\n\n@param string name  process name\n@return boolean done", 1, 1, clearLogs)
	add("supervisor.clearProcessLog", sig("boolean", "string"), "Old name of clearProcessLogs.\n\n@param string name\n@return boolean done", 1, 1, clearLogs)
	add("supervisor.clearAllProcessLogs", sig("array"), "Empty the log files of every process.\n\n@return array results", 0, 0,
		func(ctx context.Context, d *Dispatcher, _ []any) (any, error) {
			return resultsValue(d.backend.ClearAllProcessLogs(ctx)), nil
		})

	// input and events
	add("supervisor.sendProcessStdin", sig("boolean", "string", "string"), "Write text (sent as UTF-8) to a running process's standard input.\n\n@param string name  process name\n@param string chars\n@return boolean written", 2, 2,
		func(_ context.Context, d *Dispatcher, p []any) (any, error) {
			chars, ok := p[1].(string)
			if !ok {
				return nil, NewFault(faults.IncorrectParameters, xmlrpcvalue.Str(p[1]))
			}
			name, err := argNamespec(p[0])
			if err != nil {
				return nil, err
			}
			return trueAfter(d.backend.SendProcessStdin(name, []byte(chars)))
		})
	m := add("supervisor.sendRemoteCommEvent", sig("boolean", "string", "string"), "Emit a REMOTE_COMMUNICATION event with the given type and data to the event listeners that subscribe to it.\n\n@param string type\n@param string data\n@return boolean sent", 2, 2,
		func(_ context.Context, d *Dispatcher, p []any) (any, error) {
			return trueAfter(d.backend.SendRemoteCommEvent(xmlrpcvalue.Str(p[0]), xmlrpcvalue.Str(p[1])))
		})
	m.noUpdate = true
	return t
}

// trueAfter is Python's "return True" after an action that raised no
// fault.
func trueAfter(err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return true, nil
}

// byNamespec is a method whose first parameter is a namespec.
func byNamespec(run func(d *Dispatcher, name string) (any, error)) handler {
	return func(_ context.Context, d *Dispatcher, p []any) (any, error) {
		name, err := argNamespec(p[0])
		if err != nil {
			return nil, err
		}
		return run(d, name)
	}
}

// groupName is a group name parameter: BAD_NAME unless it is a string
// (a list or struct is INCORRECT_PARAMETERS, as argGroup says).
func groupName(v any) (string, error) {
	name, ok, err := argGroup(v)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", NewFault(faults.BadName, name)
	}
	return name, nil
}

// oneProcess is startProcess and stopProcess: a namespec (group:* for a
// whole group) and an optional wait; true, or the group's results.
func oneProcess(run func(b Backend, ctx context.Context, namespec string, wait bool) ([]Result, bool, error)) handler {
	return func(ctx context.Context, d *Dispatcher, p []any) (any, error) {
		name, err := argNamespec(p[0])
		if err != nil {
			return nil, err
		}
		return groupOrTrue(run(d.backend, ctx, name, optWait(p, 1)))
	}
}

// wholeGroup is startProcessGroup and stopProcessGroup: a group name and
// an optional wait; the results.
func wholeGroup(run func(b Backend, ctx context.Context, name string, wait bool) ([]Result, error)) handler {
	return func(ctx context.Context, d *Dispatcher, p []any) (any, error) {
		name, err := groupName(p[0])
		if err != nil {
			return nil, err
		}
		r, err := run(d.backend, ctx, name, optWait(p, 1))
		if err != nil {
			return nil, err
		}
		return resultsValue(r), nil
	}
}

// allProcesses is startAllProcesses and stopAllProcesses: an optional
// wait; the results.
func allProcesses(run func(b Backend, ctx context.Context, wait bool) []Result) handler {
	return func(ctx context.Context, d *Dispatcher, p []any) (any, error) {
		return resultsValue(run(d.backend, ctx, optWait(p, 0))), nil
	}
}

// groupOrTrue turns a Start/Stop/SignalProcess answer into Python's value:
// the group's results for a group spec, else True.
func groupOrTrue(r []Result, isGroup bool, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	if isGroup {
		return resultsValue(r), nil
	}
	return true, nil
}

// readFile applies int() to offset and length and reads with the readFile
// rules; the text goes out as a string (see appendEscaped for bytes that
// are not valid UTF-8).
func (d *Dispatcher) readFile(path string, offV, lenV any) (any, error) {
	// Python's readLog catches the ValueError of int() and looks its text
	// up as a fault name, which fails with an AttributeError.
	conv := func(v any) (int64, error) {
		n, err := pyInt(v)
		var pe *pyError
		if errors.As(err, &pe) && pe.class == "ValueError" {
			return 0, &pyError{"AttributeError", "type object 'Faults' has no attribute '" + pe.msg + "'"}
		}
		return n, err
	}
	off, err := conv(offV)
	if err != nil {
		return nil, err
	}
	n, err := conv(lenV)
	if err != nil {
		return nil, err
	}
	data, err := d.logs.ReadFile(path, off, n)
	if err != nil {
		return nil, err
	}
	return string(data), nil
}

// sortProcessInfo orders infos by (group, name), stable, as Python's
// lexical listing. It sorts an index (moving ints, not 130-byte structs)
// and skips the work when the backend already returns them sorted.
func sortProcessInfo(all []ProcessInfo) []ProcessInfo {
	less := func(a, b *ProcessInfo) int {
		if c := strings.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	}
	sorted := true
	for i := 1; i < len(all); i++ {
		if less(&all[i-1], &all[i]) > 0 {
			sorted = false
			break
		}
	}
	if sorted {
		if all == nil {
			return []ProcessInfo{}
		}
		return all
	}
	idx := make([]int32, len(all))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := less(&all[a], &all[b]); c != 0 {
			return c
		}
		return int(a - b)
	})
	out := make([]ProcessInfo, len(all))
	for i, j := range idx {
		out[i] = all[j]
	}
	return out
}
