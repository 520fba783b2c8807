package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/events"
	"github.com/gosupervisor/gosupervisor/internal/errno"
	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
	"github.com/gosupervisor/gosupervisor/logrot"
	"github.com/gosupervisor/gosupervisor/procman"
	"github.com/gosupervisor/gosupervisor/procstat"
	"github.com/gosupervisor/gosupervisor/rpc"
)

// defaultResultHandler is the only event listener result_handler we can
// run (Python imports arbitrary callables).
const defaultResultHandler = "supervisor.dispatchers:default_handler"

// instance is one run of the daemon: the config it started from, the
// process manager, the log channels and listener pools of active groups,
// and the HTTP servers. It implements rpc.Backend.
type instance struct {
	d       *daemon
	cfg     *config.Config
	mainlog *logrot.MainLog
	hub     *logrot.Hub
	sup     *procman.Supervisor
	stats   *procstat.Sampler // resource figures for the gosupervisor namespace

	srv       *rpc.Server
	listeners []*rpc.Listener

	mu       sync.Mutex
	latest   *config.Config               // the last config read (start or reloadConfig)
	active   []*config.Group              // active groups, in the order added
	channels map[string][]*logrot.Channel // by group name
	pools    map[string]*events.Pool      // by group name
	resolved map[*config.Process][2]string
	// announced holds the groups of the initial config whose
	// PROCESS_GROUP_ADDED was already published (before
	// SUPERVISOR_STATE_CHANGE_RUNNING, as Python orders them).
	announced map[string]bool

	// loaded is closed once the startup config's groups are all in the
	// process table (see waitLoaded).
	loaded chan struct{}

	// stdinHold keeps listener envelopes while an upgrade freezes the
	// process table (upgrade.go).
	stdinHold stdinHold
}

func newInstance(d *daemon, cfg *config.Config, mainlog *logrot.MainLog) (*instance, error) {
	inst := &instance{
		d:        d,
		cfg:      cfg,
		mainlog:  mainlog,
		hub:      logrot.NewHub(d.syslog),
		latest:   cfg,
		channels: map[string][]*logrot.Channel{},
		pools:    map[string]*events.Pool{},
		resolved: map[*config.Process][2]string{},

		announced: map[string]bool{},
		loaded:    make(chan struct{}),
		stats:     d.sampler,
	}
	sup, err := procman.New(procman.Options{
		Logger:       mainLogger{d},
		OnTransition: inst.onTransition,
		OnGroup: func(name string, added bool) {
			inst.mu.Lock()
			skip := added && inst.announced[name]
			delete(inst.announced, name)
			inst.mu.Unlock()
			if !skip {
				d.bus.Publish(events.NewGroupEvent(name, added))
			}
		},
		OnExitRequest: d.requestExit,
		Output:        inst.output,
		Sampler:       inst.stats,
		ServerURL:     cfg.ServerURL,
		Reaper:        d.reaper,
	})
	if err != nil {
		return nil, fmt.Errorf("start the process manager: %w", err)
	}
	inst.sup = sup
	return inst, nil
}

func (inst *instance) onTransition(tr procman.Transition) {
	inst.d.trimmer.poke()
	err := inst.d.bus.ProcessTransition(events.StateChange{
		Process:  tr.Process,
		Group:    tr.Group,
		From:     tr.From.String(),
		To:       tr.To.String(),
		PID:      tr.PID,
		Tries:    tr.Tries,
		Expected: tr.Expected,
	})
	if err != nil {
		inst.d.logf(config.LevelError, "state event for %s: %v", tr.Process, err)
	}
}

