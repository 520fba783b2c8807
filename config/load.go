// Package config owns supervisord.conf: it finds, reads, expands and
// validates a configuration (with its [include] files) exactly as
// supervisord 4.2.5's ServerOptions does, giving Python's error texts and
// startup messages, and computes the group diff that reloadConfig reports.
// It also owns supervisord's log levels (LogLevel: supervisor.loggers'
// numbers, line names and loglevel values), which the daemon's packages
// log with.
package config

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/pyint"
)

// Error is a configuration error. Error() is Python's message, without the
// "Error: " prefix supervisord's usage() adds.
type Error struct {
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// LoadOptions is the process context a load sees. Zero values mean "this
// process's own".
type LoadOptions struct {
	// Environ is supervisord's environment as KEY=value strings, in
	// os.Environ() order (ENV_ expansions, $HOME for ~, $TMPDIR).
	Environ []string
	// Hostname is %(host_node_name)s (Python's platform.node()).
	Hostname string
	// Cwd resolves relative paths (Python uses the process's cwd).
	Cwd string
	// TempDir is the default childlogdir (tempfile.gettempdir()); by
	// default computed from Environ as Python does.
	TempDir string
	// Overrides are the supervisord command line options; nil for none.
	Overrides *Overrides
	// Reread reads the file as the reloadConfig RPC does
	// (ServerOptions.process_config without realize): the groups and
	// servers are the same, but [supervisord] is left as read (no
	// command line overrides, no user lookup, paths not made absolute,
	// ServerURL not computed), so e.g. an unknown [supervisord] user is
	// not an error, as in Python.
	Reread bool
	// Previous is the config the daemon runs when rereading: Python keeps
	// the ENV_ expansions of every earlier [supervisord] environment= line
	// across rereads (its expansion dict is never reset), so a removed key
	// still expands. Used only with Reread.
	Previous *Config
}

type loader struct {
	opts       LoadOptions
	fs         fsEnv
	configfile string
	here       string
	hostname   string
	envExp     *expansions // ServerOptions.environ_expansions (mutated)
	osEnvExp   *expansions // ENV_ of the process environment only
	parser     *iniFile
	cfg        *Config
	uid        int
	maxProcs   int         // > 0: fail past this many processes in a section (fuzzing)
	hereExp    *expansions // {here: hereExpFor} for groupGet, read only
	hereExpFor string
}

// Load reads the configuration file at path (as given with -c, or as Find
// returned it) and everything it includes.
func Load(path string, opts LoadOptions) (cfg *Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			cfg, err = nil, fmt.Errorf("config: internal error reading %s: %v", path, r)
		}
	}()
	l, err := newLoader(opts)
	if err != nil {
		return nil, err
	}
	return l.load(path)
}

func newLoader(opts LoadOptions) (*loader, error) {
	if opts.Environ == nil {
		opts.Environ = os.Environ()
	}
	if opts.Hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("config: hostname: %w", err)
		}
		opts.Hostname = h
	}
	if opts.Cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("config: working directory: %w", err)
		}
		opts.Cwd = wd
	}
	l := &loader{opts: opts, hostname: opts.Hostname, envExp: newExpansions(), uid: os.Getuid()}
	home := ""
	for _, kv := range opts.Environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		l.envExp.setStr("ENV_"+k, v)
		if k == "HOME" {
			home = v
		}
	}
	l.osEnvExp = l.envExp.clone()
	if opts.Reread && opts.Previous != nil {
		for _, kv := range opts.Previous.stickyEnv {
			l.envExp.setStr("ENV_"+kv.Key, kv.Value)
		}
	}
	l.fs = fsEnv{cwd: opts.Cwd, home: home, dirs: map[string]bool{}}
	if l.opts.TempDir == "" {
		l.opts.TempDir = l.gettempdir()
	}
	return l, nil
}

// gettempdir is tempfile.gettempdir() for the given environment.
func (l *loader) gettempdir() string {
	var cands []string
	for _, name := range []string{"TMPDIR", "TEMP", "TMP"} {
		for _, kv := range l.opts.Environ {
			if k, v, _ := strings.Cut(kv, "="); k == name && v != "" {
				cands = append(cands, v)
			}
		}
	}
	cands = append(cands, "/tmp", "/var/tmp", "/usr/tmp", l.opts.Cwd)
	for _, c := range cands {
		if l.fs.isDir(c) {
			return l.fs.normalizePath(c)
		}
	}
	return l.opts.Cwd
}

