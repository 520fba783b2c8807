package rpc

import (
	"context"
	"errors"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/xmlrpcvalue"
	"github.com/gosupervisor/gosupervisor/logrot"
	"github.com/gosupervisor/gosupervisor/procman"
)

// APIVersion and SupervisorVersion are what getAPIVersion and
// getSupervisorVersion report.
const (
	APIVersion        = "3.0"
	SupervisorVersion = "4.2.5"
)

// handler runs one method with already arity-checked parameters.
type handler func(ctx context.Context, d *Dispatcher, p []any) (any, error)

// method is one entry of the fixed method table.
type method struct {
	sig      []string // [return type, param types...] as methodSignature returns
	help     string
	minArgs  int
	maxArgs  int
	noUpdate bool // skips the SHUTDOWN_STATE check (system.*, sendRemoteCommEvent)
	run      handler
}

// Dispatcher maps method names to the fixed method table and runs calls
// against a Backend. It is safe for concurrent use.
type Dispatcher struct {
	backend Backend
	logs    LogReader
	ext     Extensions // the gosupervisor namespace; nil when not enabled
	methods map[string]*method
	names   []string

	infos     sync.Pool    // *[]ProcessInfo for getAllProcessInfo (recycleInfos)
	lastInfos atomic.Int64 // processes in the last getAllProcessInfo
}

// NewDispatcher returns a Dispatcher over b, reading logs with logs
// (logrot.Files{} when nil).
func NewDispatcher(b Backend, logs LogReader) *Dispatcher {
	if logs == nil {
		logs = logrot.Files{}
	}
	d := &Dispatcher{backend: b, logs: logs, methods: methodTable()}
	for n := range d.methods {
		d.names = append(d.names, n)
	}
	sort.Strings(d.names)
	return d
}

// Methods returns the sorted method names (system.listMethods).
func (d *Dispatcher) Methods() []string { return append([]string(nil), d.names...) }

// Call runs one XML-RPC method. The error is a *Fault for an XML-RPC fault,
// or another error for what Python answers with HTTP 500.
func (d *Dispatcher) Call(ctx context.Context, name string, params []any) (any, error) {
	return d.call(ctx, name, params, false)
}

func (d *Dispatcher) call(ctx context.Context, name string, params []any, inMulticall bool) (any, error) {
	// Python's traverse(): exactly namespace.method, no leading "_", and
	// only names of the fixed table (never attribute lookup).
	ns, meth, ok := strings.Cut(name, ".")
	if !ok || strings.Contains(meth, ".") || strings.HasPrefix(meth, "_") || ns == "" {
		return nil, NewFault(faults.UnknownMethod)
	}
	m := d.methods[name]
	if m == nil {
		return nil, NewFault(faults.UnknownMethod)
	}
	if len(params) < m.minArgs || len(params) > m.maxArgs {
		return nil, NewFault(faults.IncorrectParameters)
	}
	if !m.noUpdate && d.backend.State() < procman.SupervisorRunning {
		return nil, NewFault(faults.ShutdownState)
	}
	v, err := m.run(ctx, d, params)
	if err != nil {
		var pe *pyError
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, AsFault(err)
	}
	return v, nil
}

// pyTypeName is type(v).__name__ for the decoded value types.
func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case string:
		return "str"
	case int64:
		return "int"
	case bool:
		return "bool"
	case float64:
		return "float"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return "datetime"
}

// argNamespec requires a str the way split_namespec does (anything else is
// an AttributeError, HTTP 500 in Python).
func argNamespec(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", &pyError{"AttributeError", "'" + pyTypeName(v) + "' object has no attribute 'split'"}
	}
	return s, nil
}

// argGroup mirrors a dict lookup by group name: unhashable values are a
// TypeError (INCORRECT_PARAMETERS); other non-strings never match.
func argGroup(v any) (name string, match bool, err error) {
	switch x := v.(type) {
	case string:
		return x, true, nil
	case []any, map[string]any:
		return "", false, typeError()
	}
	return xmlrpcvalue.Str(v), false, nil
}

// signallable reports whether group exists (any group when group is "")
// and whether a signal would actually be attempted on one of its
// processes: Python converts the signal argument only then, so a bad
// signal type fails only then. Groups always have at least one process.
func (d *Dispatcher) signallable(group string) (exists, any bool) {
	for _, p := range d.backend.AllProcessInfo(nil) {
		if group != "" && p.Group != group {
			continue
		}
		exists = true
		if p.State.IsSignallable() {
			return true, true
		}
	}
	return exists, false
}

