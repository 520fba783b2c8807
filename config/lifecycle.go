package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/internal/pyint"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// Lifecycle holds the issue-13 keys of a [program:x], [fcgi-program:x] or
// [eventlistener:x] section that shape a process's life beyond Python's
// options: dependencies, restart policy, daemon exit, env files and
// resource limits. Python 4.2.5 ignores these keys; every zero value means
// "behave as Python does".
type Lifecycle struct {
	// DependsOn lists depends_on as written (expanded): "name",
	// "group:name" or "group:*". Load checks that each names an existing
	// process or group and that there is no cycle.
	DependsOn []string
	// RestartDelay is restart_delay, seconds before an autorestart of a
	// process that exited from RUNNING.
	RestartDelay int
	// RestartBackoffMax is restart_backoff_max (seconds, 0 = off).
	RestartBackoffMax int
	// RestartBackoffReset is restart_backoff_reset (seconds, default 60).
	RestartBackoffReset int
	// FatalRetryAfter is fatal_retry_after (seconds, 0 = never).
	FatalRetryAfter int
	// ExitOnFatal is exit_on_fatal, defaulting to [supervisord]'s.
	ExitOnFatal bool
	// ExitOnExit is exit_on_exit.
	ExitOnExit bool
	// EnvFiles is env_file, paths as written (expanded, ~ expanded).
	EnvFiles []string
	// Rlimits is rlimits, in the order written (a later entry for the
	// same resource replaces an earlier one).
	Rlimits []Rlimit
}

// Rlimit is one rlimits entry: a resource limit set in the child before
// it execs.
type Rlimit struct {
	Name string // as, core, cpu, data, fsize, memlock, nofile, nproc, rss, stack
	Soft uint64 // RlimInfinity for "unlimited"
	Hard uint64
}

// RlimInfinity is an "unlimited" rlimit value (RLIM_INFINITY).
const RlimInfinity = ^uint64(0)

// RlimitNames are the resource names rlimits accepts.
var RlimitNames = []string{"as", "core", "cpu", "data", "fsize", "memlock", "nofile", "nproc", "rss", "stack"}

// String renders the entry as rlimits= takes it.
func (r Rlimit) String() string {
	v := func(n uint64) string {
		if n == RlimInfinity {
			return "unlimited"
		}
		return strconv.FormatUint(n, 10)
	}
	if r.Soft == r.Hard {
		return r.Name + "=" + v(r.Soft)
	}
	return r.Name + "=" + v(r.Soft) + ":" + v(r.Hard)
}

func (c Lifecycle) equal(o Lifecycle) bool {
	return slices.Equal(c.DependsOn, o.DependsOn) && c.RestartDelay == o.RestartDelay &&
		c.RestartBackoffMax == o.RestartBackoffMax && c.RestartBackoffReset == o.RestartBackoffReset &&
		c.FatalRetryAfter == o.FatalRetryAfter && c.ExitOnFatal == o.ExitOnFatal &&
		c.ExitOnExit == o.ExitOnExit && slices.Equal(c.EnvFiles, o.EnvFiles) &&
		slices.Equal(c.Rlimits, o.Rlimits)
}

// optionError names the option a bad value came from; the caller adds the
// section and file.
func optionError(opt, value string, err error) error {
	return errorf(fmt.Sprintf("invalid %s value %s: %v", opt, pyrepr.Str(value), err))
}

// lifecycle reads the issue-13 keys of a process section. get is the
// section's expanding getter with its default.
func (l *loader) lifecycle(get func(opt, def string) (string, error)) (Lifecycle, error) {
	var c Lifecycle
	v, err := get("depends_on", "")
	if err != nil {
		return c, err
	}
	for _, d := range listOfStrings(v) {
		if d == "" {
			return c, optionError("depends_on", v, fmt.Errorf("empty name"))
		}
		c.DependsOn = append(c.DependsOn, d)
	}
	secs := []struct {
		opt, def string
		dst      *int
	}{
		{"restart_delay", "0", &c.RestartDelay},
		{"restart_backoff_max", "0", &c.RestartBackoffMax},
		{"restart_backoff_reset", "60", &c.RestartBackoffReset},
		{"fatal_retry_after", "0", &c.FatalRetryAfter},
	}
	for _, s := range secs {
		if v, err = get(s.opt, s.def); err != nil {
			return c, err
		}
		n, err := integer(v)
		if err == nil && n < 0 {
			err = fmt.Errorf("must not be negative")
		}
		if err != nil {
			return c, optionError(s.opt, v, err)
		}
		*s.dst = n
	}
	def := "false"
	if l.cfg.Supervisord.ExitOnFatal {
		def = "true"
	}
	for _, b := range []struct {
		opt, def string
		dst      *bool
	}{{"exit_on_fatal", def, &c.ExitOnFatal}, {"exit_on_exit", "false", &c.ExitOnExit}} {
		if v, err = get(b.opt, b.def); err != nil {
			return c, err
		}
		if *b.dst, err = boolean(v); err != nil {
			return c, optionError(b.opt, v, err)
		}
	}
	if v, err = get("env_file", ""); err != nil {
		return c, err
	}
	for _, f := range listOfStrings(v) {
		if f == "" {
			return c, optionError("env_file", v, fmt.Errorf("empty path"))
		}
		c.EnvFiles = append(c.EnvFiles, l.fs.expandUser(f))
	}
	if v, err = get("rlimits", ""); err != nil {
		return c, err
	}
	if c.Rlimits, err = parseRlimits(v); err != nil {
		return c, optionError("rlimits", v, err)
	}
	return c, nil
}

