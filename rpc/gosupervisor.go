package rpc

import (
	"context"
	"slices"
	"strings"
)

// The gosupervisor namespace: methods beyond supervisor 4.2.5, served only
// when the config has
//
//	[rpcinterface:gosupervisor]
//	supervisor.rpcinterface_factory = gosupervisor.rpcinterface:make_main_rpcinterface
//
// (Options.Extensions non-nil). Without it system.listMethods and every
// other answer stay Python's. The table is fixed like the supervisor one.
//
// Adding a method: add what it needs to the Extensions interface, one
// entry to gosupervisorTable (signature, help, arity, handler) and, when
// it returns a new struct, a type with a toStruct method below. The
// daemon (cmd/supervisord) implements Extensions.

// GosupervisorFactory is the rpcinterface factory spec that enables the
// gosupervisor namespace.
const GosupervisorFactory = "gosupervisor.rpcinterface:make_main_rpcinterface"

// Extensions is what the daemon provides to the gosupervisor namespace.
// Errors carry faults as for Backend.
type Extensions interface {
	// ProcessHealth reports one process (BAD_NAME for unknown names and
	// group specs, as getProcessInfo).
	ProcessHealth(namespec string) (ProcessHealth, error)
	// AllProcessHealth reports every active process; rpc sorts by
	// (group, name).
	AllProcessHealth() []ProcessHealth
	// RotateLogs rotates log files now: name is a process ("name" or
	// "group:name"), "group:*", "all" (every process) or "main" (the
	// supervisord log). BAD_NAME for an unknown name, NO_FILE for "main"
	// logging to syslog, FAILED: name when a rotation fails.
	RotateLogs(name string) error
	// Upgrade re-executes the daemon from its binary on disk, handing
	// over every process (see package handover). It returns only when the
	// upgrade did not happen (the fault says why); on success the new
	// image answers the call (with its version line), from ctx's
	// connection, which HandoffConn hands over.
	Upgrade(ctx context.Context) error
	// Version is gosupervisor's own version line (--gosupervisor-version).
	Version() string
}

// ProcessHealth is the struct of getProcessHealth: readiness, health
// checks, restarts, dependencies and resource use of one process.
type ProcessHealth struct {
	Name       string
	Group      string
	Ready      bool     // it is RUNNING (after its ready check passed, when it has one)
	Healthy    bool     // ready, and its health check has not failed healthcheck_retries times in a row
	LastCheck  int64    // unix time of the last ready/health/memory check, 0 if never
	LastError  string   // why the last failing check failed, "" after a success
	Restarts   int      // spawns after the first
	DependsOn  []string // the depends_on entries as configured
	RSS        int64    // resident bytes of the process and its descendants, 0 if not running
	CPUSeconds float64  // user+system CPU seconds of the process and its descendants
}

func (h *ProcessHealth) toStruct() Struct {
	deps := h.DependsOn
	if deps == nil {
		deps = []string{}
	}
	return Struct{
		{"name", h.Name},
		{"group", h.Group},
		{"ready", h.Ready},
		{"healthy", h.Healthy},
		{"last_check", h.LastCheck},
		{"last_error", h.LastError},
		{"restarts", h.Restarts},
		{"depends_on", deps},
		{"rss", h.RSS},
		{"cpu_seconds", h.CPUSeconds},
	}
}

// gosupervisorTable adds the gosupervisor.* methods to t.
func gosupervisorTable(t map[string]*method) {
	add := func(name string, s []string, help string, minA, maxA int, run handler) {
		t["gosupervisor."+name] = &method{sig: s, help: help, minArgs: minA, maxArgs: maxA, run: run}
	}
	add("getProcessHealth", sig("struct", "string"),
		"Report one process's readiness and health: name, group, ready, healthy, last_check (unix time, 0 if never), last_error, restarts (spawns after the first), depends_on, rss (resident bytes with descendants, 0 if not running) and cpu_seconds (with descendants).\n\n@param string name  process name\n@return struct health", 1, 1,
		byNamespec(func(d *Dispatcher, name string) (any, error) {
			h, err := d.ext.ProcessHealth(name)
			if err != nil {
				return nil, err
			}
			return h.toStruct(), nil
		}))
	add("getAllProcessHealth", sig("array"),
		"Report getProcessHealth for every process, sorted by group then name.\n\n@return array healths", 0, 0,
		func(_ context.Context, d *Dispatcher, _ []any) (any, error) {
			all := d.ext.AllProcessHealth()
			slices.SortStableFunc(all, func(a, b ProcessHealth) int {
				if c := strings.Compare(a.Group, b.Group); c != 0 {
					return c
				}
				return strings.Compare(a.Name, b.Name)
			})
			out := make([]Struct, len(all))
			for i := range all {
				out[i] = all[i].toStruct()
			}
			return out, nil
		})
	rotateLogsTable(add)
	add("upgrade", sig("string"),
		"Re-execute supervisord from its binary on disk without stopping the programs: the new binary takes over the sockets, every process (pid, state, pipes, timers), the logs and the event listener pools. The binary must exist, be executable and answer --gosupervisor-version, or nothing changes. The answer comes from the new image: its version line.\n\n@return string version  the new --gosupervisor-version line", 0, 0,
		func(ctx context.Context, d *Dispatcher, _ []any) (any, error) {
			if err := d.ext.Upgrade(ctx); err != nil {
				return nil, err
			}
			return d.ext.Version(), nil
		})
	add("getVersion", sig("string"),
		"Return gosupervisor's own version line, as --gosupervisor-version prints it (getSupervisorVersion stays the supervisord version it is compatible with).\n\n@return string version", 0, 0,
		func(_ context.Context, d *Dispatcher, _ []any) (any, error) {
			return d.ext.Version(), nil
		})
}

// rotateLogsTable adds gosupervisor.rotateLogs.
func rotateLogsTable(add func(name string, s []string, help string, minA, maxA int, run handler)) {
	add("rotateLogs", sig("boolean", "string"),
		"Rotate log files now, each at its last line boundary (empty files are left alone). name is a process (name or group:name), group:* for every process of a group, all for every process, or main for the supervisord log.\n\n@param string name  process, group:*, all or main\n@return boolean result  always true unless error", 1, 1,
		byNamespec(func(d *Dispatcher, name string) (any, error) {
			return trueAfter(d.ext.RotateLogs(name))
		}))
}

// enableExtensions serves the gosupervisor namespace over x. It runs before
// the dispatcher is shared.
func (d *Dispatcher) enableExtensions(x Extensions) {
	d.ext = x
	gosupervisorTable(d.methods)
	d.names = d.names[:0]
	for n := range d.methods {
		d.names = append(d.names, n)
	}
	slices.Sort(d.names)
}