// openServers opens every [unix_http_server]/[inet_http_server] listener,
// as Python's openhttpservers does before daemonizing.
func (inst *instance) openServers() error {
	opts := rpc.Options{
		Logs:     logrot.Files{},
		Follower: logrot.Files{},
		ErrorLog: func(msg string) { inst.d.log(config.LevelError, msg) },
		CountRPC: func(method, fault string) {
			inst.d.metrics.CountRPC(method, fault)
			inst.d.trimmer.poke()
		},
	}
	if gosupervisorEnabled(inst.cfg) {
		opts.Extensions = inst
	}
	inst.srv = rpc.NewServer(inst, opts)
	for _, hs := range inst.cfg.HTTPServers {
		l, err := rpc.Listen(rpc.ListenConfig{
			Section:  hs.Section,
			Family:   hs.Family,
			Host:     hs.Host,
			Port:     hs.Port,
			File:     hs.File,
			Chmod:    hs.Chmod,
			ChownUID: hs.ChownUID,
			ChownGID: hs.ChownGID,
			Username: hs.Username,
			Password: hs.Password,

			TLS:       hs.Extras.TLS,
			AllowUIDs: hs.Extras.AllowUIDs,
			AllowGIDs: hs.Extras.AllowGIDs,
			Refused:   func(msg string) { inst.d.log(config.LevelWarn, msg) },
			Routes:    inst.d.routes(hs.Extras),
			Inherited: inst.d.inheritedListener(hs),
		})
		if err != nil {
			for _, l := range inst.listeners {
				l.Close()
			}
			inst.listeners = nil
			if errors.Is(err, rpc.ErrAddressInUse) {
				return &usageError{msg: rpc.ErrAddressInUse.Error()}
			}
			return &usageError{msg: httpServerError(err)}
		}
		inst.listeners = append(inst.listeners, l)
		for _, ri := range inst.cfg.RPCInterfaces {
			if ri.Factory != "supervisor.rpcinterface:make_main_rpcinterface" && !isGosupervisorInterface(ri) {
				inst.mainlog.Log(config.LevelWarn, fmt.Sprintf("RPC interface %s (%s) is not supported; only the supervisor and gosupervisor interfaces are served", pyrepr.Str(ri.Name), ri.Factory))
				continue
			}
			inst.mainlog.Log(config.LevelInfo, fmt.Sprintf("RPC interface %s initialized", pyrepr.Str(ri.Name)))
		}
		if hs.Username == "" {
			inst.mainlog.Log(config.LevelCritical, fmt.Sprintf("Server %s running without any HTTP authentication checking", pyrepr.Str(hs.Section)))
		}
	}
	return nil
}

// serve starts accepting on the opened listeners.
func (inst *instance) serve() {
	for _, l := range inst.listeners {
		go inst.srv.Serve(l)
	}
}

// close ends the run: processes are stopped (if the loop did not already),
// servers closed (unix sockets unlinked), channels flushed and closed.
func (inst *instance) close() {
	shutdownServers(inst.srv, inst.listeners)
	inst.sup.Close()
	inst.mu.Lock()
	defer inst.mu.Unlock()
	for name, chs := range inst.channels {
		for _, ch := range chs {
			ch.Close()
		}
		delete(inst.channels, name)
	}
	for name := range inst.pools {
		inst.d.bus.RemovePool(name)
		delete(inst.pools, name)
	}
}

// reopenLogs is the SIGUSR2 action: the main log and every child log.
func (inst *instance) reopenLogs() {
	if err := inst.mainlog.Reopen(); err != nil {
		inst.mainlog.Log(config.LevelError, "could not reopen the log: "+err.Error())
	}
	inst.mu.Lock()
	defer inst.mu.Unlock()
	for _, chs := range inst.channels {
		for _, ch := range chs {
			if err := ch.Reopen(); err != nil {
				inst.mainlog.Log(config.LevelError, fmt.Sprintf("could not reopen %s: %v", ch.Path(), err))
			}
		}
	}
}

