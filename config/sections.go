package config

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/pyint"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// getSupervisord is ServerOptions.read_config's get(): [supervisord]
// with here.
func (l *loader) getSupervisord(opt string, def *string) (string, bool, error) {
	e := newExpansions()
	e.setStr("here", l.here)
	return l.saneget("supervisord", opt, def, e, true)
}

func (l *loader) readSupervisord(exps *expansions) error {
	s := &l.cfg.Supervisord
	get := func(opt, def string) (string, error) {
		v, _, err := l.getSupervisord(opt, &def)
		return v, err
	}
	var err error
	var v string
	if s.Minfds, err = optAs(get, "minfds", "1024", integer); err != nil {
		return err
	}
	if s.Minprocs, err = optAs(get, "minprocs", "200", integer); err != nil {
		return err
	}
	dir, ok, err := l.getSupervisord("directory", nil)
	if err != nil {
		return err
	}
	if ok {
		if s.Directory, err = l.fs.existingDirectory(dir); err != nil {
			return err
		}
	}
	userName, hasUser, err := l.getSupervisord("user", nil)
	if err != nil {
		return err
	}
	umask, err := optAs(get, "umask", "022", octalType)
	if err != nil {
		return err
	}
	s.Umask = os.FileMode(umask)
	if s.Logfile, err = optAs(get, "logfile", "supervisord.log", l.fs.existingDirpath); err != nil {
		return err
	}
	if s.LogfileMaxbytes, err = optAs(get, "logfile_maxbytes", "50MB", byteSize); err != nil {
		return err
	}
	if s.LogfileBackups, err = optAs(get, "logfile_backups", "10", integer); err != nil {
		return err
	}
	if err = l.readMainLogOptions(s); err != nil {
		return err
	}
	if s.Loglevel, err = optAs(get, "loglevel", "info", loggingLevel); err != nil {
		return err
	}
	if s.Pidfile, err = optAs(get, "pidfile", "supervisord.pid", l.fs.existingDirpath); err != nil {
		return err
	}
	if s.Identifier, err = get("identifier", "supervisor"); err != nil {
		return err
	}
	for _, b := range []struct {
		opt string
		dst *bool
	}{{"nodaemon", &s.Nodaemon}, {"silent", &s.Silent}} {
		if *b.dst, err = optAs(get, b.opt, "false", boolean); err != nil {
			return err
		}
	}
	if s.Childlogdir, err = optAs(get, "childlogdir", l.opts.TempDir, l.fs.existingDirectory); err != nil {
		return err
	}
	for _, b := range []struct {
		opt string
		dst *bool
	}{{"nocleanup", &s.Nocleanup}, {"strip_ansi", &s.StripANSI}, {"exit_on_fatal", &s.ExitOnFatal}, {"reload_keeps_running", &s.ReloadKeepsRunning}} {
		if *b.dst, err = optAs(get, b.opt, "false", boolean); err != nil {
			return err
		}
	}
	if v, err = get("environment", ""); err != nil {
		return err
	}
	if v, err = expand(v, exps, "environment"); err != nil {
		return err
	}
	if s.Environment, err = dictOfKeyValuePairs(v); err != nil {
		return err
	}
	for _, kv := range s.Environment {
		l.envExp.setStr("ENV_"+kv.Key, kv.Value)
		l.cfg.stickyEnv = l.cfg.stickyEnv.with(kv.Key, kv.Value)
	}
	if hasUser {
		l.cfg.Supervisord.User = &User{Name: userName, UID: -1, GID: -1}
	}
	return nil
}

// knownFactories are the entry points of supervisor itself; any other
// spec in the supervisor package cannot be resolved.
var knownFactories = map[string]bool{
	"supervisor.rpcinterface:make_main_rpcinterface":   true,
	"supervisor.dispatchers:default_handler":           true,
	"supervisor.supervisorctl:DefaultControllerPlugin": true,
}

// resolvable reports whether Python's import_spec could resolve spec. A
// spec outside the supervisor package names a third-party plugin that a Go
// supervisord cannot run; it is accepted and reported by name.
func resolvable(spec string) bool {
	s := pyint.Strip(spec)
	mod, _, _ := strings.Cut(s, ":")
	mod = pyint.Strip(mod)
	if mod == "supervisor" || strings.HasPrefix(mod, "supervisor.") {
		return knownFactories[strings.ReplaceAll(s, " ", "")]
	}
	return s != "" && !strings.ContainsAny(s, "=")
}

