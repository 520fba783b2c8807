package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/getopt"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// compatVersion is what -v/--version prints: the supervisord release we are
// a drop-in for. Scripts parse it, so it is exactly Python's VERSION.
const compatVersion = "4.2.5"

// version and commit are gosupervisor's own version and the commit it was
// built from, printed by --gosupervisor-version. Release builds set both at
// link time (-ldflags "-X main.version=... -X main.commit=..."); otherwise
// commit comes from the VCS stamp the go command embeds, when there is one.
var (
	version = "0.1.0-dev"
	commit  = ""
)

// ownVersion is the --gosupervisor-version line.
func ownVersion() string {
	c := commit
	if c == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					c = s.Value[:12]
				}
			}
		}
	}
	if c == "" {
		return fmt.Sprintf("gosupervisor %s (supervisord %s compatible)", version, compatVersion)
	}
	return fmt.Sprintf("gosupervisor %s (commit %s; supervisord %s compatible)", version, c, compatVersion)
}

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

// cmdline is Python's getopt spec for supervisord, plus our own
// --gosupervisor-version (matched only when spelled out).
var cmdline = getopt.Spec{Short: shortOpts, Long: longOpts, ExactLong: []string{"gosupervisor-version"}}

// parseArgs is Options.realize's command line half: getopt, the positional
// arguments check, then each option in order (help and version act at
// once, as their handlers exit).
func parseArgs(args []string, cwd string) (*cli, error) {
	opts, rest, err := cmdline.Parse(args)
	if err != nil {
		return nil, &usageError{msg: err.Error()}
	}
	if len(rest) > 0 {
		return nil, usagef("positional arguments are not supported: %s", pyList(rest))
	}
	c := &cli{}
	c.overrides.Cwd = cwd
	for _, o := range opts {
		switch o.Name {
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
				return nil, usagef("conflicting command line option %s", pyrepr.Str(o.Name))
			}
			c.configFile = o.Arg
		default:
			if err := c.overrides.Set(o.Name, o.Arg); err != nil {
				return nil, &usageError{msg: err.Error()}
			}
		}
	}
	return c, nil
}

// pyList is str() of a list of str.
func pyList(xs []string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = pyrepr.Str(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