// announce does, for the groups of the config a run starts with, what
// Python does before its main loop: each listener pool subscribes, then the
// group's PROCESS_GROUP_ADDED is published, so pools see the events of the
// groups after them and SUPERVISOR_STATE_CHANGE_RUNNING. The processes are
// added (and autostarted) by addGroup afterwards.
func (inst *instance) announce(groups []*config.Group) {
	for _, g := range groups {
		if g.Kind == config.KindEventListener {
			if err := inst.addPool(g); err != nil {
				inst.mainlog.Log(config.LevelError, fmt.Sprintf("could not add event listener pool %s: %v", g.Name, err))
				continue
			}
		}
		inst.mu.Lock()
		inst.announced[g.Name] = true
		inst.mu.Unlock()
		inst.d.bus.Publish(events.NewGroupEvent(g.Name, true))
	}
}

// addGroup activates a group: its listener pool first (so the listeners'
// first READY is not lost), then the processes, and autostarts them.
func (inst *instance) addGroup(g *config.Group) error {
	start, errs := inst.addGroups([]*config.Group{g})
	start()
	return errs[0]
}

// addGroups activates groups like addGroup, but leaves their autostart
// spawns to start: when it returns, every group that could be added is in
// the process table. errs has one entry per group.
func (inst *instance) addGroups(gs []*config.Group) (start func(), errs []error) {
	errs = make([]error, len(gs))
	var ok []*config.Group
	var at []int
	for i, g := range gs {
		if g.Kind == config.KindEventListener {
			if err := inst.addPool(g); err != nil {
				errs[i] = err
				continue
			}
		}
		ok = append(ok, g)
		at = append(at, i)
	}
	start, added := inst.sup.AddGroupsDeferred(ok)
	for k, err := range added {
		g := ok[k]
		if err != nil {
			inst.groupFailed(g)
			errs[at[k]] = err
			continue
		}
		inst.mu.Lock()
		inst.active = append(inst.active, g)
		inst.mu.Unlock()
	}
	return start, errs
}

// groupFailed undoes what addGroups did for a group procman refused.
func (inst *instance) groupFailed(g *config.Group) {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	delete(inst.announced, g.Name)
	if g.Kind == config.KindEventListener {
		if _, active := inst.activeGroup(g.Name); !active {
			inst.d.bus.RemovePool(g.Name)
			delete(inst.pools, g.Name)
		}
	}
}

func (inst *instance) addPool(g *config.Group) error {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	if _, active := inst.activeGroup(g.Name); active {
		return nil // AddGroup answers ALREADY_ADDED
	}
	if inst.pools[g.Name] != nil {
		return nil // made by announce
	}
	types, err := events.ParseEventTypes(strings.Join(g.Events, ","), "eventlistener:"+g.Name)
	if err != nil {
		return err
	}
	if g.ResultHandler != "" && g.ResultHandler != defaultResultHandler {
		inst.mainlog.Log(config.LevelWarn, fmt.Sprintf("[eventlistener:%s] result_handler %s is not supported; using %s", g.Name, g.ResultHandler, defaultResultHandler))
	}
	var ls []events.Listener
	for _, p := range g.Processes {
		ls = append(ls, stdinListener{inst: inst, name: p.Name, spec: g.Name + ":" + p.Name})
	}
	pool, err := inst.d.bus.AddPool(events.PoolConfig{
		Name:       g.Name,
		Events:     types,
		BufferSize: g.BufferSize,
		Listeners:  ls,
	})
	if err != nil {
		return err
	}
	inst.pools[g.Name] = pool
	return nil
}

// activeGroup finds an active group; inst.mu must be held.
func (inst *instance) activeGroup(name string) (*config.Group, bool) {
	for _, g := range inst.active {
		if g.Name == name {
			return g, true
		}
	}
	return nil, false
}

// removeGroup deactivates a stopped group and releases its logs and pool.
func (inst *instance) removeGroup(name string) error {
	inst.mu.Lock()
	_, ok := inst.activeGroup(name)
	inst.mu.Unlock()
	if !ok {
		return rpc.NewFault(faults.BadName, name)
	}
	if err := inst.sup.RemoveGroup(name); err != nil {
		return err
	}
	inst.mu.Lock()
	defer inst.mu.Unlock()
	for i, g := range inst.active {
		if g.Name == name {
			inst.active = append(inst.active[:i:i], inst.active[i+1:]...)
			for _, p := range g.Processes {
				delete(inst.resolved, p)
			}
			break
		}
	}
	for _, ch := range inst.channels[name] {
		ch.Close()
	}
	delete(inst.channels, name)
	if _, ok := inst.pools[name]; ok {
		inst.d.bus.RemovePool(name)
		delete(inst.pools, name)
	}
	return nil
}