func (l *loader) plugins(factoryKey, prefix string) ([]RPCInterface, error) {
	var out []RPCInterface
	for _, section := range l.parser.sectionNames() {
		if !strings.HasPrefix(section, prefix) {
			continue
		}
		name := strings.SplitN(section, ":", 2)[1]
		spec, ok, err := l.saneget(section, factoryKey, nil, nil, true)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errorf("section [" + section + "] does not specify a " + factoryKey)
		}
		if !resolvable(spec) {
			return nil, errorf(spec + " cannot be resolved within [" + section + "]")
		}
		extras := map[string]string{}
		for _, k := range l.parser.options(section) {
			if k == factoryKey {
				continue
			}
			v, _, err := l.saneget(section, k, nil, nil, true)
			if err != nil {
				return nil, err
			}
			extras[k] = v
		}
		out = append(out, RPCInterface{Name: name, Factory: spec, Options: extras})
	}
	return out, nil
}

func (l *loader) readRPCInterfaces() error {
	r, err := l.plugins("supervisor.rpcinterface_factory", "rpcinterface:")
	l.cfg.RPCInterfaces = r
	return err
}

// readCtlPlugins records [ctlplugin:x] sections; supervisord itself never
// reads them, so errors there are supervisorctl's to report.
func (l *loader) readCtlPlugins() {
	for _, section := range l.parser.sectionNames() {
		if !strings.HasPrefix(section, "ctlplugin:") {
			continue
		}
		spec, _, _ := l.saneget(section, "supervisor.ctl_factory", nil, nil, true)
		opts := map[string]string{}
		for _, k := range l.parser.options(section) {
			if k != "supervisor.ctl_factory" {
				v, _, _ := l.saneget(section, k, nil, nil, true)
				opts[k] = v
			}
		}
		l.cfg.CtlPlugins = append(l.cfg.CtlPlugins, CtlPlugin{
			Name: strings.SplitN(section, ":", 2)[1], Factory: spec, Options: opts})
	}
}