// parseRlimits parses "nofile=65536, core=0, nproc=512:1024": NAME=SOFT
// sets both limits, NAME=SOFT:HARD each; "unlimited" is RLIM_INFINITY.
func parseRlimits(s string) ([]Rlimit, error) {
	var out []Rlimit
	for _, item := range listOfStrings(s) {
		name, val, ok := strings.Cut(item, "=")
		name = strings.ToLower(pyint.Strip(name))
		if !ok {
			return nil, fmt.Errorf("%s is not NAME=SOFT[:HARD]", pyrepr.Str(item))
		}
		if !slices.Contains(RlimitNames, name) {
			return nil, fmt.Errorf("unknown resource %s (one of %s)", pyrepr.Str(name), strings.Join(RlimitNames, ", "))
		}
		softText, hardText, hasHard := strings.Cut(val, ":")
		soft, err := rlimitValue(softText)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		hard := soft
		if hasHard {
			if hard, err = rlimitValue(hardText); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		if soft > hard {
			return nil, fmt.Errorf("%s: soft limit %s is above the hard limit %s", name, pyint.Strip(softText), pyint.Strip(hardText))
		}
		r := Rlimit{Name: name, Soft: soft, Hard: hard}
		out = slices.DeleteFunc(out, func(o Rlimit) bool { return o.Name == name })
		out = append(out, r)
	}
	return out, nil
}

func rlimitValue(s string) (uint64, error) {
	s = pyint.Strip(s)
	if strings.EqualFold(s, "unlimited") || strings.EqualFold(s, "infinity") {
		return RlimInfinity, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == RlimInfinity {
		return 0, fmt.Errorf("%s is not a number or \"unlimited\"", pyrepr.Str(s))
	}
	return n, nil
}

// DependencyTargets resolves one depends_on entry against groups: "g:p"
// is that process, "g:" and "g:*" every process of group g, a plain name
// every process so named, else every process of the group so named. It
// returns nil when nothing matches.
func DependencyTargets(groups []*Group, spec string) []*Process {
	var out []*Process
	if strings.Contains(spec, ":") {
		gname, pname := namespec.Split(spec)
		for _, g := range groups {
			if g.Name != gname {
				continue
			}
			for _, p := range g.Processes {
				if pname == "" || p.Name == pname {
					out = append(out, p)
				}
			}
		}
		return out
	}
	for _, g := range groups {
		for _, p := range g.Processes {
			if p.Name == spec {
				out = append(out, p)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, g := range groups {
		if g.Name == spec {
			out = append(out, g.Processes...)
		}
	}
	return out
}

// checkDependencies rejects depends_on entries that name nothing and
// dependency cycles, naming the section, file and the cycle's chain.
func (l *loader) checkDependencies(groups []*Group) error {
	groupOf := map[*Process]*Group{}
	for _, g := range groups {
		for _, p := range g.Processes {
			groupOf[p] = g
		}
	}
	label := func(p *Process) string {
		if g := groupOf[p]; g != nil {
			return namespec.Make(g.Name, p.Name)
		}
		return p.Name
	}
	where := func(p *Process) string {
		file, ok := l.parser.sectionToFile[p.Section]
		if !ok {
			file = l.configfile
		}
		return " in section " + pyrepr.Str(p.Section) + " (file: " + pyrepr.Str(file) + ")"
	}
	edges := map[*Process][]*Process{}
	for _, g := range groups {
		for _, p := range g.Processes {
			for _, d := range p.DependsOn {
				ts := DependencyTargets(groups, d)
				if len(ts) == 0 {
					return errorf("depends_on names unknown program " + pyrepr.Str(d) + where(p))
				}
				for _, t := range ts {
					if t == p {
						return errorf("depends_on cycle: " + label(p) + " -> " + label(p) + where(p))
					}
					if !slices.Contains(edges[p], t) {
						edges[p] = append(edges[p], t)
					}
				}
			}
		}
	}
	const (
		unseen = iota
		onPath
		done
	)
	mark := map[*Process]int{}
	var path []*Process
	var visit func(p *Process) error
	visit = func(p *Process) error {
		mark[p] = onPath
		path = append(path, p)
		for _, d := range edges[p] {
			switch mark[d] {
			case onPath:
				i := slices.Index(path, d)
				var names []string
				for _, q := range path[i:] {
					names = append(names, label(q))
				}
				names = append(names, label(d))
				return errorf("depends_on cycle: " + strings.Join(names, " -> ") + where(d))
			case unseen:
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		path = path[:len(path)-1]
		mark[p] = done
		return nil
	}
	for _, g := range groups {
		for _, p := range g.Processes {
			if mark[p] == unseen {
				if err := visit(p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