// saneget is UnhosedConfigParser.saneget. def is the default (nil: None);
// extra are the call's own expansions.
func (l *loader) saneget(section, option string, def *string, extra expLookup, doExpand bool) (string, bool, error) {
	v, ok := l.parser.get(section, option)
	if !ok {
		if def == nil {
			return "", false, nil
		}
		v = *def
	}
	if doExpand && strings.Contains(v, "%") {
		if extra == nil || extra == (*expansions)(nil) {
			extra = newExpansions()
		}
		out, err := expand(v, expView{base: l.envExp, top: extra}, section+"."+option)
		if err != nil {
			return "", false, err
		}
		v = out
	}
	return v, true, nil
}

func str(s string) *string { return &s }

func (l *loader) load(path string) (*Config, error) {
	l.configfile = path
	l.here = l.fs.abspath(pyDirname(path))
	cfg := &Config{Path: path, Here: l.here}
	if l.opts.Reread && l.opts.Previous != nil {
		cfg.stickyEnv = append(cfg.stickyEnv, l.opts.Previous.stickyEnv...)
	}
	l.cfg = cfg
	if err := l.readConfig(path); err != nil {
		return nil, err
	}
	if l.opts.Reread {
		return cfg, nil
	}
	if err := l.realize(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (l *loader) readFile(path string) (string, error) {
	if !l.fs.exists(path) {
		return "", errorf("could not find config file " + path)
	}
	b, err := os.ReadFile(l.fs.abs(path))
	if err != nil {
		return "", errorf("could not read config file " + path)
	}
	return string(b), nil
}

func (l *loader) readConfig(path string) error {
	text, err := l.readFile(path)
	if err != nil {
		return err
	}
	l.parser = newIniFile()
	if err := l.parser.read(text, path); err != nil {
		return err
	}
	// supervisorctl reads this file alone, without its includes: keep
	// its sections as they are now rather than parse the file again.
	mainOnly := l.parser.only("supervisorctl")
	exps := newExpansions()
	exps.setStr("here", l.here)
	exps.setStr("host_node_name", l.hostname)
	exps.update(l.envExp)
	if l.parser.hasSection("include") {
		if err := l.readIncludes(path, exps); err != nil {
			return err
		}
	}
	if !l.parser.hasSection("supervisord") {
		return errorf(".ini file does not include supervisord section")
	}
	if err := l.readSupervisord(exps); err != nil {
		return err
	}
	if err := l.readRPCInterfaces(); err != nil {
		return err
	}
	groups, err := l.processGroups()
	if err != nil {
		return err
	}
	for _, g := range groups {
		for _, p := range g.Processes {
			var env Environment
			for _, kv := range l.cfg.Supervisord.Environment {
				env = env.with(kv.Key, kv.Value)
			}
			for _, kv := range p.Environment {
				env = env.with(kv.Key, kv.Value)
			}
			p.Environment = env
		}
	}
	if err := l.checkDependencies(groups); err != nil {
		return err
	}
	l.cfg.Groups = groups
	servers, err := l.serverConfigs()
	if err != nil {
		return err
	}
	l.cfg.HTTPServers = servers
	l.readCtlPlugins()
	if l.parser.hasSection("supervisorctl") {
		if ctl, err := readCtlParsed(mainOnly, path, l.fs, l.osEnvExp); err == nil {
			l.cfg.Supervisorctl = ctl
		}
	}
	return nil
}

func (l *loader) readIncludes(path string, exps *expansions) error {
	l.parser.expandHere(l.here)
	files, ok := l.parser.get("include", "files")
	if !ok {
		return errorf(".ini file has [include] section, but no files setting")
	}
	files, err := expand(files, exps, "include.files")
	if err != nil {
		return err
	}
	base := pyDirname(l.fs.abspath(path))
	for _, pattern := range strings.FieldsFunc(files, pyint.IsSpace) {
		pattern = pyJoin(base, pattern)
		filenames := pyGlob(pattern)
		if len(filenames) == 0 {
			l.cfg.Warnings = append(l.cfg.Warnings, "No file matches via include \""+pattern+"\"")
			continue
		}
		sort.Strings(filenames)
		for _, fn := range filenames {
			l.cfg.Infos = append(l.cfg.Infos, "Included extra file \""+fn+"\" during parsing")
			b, err := os.ReadFile(fn)
			if err == nil {
				if err := l.parser.readSource(string(b), fn); err != nil {
					return err
				}
			}
			l.parser.expandHere(l.fs.abspath(pyDirname(fn)))
		}
	}
	return nil
}