// builtinEvents are supervisor.events.EventTypes.
var builtinEvents = map[string]bool{
	"EVENT": true, "PROCESS_COMMUNICATION": true, "PROCESS_COMMUNICATION_STDERR": true,
	"PROCESS_COMMUNICATION_STDOUT": true, "PROCESS_GROUP": true, "PROCESS_GROUP_ADDED": true,
	"PROCESS_GROUP_REMOVED": true, "PROCESS_LOG": true, "PROCESS_LOG_STDERR": true,
	"PROCESS_LOG_STDOUT": true, "PROCESS_STATE": true, "PROCESS_STATE_BACKOFF": true,
	"PROCESS_STATE_EXITED": true, "PROCESS_STATE_FATAL": true, "PROCESS_STATE_RUNNING": true,
	"PROCESS_STATE_STARTING": true, "PROCESS_STATE_STOPPED": true, "PROCESS_STATE_STOPPING": true,
	"PROCESS_STATE_UNKNOWN": true, "REMOTE_COMMUNICATION": true, "SUPERVISOR_STATE_CHANGE": true,
	"SUPERVISOR_STATE_CHANGE_RUNNING": true, "SUPERVISOR_STATE_CHANGE_STOPPING": true,
	"TICK": true, "TICK_3600": true, "TICK_5": true, "TICK_60": true,
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// groupGet is process_groups_from_parser's get(): with here.
func (l *loader) groupGet(section, opt string, def *string) (string, bool, error) {
	// {here} is the same for every section and saneget only reads it:
	// built once, not per option (a map per call was 2.6 MB at 6,000
	// programs).
	if l.hereExp == nil || l.hereExpFor != l.here {
		l.hereExp = newExpansions()
		l.hereExp.setStr("here", l.here)
		l.hereExpFor = l.here
	}
	return l.saneget(section, opt, def, l.hereExp, true)
}

func (l *loader) priority(section, def string) (int, error) {
	v, _, err := l.groupGet(section, "priority", &def)
	if err != nil {
		return 0, err
	}
	return integer(v)
}

func (l *loader) processGroups() ([]*Group, error) {
	var groups []*Group
	all := l.parser.sectionNames()
	var exclude []string

	for _, section := range all {
		if !strings.HasPrefix(section, "group:") {
			continue
		}
		name, err := processOrGroupName(strings.SplitN(section, ":", 2)[1])
		if err != nil {
			return nil, err
		}
		progs, _, err := l.groupGet(section, "programs", nil)
		if err != nil {
			return nil, err
		}
		prio, err := l.priority(section, "999")
		if err != nil {
			return nil, err
		}
		g := &Group{Name: name, Kind: KindProgram, Priority: prio}
		// Python reuses the loop variable "section" for the member's
		// section, so later messages name the previous member.
		msgSection := section
		for _, prog := range listOfStrings(progs) {
			ps, fs := "program:"+prog, "fcgi-program:"+prog
			hasP, hasF := contains(all, ps), contains(all, fs)
			if !hasP && !hasF {
				return nil, errorf("[" + msgSection + "] names unknown program or fcgi-program " + prog)
			}
			if hasP && hasF {
				return nil, errorf("[" + msgSection + "] name " + prog + " is ambiguous (exists as program and fcgi-program)")
			}
			msgSection = fs
			if hasP {
				msgSection = ps
			}
			exclude = append(exclude, msgSection)
			procs, err := l.processesFromSection(msgSection, name)
			if err != nil {
				return nil, err
			}
			g.Processes = append(g.Processes, procs...)
		}
		groups = append(groups, g)
	}

	for _, section := range all {
		if !strings.HasPrefix(section, "program:") || contains(exclude, section) {
			continue
		}
		name, err := processOrGroupName(strings.SplitN(section, ":", 2)[1])
		if err != nil {
			return nil, err
		}
		prio, err := l.priority(section, "999")
		if err != nil {
			return nil, err
		}
		procs, err := l.processesFromSection(section, name)
		if err != nil {
			return nil, err
		}
		groups = append(groups, &Group{Name: name, Kind: KindProgram, Priority: prio, Processes: procs})
	}

	for _, section := range all {
		if !strings.HasPrefix(section, "eventlistener:") {
			continue
		}
		name := strings.SplitN(section, ":", 2)[1]
		prio, err := l.priority(section, "-1")
		if err != nil {
			return nil, err
		}
		v, _, err := l.groupGet(section, "buffer_size", str("10"))
		if err != nil {
			return nil, err
		}
		bufSize, err := integer(v)
		if err != nil {
			return nil, err
		}
		if bufSize < 1 {
			return nil, errorf(fmt.Sprintf("[%s] section sets invalid buffer_size (%d)", section, bufSize))
		}
		handler, _, err := l.groupGet(section, "result_handler", str("supervisor.dispatchers:default_handler"))
		if err != nil {
			return nil, err
		}
		if !resolvable(handler) {
			return nil, errorf(handler + " cannot be resolved within [" + section + "]")
		}
		v, _, err = l.groupGet(section, "events", str(""))
		if err != nil {
			return nil, err
		}
		var events []string
		for _, e := range listOfStrings(v) {
			e = strings.ToUpper(e)
			if !contains(events, e) {
				events = append(events, e)
			}
		}
		if len(events) == 0 {
			return nil, errorf("[" + section + "] section requires an \"events\" line")
		}
		for _, e := range events {
			if !builtinEvents[e] {
				return nil, errorf("Unknown event type " + e + " in [" + section + "] events")
			}
		}
		sort.Strings(events)
		v, _, err = l.groupGet(section, "redirect_stderr", str("false"))
		if err != nil {
			return nil, err
		}
		redirect, err := boolean(v)
		if err != nil {
			return nil, err
		}
		if redirect {
			return nil, errorf("[" + section + "] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol")
		}
		procs, err := l.processesFromSection(section, name)
		if err != nil {
			return nil, err
		}
		groups = append(groups, &Group{Name: name, Kind: KindEventListener, Priority: prio,
			Processes: procs, BufferSize: bufSize, Events: events, ResultHandler: handler})
	}

	for _, section := range all {
		if !strings.HasPrefix(section, "fcgi-program:") || contains(exclude, section) {
			continue
		}
		g, err := l.fcgiGroup(section)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}

	sort.SliceStable(groups, func(i, j int) bool {
		if groups[i].Priority != groups[j].Priority {
			return groups[i].Priority < groups[j].Priority
		}
		return groups[i].Name < groups[j].Name
	})
	return groups, nil
}

func (l *loader) fcgiGroup(section string) (*Group, error) {
	name, err := processOrGroupName(strings.SplitN(section, ":", 2)[1])
	if err != nil {
		return nil, err
	}
	prio, err := l.priority(section, "999")
	if err != nil {
		return nil, err
	}
	fe := newExpansions()
	fe.setStr("program_name", name)
	procUID := -1
	u, ok, err := l.groupGet(section, "user", nil)
	if err != nil {
		return nil, err
	}
	if ok {
		if procUID, err = nameToUID(u); err != nil {
			return nil, err
		}
	}
	sock := &FCGISocket{OwnerUID: -1, OwnerGID: -1}
	backlog, ok, err := l.groupGet(section, "socket_backlog", nil)
	if err != nil {
		return nil, err
	}
	if ok {
		if sock.Backlog, err = integer(backlog); err != nil {
			return nil, err
		}
		if sock.Backlog < 1 || sock.Backlog > 65535 {
			return nil, errorf(fmt.Sprintf("Invalid socket_backlog value %d", sock.Backlog))
		}
	}
	owner, hasOwner, err := l.groupGet(section, "socket_owner", nil)
	if err != nil {
		return nil, err
	}
	if hasOwner {
		if sock.OwnerUID, sock.OwnerGID, err = colonSeparatedUserGroup(owner); err != nil {
			return nil, errorf("Invalid socket_owner value " + owner)
		}
	}
	mode, hasMode, err := l.groupGet(section, "socket_mode", nil)
	if err != nil {
		return nil, err
	}
	if hasMode {
		m, err := octalType(mode)
		if err != nil {
			return nil, errorf("Invalid socket_mode value " + mode)
		}
		sock.Mode = os.FileMode(m)
	}
	fe.setStr("here", l.here)
	url, _, err := l.saneget(section, "socket", nil, fe, true)
	if err != nil {
		return nil, err
	}
	if url == "" {
		return nil, errorf("[" + section + "] section requires a \"socket\" line")
	}
	if err := l.parseFCGISocket(url, procUID, hasOwner, hasMode, sock); err != nil {
		return nil, errorf(err.Error() + " in [" + section + "] socket")
	}
	procs, err := l.processesFromSection(section, name)
	if err != nil {
		return nil, err
	}
	return &Group{Name: name, Kind: KindFastCGI, Priority: prio, Processes: procs, Socket: sock}, nil
}

// parseFCGISocket is ServerOptions.parse_fcgi_socket; its messages keep
// Python's two-argument ValueError shape.
func (l *loader) parseFCGISocket(url string, procUID int, hasOwner, hasMode bool, sock *FCGISocket) error {
	if strings.HasPrefix(url, "unix://") {
		path := url[7:]
		if !strings.HasPrefix(path, "/") {
			return errorf("('Unix socket path %s is not an absolute path', " + pyrepr.Str(path) + ")")
		}
		path = l.fs.normalizePath(path)
		if !hasOwner && procUID >= 0 && procUID != l.uid {
			sock.OwnerUID, sock.OwnerGID = procUID, gidForUID(procUID)
		}
		if !hasMode {
			sock.Mode = 0o700
		}
		sock.URL = "unix://" + path
		return nil
	}
	if hasOwner || hasMode {
		return errorf("socket_owner and socket_mode params should only be used with a Unix domain socket")
	}
	if rest, ok := strings.CutPrefix(url, "tcp://"); ok {
		i := strings.LastIndexByte(rest, ':')
		if i > 0 {
			host, port := rest[:i], rest[i+1:]
			okHost := !strings.ContainsFunc(host, func(r rune) bool { return r == ':' || pyint.IsSpace(r) })
			okPort := port != "" && strings.Trim(port, "0123456789") == ""
			if okHost && okPort {
				p, err := portNumber(port)
				if err != nil {
					return err
				}
				sock.URL = fmt.Sprintf("tcp://%s:%d", strings.ToLower(host), p)
				return nil
			}
		}
	}
	return errorf("('Bad socket format %s', " + pyrepr.Str(url) + ")")
}
