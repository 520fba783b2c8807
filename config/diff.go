package config

import (
	"slices"
	"sort"
)

// Diff compares the active configuration old with a newly read one the
// way supervisord's diff_to_active (behind the reloadConfig RPC) does, and
// returns group names: added (in new's order), changed (in new's order)
// and removed (in old's order). A log file that is AUTO on either side is
// left out of the comparison, as Python skips Automatic values. A nil
// config has no groups. The slices are never nil.
func Diff(old, new *Config) (added, changed, removed []string) {
	if old == nil {
		old = &Config{}
	}
	if new == nil {
		new = &Config{}
	}
	oldByName := map[string]*Group{}
	for _, g := range old.Groups {
		oldByName[g.Name] = g
	}
	newByName := map[string]*Group{}
	for _, g := range new.Groups {
		newByName[g.Name] = g
	}
	added, changed, removed = []string{}, []string{}, []string{}
	for _, g := range new.Groups {
		o, ok := oldByName[g.Name]
		if !ok {
			added = append(added, g.Name)
		} else if !g.Equal(o) {
			changed = append(changed, g.Name)
		}
	}
	for _, g := range old.Groups {
		if _, ok := newByName[g.Name]; !ok {
			removed = append(removed, g.Name)
		}
	}
	return added, changed, removed
}

// Equal reports whether two group configs are equal as Python's
// ProcessGroupConfig, EventListenerPoolConfig and FastCGIGroupConfig
// __eq__ methods decide.
func (g *Group) Equal(o *Group) bool {
	if g.Kind != o.Kind || g.Name != o.Name || g.Priority != o.Priority {
		return false
	}
	if len(g.Processes) != len(o.Processes) {
		return false
	}
	for i := range g.Processes {
		if !g.Processes[i].Equal(o.Processes[i]) {
			return false
		}
	}
	switch g.Kind {
	case KindEventListener:
		a, b := slices.Clone(g.Events), slices.Clone(o.Events)
		sort.Strings(a)
		sort.Strings(b)
		return g.BufferSize == o.BufferSize && slices.Equal(a, b) && g.ResultHandler == o.ResultHandler
	case KindFastCGI:
		if (g.Socket == nil) != (o.Socket == nil) {
			return false
		}
		return g.Socket == nil || g.Socket.URL == o.Socket.URL
	}
	return true
}

// Equal is ProcessConfig.__eq__: every option compared, a log file that
// is AUTO on either side skipped.
func (p *Process) Equal(o *Process) bool {
	uid := func(u *User) int {
		if u == nil {
			return -1
		}
		return u.UID
	}
	umask := func(m *uint32) int64 {
		if m == nil {
			return -1
		}
		return int64(*m)
	}
	var pm, om *uint32
	if p.Umask != nil {
		v := uint32(*p.Umask)
		pm = &v
	}
	if o.Umask != nil {
		v := uint32(*o.Umask)
		om = &v
	}
	if p.Name != o.Name || uid(p.User) != uid(o.User) || p.Command != o.Command ||
		p.Directory != o.Directory || umask(pm) != umask(om) || p.Priority != o.Priority ||
		p.Autostart != o.Autostart || p.Autorestart != o.Autorestart ||
		p.Startsecs != o.Startsecs || p.Startretries != o.Startretries ||
		p.Stopsignal != o.Stopsignal || p.Stopwaitsecs != o.Stopwaitsecs ||
		p.Stopasgroup != o.Stopasgroup || p.Killasgroup != o.Killasgroup ||
		!slices.Equal(p.Exitcodes, o.Exitcodes) || p.RedirectStderr != o.RedirectStderr ||
		p.ServerURL != o.ServerURL || !p.Stdout.equal(o.Stdout) || !p.Stderr.equal(o.Stderr) {
		return false
	}
	return envEqual(p.Environment, o.Environment) && p.Lifecycle.equal(o.Lifecycle) && p.Probes.Equal(o.Probes)
}

func (c LogConfig) equal(o LogConfig) bool {
	if c.File != o.File && c.File != LogAuto && o.File != LogAuto {
		return false
	}
	return c.Maxbytes == o.Maxbytes && c.Backups == o.Backups &&
		c.CaptureMaxbytes == o.CaptureMaxbytes && c.EventsEnabled == o.EventsEnabled &&
		c.Syslog == o.Syslog && c.Timestamps == o.Timestamps && c.Compress == o.Compress &&
		c.MaxAgeDays == o.MaxAgeDays && c.RotateEvery == o.RotateEvery
}

// envEqual compares as Python dicts do: order does not matter.
func envEqual(a, b Environment) bool {
	if len(a) != len(b) {
		return false
	}
	for _, kv := range a {
		v, ok := b.Get(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}