// output is procman's Output hook: it resolves AUTO log names and makes
// the stdout/stderr channels of one process. It runs once per process when
// its group is added, with no procman lock held (procman marks the group as
// being added, so two adds of one group never run it together); it takes
// inst.mu itself.
func (inst *instance) output(g *config.Group, p *config.Process) procman.Output {
	var out procman.Output
	var paths [2]string
	if r := p.Probes.Ready; r != nil && r.Kind == config.CheckLog {
		out.Tap = &procman.OutputTap{}
	}
	inst.mu.Lock()
	defer inst.mu.Unlock()
	for i, channel := range []string{"stdout", "stderr"} {
		lc := p.Stdout
		if channel == "stderr" {
			if p.RedirectStderr {
				continue
			}
			lc = p.Stderr
		}
		path := lc.File
		if kept, ok := inst.d.resolvedLog(g.Name, p.Name, channel); ok && path == config.LogAuto {
			path = kept // an AUTO log keeps its name across an upgrade
		} else if path == config.LogAuto {
			name, err := logrot.AutoName(inst.cfg.Supervisord.Childlogdir, p.Name, inst.cfg.Supervisord.Identifier, channel)
			if err != nil {
				inst.mainlog.Log(config.LevelError, fmt.Sprintf("could not create the AUTO %s log of %s: %v", channel, p.Name, err))
				name = ""
			}
			path = name
		}
		paths[i] = path
		cc := logrot.ChannelConfig{
			ProcessName:     p.Name,
			GroupName:       g.Name,
			Channel:         channel,
			Path:            path,
			MaxBytes:        lc.Maxbytes,
			Backups:         lc.Backups,
			Syslog:          lc.Syslog,
			StripANSI:       inst.cfg.Supervisord.StripANSI,
			CaptureMaxBytes: lc.CaptureMaxbytes,
			EventsEnabled:   lc.EventsEnabled,
			MainLog:         inst.mainlog,
			Compress:        lc.Compress,
			MaxAgeDays:      lc.MaxAgeDays,
			RotateEvery:     lc.RotateEvery,
			Timestamps:      lc.Timestamps,
			CreateAtSpawn:   true,
		}
		if tap, ch := out.Tap, channel; tap != nil {
			cc.OnOutput = func(pid int, data []byte) { tap.Offer(pid, ch, data) }
		}
		listener := g.Kind == config.KindEventListener && channel == "stdout"
		if listener {
			cc.Listener = true
			pool := inst.pools[g.Name]
			name := p.Name
			cc.OnRaw = func(pid int, data []byte) {
				if pool != nil {
					pool.Feed(name, pid, data)
				}
			}
		} else {
			bus, name, group, ch := inst.d.bus, p.Name, g.Name, channel
			cc.OnLog = func(pid int, data []byte) {
				if ev, err := events.NewLogEvent(ch, name, group, pid, data); err == nil {
					bus.Publish(ev)
				}
			}
			cc.OnCommunication = func(pid int, data []byte) {
				if ev, err := events.NewCommunicationEvent(ch, name, group, pid, data); err == nil {
					bus.Publish(ev)
				}
			}
		}
		wrap := func(c *logrot.Channel) procman.OutputSink { return c }
		if pool := inst.pools[g.Name]; listener && pool != nil {
			name := p.Name
			wrap = func(c *logrot.Channel) procman.OutputSink { return listenerSink{ch: c, pool: pool, name: name} }
		}
		var sink procman.OutputSink
		if c, err := inst.hub.NewChannel(cc); err == nil {
			inst.channels[g.Name] = append(inst.channels[g.Name], c)
			sink = wrap(c)
		} else {
			inst.mainlog.Log(config.LevelError, fmt.Sprintf("could not open the %s log of %s: %v", channel, p.Name, err))
			sink = &pendingLog{inst: inst, group: g.Name, cc: cc, wrap: wrap}
		}
		if channel == "stdout" {
			out.Stdout = sink
		} else {
			out.Stderr = sink
		}
	}
	out.StdoutLogfile, out.StderrLogfile = paths[0], paths[1]
	if p.Stdout.File == config.LogAuto || p.Stderr.File == config.LogAuto {
		inst.resolved[p] = paths // getAllConfigInfo shows AUTO names resolved
	}
	return out
}

