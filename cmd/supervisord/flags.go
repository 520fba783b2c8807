package main

import (
	"fmt"
	"strings"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// compatVersion is what -v/--version prints: the supervisord release we are
// a drop-in for. Scripts parse it, so it is exactly Python's VERSION.
const compatVersion = "4.2.5"

// version is gosupervisor's own version, printed by --gosupervisor-version
// (set at link time with -ldflags "-X main.version=...").
var version = "0.1.0-dev"

// helpText is the -h output; %s is replaced by argv[0] as Python does.
const helpText = `supervisord -- start and watch a set of programs, keeping them running.

Usage: %s [options]

Options:
-c/--configuration FILENAME -- the configuration file (default: searched)
-n/--nodaemon -- stay in the foreground (like 'nodaemon=true' in the config)
-s/--silent -- do not copy log lines to stdout (like 'silent=true')
-h/--help -- show this help and exit
-v/--version -- show the supervisord version this is compatible with and exit
-u/--user USER -- switch to this user (a name or a numeric uid)
-m/--umask UMASK -- the umask once daemonized (default 022)
-d/--directory DIRECTORY -- change to this directory once daemonized
-l/--logfile FILENAME -- the main log file (or 'syslog')
-y/--logfile_maxbytes BYTES -- rotate the main log at this size
-z/--logfile_backups NUM -- how many rotated main logs to keep
-e/--loglevel LEVEL -- the log level (critical,error,warn,info,debug,trace,blather)
-j/--pidfile FILENAME -- write the daemon's pid to FILENAME
-i/--identifier STR -- the name of this supervisord instance
-q/--childlogdir DIRECTORY -- where AUTO child log files go
-k/--nocleanup -- keep old AUTO child log files at startup
                  instead of removing them
-a/--minfds NUM -- refuse to start with fewer usable file descriptors
-t/--strip_ansi -- remove ANSI escape sequences from child output
--minprocs NUM -- refuse to start with fewer usable processes
--profile_options OPTIONS -- accepted for compatibility; a comma-separated
                             list of 'cumulative', 'calls' and 'callers'
                             (gosupervisor has no profiler hook)
--gosupervisor-version -- show gosupervisor's own version and exit
`

// usageError is a command line or startup error reported the way Python's
// Options.usage does: "Error: <msg>" and a pointer to -h, exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// cli is the parsed command line.
type cli struct {
	configFile  string // "" when -c was not given
	overrides   config.Overrides
	help        bool
	showVersion bool
	ownVersion  bool
}

// Python's getopt spec for supervisord: short options in the order
// ServerOptions adds them, and the long options.
const shortOpts = "h?c:vnu:m:d:l:y:z:e:j:i:q:a:kts"

var longOpts = []string{
	"help", "configuration=", "version", "nodaemon", "user=", "umask=",
	"directory=", "logfile=", "logfile_maxbytes=", "logfile_backups=",
	"loglevel=", "pidfile=", "identifier=", "childlogdir=", "minfds=",
	"minprocs=", "nocleanup", "strip_ansi", "profile_options=", "silent",
}

type optArg struct{ opt, arg string }

// getopt is Python's getopt.getopt: options stop at the first non-option
// argument or "--"; long options may be abbreviated to a unique prefix.
func getopt(args []string) ([]optArg, []string, error) {
	var opts []optArg
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		if args[0] == "--" {
			args = args[1:]
			break
		}
		if strings.HasPrefix(args[0], "--") {
			var err error
			var o optArg
			o, args, err = doLong(args[0][2:], args[1:])
			if err != nil {
				return nil, nil, err
			}
			opts = append(opts, o)
			continue
		}
		s := args[0][1:]
		args = args[1:]
		for s != "" {
			c := s[:1]
			s = s[1:]
			i := strings.Index(shortOpts, c)
			if i < 0 || c == ":" {
				return nil, nil, fmt.Errorf("option -%s not recognized", c)
			}
			if i+1 < len(shortOpts) && shortOpts[i+1] == ':' {
				if s == "" {
					if len(args) == 0 {
						return nil, nil, fmt.Errorf("option -%s requires argument", c)
					}
					s, args = args[0], args[1:]
				}
				opts = append(opts, optArg{"-" + c, s})
				s = ""
				continue
			}
			opts = append(opts, optArg{"-" + c, ""})
		}
	}
	return opts, args, nil
}

func doLong(opt string, args []string) (optArg, []string, error) {
	var val *string
	if name, v, ok := strings.Cut(opt, "="); ok {
		opt, val = name, &v
	}
	if opt == "gosupervisor-version" { // ours, matched exactly only
		if val != nil {
			return optArg{}, nil, fmt.Errorf("option --%s must not have an argument", opt)
		}
		return optArg{"--" + opt, ""}, args, nil
	}
	var poss []string
	for _, o := range longOpts {
		if strings.HasPrefix(o, opt) {
			poss = append(poss, o)
		}
	}
	if len(poss) == 0 {
		return optArg{}, nil, fmt.Errorf("option --%s not recognized", opt)
	}
	var full string
	switch {
	case contains(poss, opt):
		full = opt
	case contains(poss, opt+"="):
		full = opt + "="
	case len(poss) > 1:
		return optArg{}, nil, fmt.Errorf("option --%s not a unique prefix", opt)
	default:
		full = poss[0]
	}
	name, hasArg := strings.CutSuffix(full, "=")
	if hasArg {
		if val == nil {
			if len(args) == 0 {
				return optArg{}, nil, fmt.Errorf("option --%s requires argument", name)
			}
			val, args = &args[0], args[1:]
		}
		return optArg{"--" + name, *val}, args, nil
	}
	if val != nil {
		return optArg{}, nil, fmt.Errorf("option --%s must not have an argument", name)
	}
	return optArg{"--" + name, ""}, args, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseArgs is Options.realize's command line half: getopt, the positional
// arguments check, then each option in order (help and version act at
// once, as their handlers exit).
func parseArgs(args []string, cwd string) (*cli, error) {
	opts, rest, err := getopt(args)
	if err != nil {
		return nil, &usageError{msg: err.Error()}
	}
	if len(rest) > 0 {
		return nil, usagef("positional arguments are not supported: %s", pyList(rest))
	}
	c := &cli{}
	c.overrides.Cwd = cwd
	for _, o := range opts {
		switch o.opt {
		case "-h", "-?", "--help":
			c.help = true
			return c, nil
		case "-v", "--version":
			c.showVersion = true
			return c, nil
		case "--gosupervisor-version":
			c.ownVersion = true
			return c, nil
		case "-c", "--configuration":
			if c.configFile != "" {
				return nil, usagef("conflicting command line option %s", pyRepr(o.opt))
			}
			c.configFile = o.arg
		default:
			if err := c.overrides.Set(o.opt, o.arg); err != nil {
				return nil, &usageError{msg: err.Error()}
			}
		}
	}
	return c, nil
}

// pyRepr is Python's repr() of a str.
func pyRepr(s string) string { return pyrepr.Str(s) }

// pyList is str() of a list of str.
func pyList(xs []string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = pyRepr(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
