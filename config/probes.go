package config

import (
	"math"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/pyint"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// This file reads the readiness, health check and memory limit options of
// issue 13 (ready, healthcheck, memory_max and their timings). Python
// 4.2.5 ignores these keys, so a config using them still loads there.

// Probes are a process's readiness, health and memory options. The zero
// value (no key set) means none of them.
type Probes struct {
	Ready               *Check        // nil: no ready check
	ReadyTimeout        time.Duration // ready_timeout, default 60 s
	ReadyInterval       time.Duration // ready_interval, default 1 s
	Healthcheck         *Check        // nil: no health check
	HealthcheckInterval time.Duration // healthcheck_interval, default 10 s
	HealthcheckTimeout  time.Duration // healthcheck_timeout, default 5 s
	HealthcheckRetries  int           // healthcheck_retries, default 3
	MemoryMax           int64         // memory_max in bytes, 0: no limit
	MemoryCheckInterval time.Duration // memory_check_interval, default 5 s
}

// CheckKind is the kind of a ready or health check.
type CheckKind int

// The check kinds.
const (
	CheckTCP    CheckKind = iota + 1 // tcp://HOST:PORT: a connect succeeds
	CheckHTTP                        // http://HOST:PORT/PATH: a 2xx or 3xx answer
	CheckHTTPS                       // https://...: the same over TLS
	CheckExec                        // exec:COMMAND: the command exits 0
	CheckLog                         // log:REGEX: a line of stdout or stderr matches (ready only)
	CheckNotify                      // notify: READY=1 on $NOTIFY_SOCKET (ready only)
)

// Check is one parsed ready= or healthcheck= value.
type Check struct {
	Kind    CheckKind
	Spec    string         // the value as configured (expanded, stripped)
	Addr    string         // tcp, http, https: host:port to connect to
	URL     string         // http, https: the URL to GET
	Command string         // exec: the command line, split and resolved like command= at each run
	Pattern *regexp.Regexp // log
}

// Equal compares two checks by their configured text.
func (c *Check) Equal(o *Check) bool {
	if c == nil || o == nil {
		return c == o
	}
	return c.Spec == o.Spec
}

// Equal reports whether two Probes are the same configuration.
func (p Probes) Equal(o Probes) bool {
	return p.Ready.Equal(o.Ready) && p.ReadyTimeout == o.ReadyTimeout &&
		p.ReadyInterval == o.ReadyInterval && p.Healthcheck.Equal(o.Healthcheck) &&
		p.HealthcheckInterval == o.HealthcheckInterval && p.HealthcheckTimeout == o.HealthcheckTimeout &&
		p.HealthcheckRetries == o.HealthcheckRetries && p.MemoryMax == o.MemoryMax &&
		p.MemoryCheckInterval == o.MemoryCheckInterval
}

// Any reports whether a ready check, health check or memory limit is set.
func (p Probes) Any() bool {
	return p.Ready != nil || p.Healthcheck != nil || p.MemoryMax > 0
}

// readProbes reads the options with get (the section's expanding getter,
// so %(ENV_X)s and %(process_num)d work as in other values).
func readProbes(get func(opt, def string) (string, error)) (Probes, error) {
	var p Probes
	v, err := get("ready", "")
	if err != nil {
		return p, err
	}
	if p.Ready, err = parseCheck("ready", v, true); err != nil {
		return p, err
	}
	if v, err = get("healthcheck", ""); err != nil {
		return p, err
	}
	if p.Healthcheck, err = parseCheck("healthcheck", v, false); err != nil {
		return p, err
	}
	durations := []struct {
		opt, def string
		dst      *time.Duration
	}{
		{"ready_timeout", "60", &p.ReadyTimeout},
		{"ready_interval", "1", &p.ReadyInterval},
		{"healthcheck_interval", "10", &p.HealthcheckInterval},
		{"healthcheck_timeout", "5", &p.HealthcheckTimeout},
		{"memory_check_interval", "5", &p.MemoryCheckInterval},
	}
	for _, d := range durations {
		if v, err = get(d.opt, d.def); err != nil {
			return p, err
		}
		if *d.dst, err = positiveSeconds(d.opt, v); err != nil {
			return p, err
		}
	}
	if v, err = get("healthcheck_retries", "3"); err != nil {
		return p, err
	}
	if p.HealthcheckRetries, err = integer(v); err != nil {
		return p, err
	}
	if p.HealthcheckRetries < 1 {
		return p, errorf("healthcheck_retries must be at least 1, not " + pyrepr.Str(v))
	}
	if v, err = get("memory_max", "0"); err != nil {
		return p, err
	}
	if p.MemoryMax, err = byteSize(v); err != nil {
		return p, err
	}
	if p.MemoryMax < 0 {
		return p, errorf("memory_max must not be negative: " + pyrepr.Str(v))
	}
	return p, nil
}

// positiveSeconds parses a number of seconds (fractions allowed) that must
// be above zero.
func positiveSeconds(opt, v string) (time.Duration, error) {
	f, err := strconv.ParseFloat(pyint.Strip(v), 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > 1e9 {
		return 0, errorf(opt + " must be a positive number of seconds, not " + pyrepr.Str(v))
	}
	return time.Duration(f * float64(time.Second)), nil
}

// parseCheck parses a ready= (ready true) or healthcheck= value; "" is no
// check.
func parseCheck(opt, raw string, ready bool) (*Check, error) {
	v := pyint.Strip(raw)
	if v == "" {
		return nil, nil
	}
	bad := func(why string) (*Check, error) {
		return nil, errorf("invalid " + opt + " value " + pyrepr.Str(raw) + ": " + why)
	}
	c := &Check{Spec: v}
	scheme, rest, _ := strings.Cut(v, ":")
	switch strings.ToLower(scheme) {
	case "tcp":
		c.Kind = CheckTCP
		if !strings.HasPrefix(rest, "//") {
			return bad("want tcp://HOST:PORT")
		}
		addr := strings.TrimSuffix(rest[2:], "/")
		if err := checkHostPort(addr, true); err != nil {
			return bad(err.Error())
		}
		c.Addr = addr
	case "http", "https":
		c.Kind = CheckHTTP
		port := "80"
		if strings.EqualFold(scheme, "https") {
			c.Kind, port = CheckHTTPS, "443"
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || u.Opaque != "" {
			return bad("want " + strings.ToLower(scheme) + "://HOST:PORT/PATH")
		}
		if u.User != nil {
			return bad("credentials in the URL are not supported")
		}
		addr := u.Host
		if u.Port() == "" {
			addr = net.JoinHostPort(u.Hostname(), port)
		}
		if err := checkHostPort(addr, false); err != nil {
			return bad(err.Error())
		}
		c.Addr, c.URL = addr, u.String()
	case "exec":
		c.Kind = CheckExec
		if pyint.Strip(rest) == "" {
			return bad("no command after exec:")
		}
		c.Command = pyint.Strip(rest)
	case "log":
		if !ready {
			return bad("log: is only available for ready")
		}
		c.Kind = CheckLog
		if rest == "" {
			return bad("no regular expression after log:")
		}
		re, err := regexp.Compile(rest)
		if err != nil {
			return bad(err.Error())
		}
		c.Pattern = re
	case "notify":
		if !ready {
			return bad("notify is only available for ready")
		}
		if rest != "" || strings.Contains(v, ":") {
			return bad("notify takes no argument")
		}
		c.Kind = CheckNotify
	default:
		if ready {
			return bad("want tcp://HOST:PORT, http(s)://HOST:PORT/PATH, exec:COMMAND, log:REGEX or notify")
		}
		return bad("want tcp://HOST:PORT, http(s)://HOST:PORT/PATH or exec:COMMAND")
	}
	return c, nil
}

// checkHostPort validates host:port with a numeric port 1-65535.
func checkHostPort(addr string, needHost bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errorf("want HOST:PORT")
	}
	if needHost && host == "" {
		return errorf("no host")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return errorf("bad port " + pyrepr.Str(port))
	}
	return nil
}

// ParseCheck parses a ready= (opt "ready") or healthcheck= value as the
// config loader does; "" is no check.
func ParseCheck(opt, value string) (*Check, error) {
	return parseCheck(opt, value, opt == "ready")
}