// pendingLog is a channel whose log file could not be opened when its
// group was added. Every spawn tries to open it again and, until that
// works, fails before the fork, as Python's does when make_dispatchers
// cannot open a log ("unknown error making dispatchers for 'x': EACCES").
type pendingLog struct {
	inst  *instance
	group string
	cc    logrot.ChannelConfig
	wrap  func(*logrot.Channel) procman.OutputSink

	mu   sync.Mutex
	sink procman.OutputSink // set once the file opened
}

// Prepare opens the log (procman.Preparer); it is called with the process
// locked, before each spawn.
func (l *pendingLog) Prepare() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sink == nil {
		c, err := l.inst.hub.NewChannel(l.cc)
		if err != nil {
			return err
		}
		l.inst.mu.Lock()
		l.inst.channels[l.group] = append(l.inst.channels[l.group], c)
		l.inst.mu.Unlock()
		l.sink = l.wrap(c)
	}
	if pr, ok := l.sink.(procman.Preparer); ok {
		return pr.Prepare() // creates the file (CreateAtSpawn)
	}
	return nil
}

// Consume hands the pipe to the opened channel (Prepare succeeded before
// the fork that made it).
func (l *pendingLog) Consume(r *os.File, pid int) {
	l.mu.Lock()
	sink := l.sink
	l.mu.Unlock()
	if sink == nil {
		r.Close()
		return
	}
	sink.Consume(r, pid)
}

// Settle waits for the opened channel's output of pid (procman.Settler).
func (l *pendingLog) Settle(pid int, timeout time.Duration) bool {
	l.mu.Lock()
	sink := l.sink
	l.mu.Unlock()
	if st, ok := sink.(procman.Settler); ok {
		return st.Settle(pid, timeout)
	}
	return true
}

// listenerSink tells the pool a new listener instance started before its
// stdout is read, so its first READY counts.
type listenerSink struct {
	ch   *logrot.Channel
	pool *events.Pool
	name string
}

func (s listenerSink) Consume(r *os.File, pid int) {
	s.pool.ListenerSpawned(s.name, pid)
	s.ch.Consume(r, pid)
}

func (s listenerSink) Settle(pid int, timeout time.Duration) bool { return s.ch.Settle(pid, timeout) }

// Prepare creates the listener's log file before a spawn (procman.Preparer).
func (s listenerSink) Prepare() error { return s.ch.Prepare() }

// stdinListener is an event listener process as its pool sees it.
type stdinListener struct {
	inst *instance
	name string
	spec string
}

func (l stdinListener) Name() string { return l.name }

func (l stdinListener) WriteStdin(data []byte) error {
	if l.inst.stdinHold.write(l.spec, data) {
		return nil
	}
	return l.inst.sup.SendStdin(l.spec, data)
}

// httpServerError is openhttpservers' message for a socket error other
// than EADDRINUSE: "socket.error reported errno.NAME (N)".
func httpServerError(err error) string {
	const help = "Cannot open an HTTP server: socket.error reported"
	var en syscall.Errno
	if errors.As(err, &en) {
		if name, ok := errno.Name(en); ok {
			return fmt.Sprintf("%s errno.%s (%d)", help, name, int(en))
		}
		return fmt.Sprintf("%s %d", help, int(en))
	}
	return "Cannot open an HTTP server: " + err.Error()
}