// badGroupSignal answers a bad signal argument for a group as Python
// does: an unknown group is BAD_NAME (name as given), a group with nothing
// to signal answers no results, and only then is err (the signal's fault)
// returned.
func (d *Dispatcher) badGroupSignal(group, name string, err error) (any, error) {
	exists, some := d.signallable(group)
	switch {
	case !exists:
		return nil, NewFault(faults.BadName, name)
	case !some:
		return []Result{}, nil
	}
	return nil, err
}

// argSignal turns a signal argument into the text signal_number parses.
func argSignal(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64, bool, float64:
		n, err := pyInt(x)
		if err != nil {
			return "", err
		}
		return xmlrpcvalue.Str(n), nil
	}
	return "", &pyError{"AttributeError", "'" + pyTypeName(v) + "' object has no attribute 'strip'"}
}

func optWait(p []any, i int) bool {
	if len(p) > i {
		return pyTruth(p[i])
	}
	return true
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func resultsValue(r []Result) []Result {
	if r == nil {
		return []Result{}
	}
	return r
}

// multicall runs calls in order, each result a bare value or a fault struct.
func (d *Dispatcher) multicall(ctx context.Context, arg any) (any, error) {
	var calls []any
	switch x := arg.(type) {
	case []any:
		calls = x
	case string:
		// calls[:] works on a str, then pop() does not exist
		if x != "" {
			return nil, &pyError{"AttributeError", "'str' object has no attribute 'pop'"}
		}
	default:
		return nil, typeError()
	}
	out := make([]any, 0, len(calls))
	for _, c := range calls {
		call, ok := c.(map[string]any)
		if !ok {
			// call.get() runs outside multicall's try: the whole request
			// fails (HTTP 500), after the calls before it ran.
			return nil, &pyError{"AttributeError", "'" + pyTypeName(c) + "' object has no attribute 'get'"}
		}
		out = append(out, d.multicallOne(ctx, call))
	}
	return out, nil
}

func (d *Dispatcher) multicallOne(ctx context.Context, call map[string]any) any {
	nameV, ok := call["methodName"]
	if !ok {
		return faultStruct(NewFault(faults.IncorrectParameters, "No methodName"))
	}
	name, isStr := nameV.(string)
	if isStr && name == "system.multicall" {
		return faultStruct(NewFault(faults.IncorrectParameters, "Recursive system.multicall forbidden"))
	}
	if !isStr {
		if nameV == nil {
			return faultStruct(NewFault(faults.IncorrectParameters, "No methodName"))
		}
		return faultStruct((&pyError{"AttributeError", "'" + pyTypeName(nameV) + "' object has no attribute 'split'"}).multicallFault())
	}
	var params []any
	switch p := call["params"].(type) {
	case []any:
		params = p
	case string:
		for _, r := range p {
			params = append(params, string(r))
		}
	case map[string]any:
		keys := make([]string, 0, len(p))
		for k := range p {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			params = append(params, k)
		}
	default:
		if _, present := call["params"]; present {
			return faultStruct(NewFault(faults.IncorrectParameters))
		}
	}
	v, err := d.call(ctx, name, params, true)
	if err != nil {
		var pe *pyError
		if errors.As(err, &pe) {
			return faultStruct(pe.multicallFault())
		}
		return faultStruct(AsFault(err))
	}
	return v
}

// allProcessInfo is getAllProcessInfo's list in a recycled slice: at
// 6,000 processes a fresh one is 0.8 MB of garbage per call, which a
// client polling the list turns into a heap twice the live size.
func (d *Dispatcher) allProcessInfo() []ProcessInfo {
	var dst []ProcessInfo
	if p, ok := d.infos.Get().(*[]ProcessInfo); ok {
		dst = *p
	}
	// A GC empties the pool: size a new slice as the last answer was,
	// rather than growing it by copies (1.5 MB of garbage at 6,000).
	dst = slices.Grow(dst[:0], int(d.lastInfos.Load()))
	all := d.backend.AllProcessInfo(dst)
	d.lastInfos.Store(int64(len(all)))
	return sortProcessInfo(all)
}

// recycleInfos takes back a getAllProcessInfo answer once it is encoded
// (v is the value Call returned; anything else is left alone).
func (d *Dispatcher) recycleInfos(v any) {
	infos, ok := v.([]ProcessInfo)
	if !ok || cap(infos) == 0 {
		return
	}
	clear(infos) // let go of the strings until the next call
	d.putInfos(infos[:0])
}

// putInfos pools infos (its own function: the box Put needs is then
// allocated only for an info list, not for every answer recycleInfos sees).
func (d *Dispatcher) putInfos(infos []ProcessInfo) { d.infos.Put(&infos) }
