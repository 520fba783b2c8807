package config

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is one supervisord.conf, with its includes, read, expanded and
// validated the way supervisord 4.2.5's ServerOptions reads it.
type Config struct {
	// Path is the main configuration file as it was given (or found).
	Path string
	// Here is the directory of the main configuration file (%(here)s).
	Here string

	Supervisord Supervisord
	// HTTPServers holds one entry per section whose name starts with
	// "inet_http_server" or "unix_http_server" (so [inet_http_server:x]
	// too), inet ones first, each kind in file order, as Python orders them.
	HTTPServers []HTTPServer
	// Supervisorctl is the [supervisorctl] section of the main file as
	// supervisorctl reads it (LoadCtl); nil when the file has none or
	// supervisorctl would reject it.
	Supervisorctl *Supervisorctl
	// RPCInterfaces lists [rpcinterface:x] sections in file order.
	RPCInterfaces []RPCInterface
	// CtlPlugins lists [ctlplugin:x] sections in file order.
	CtlPlugins []CtlPlugin
	// Groups is every process group, sorted by (priority, name) as
	// Python sorts process_group_configs.
	Groups []*Group
	// ServerURL is the URL children get in SUPERVISOR_SERVER_URL when
	// their serverurl is AUTO: the first unix server ("unix:///path"),
	// else the LAST inet one ("http://host:port"; Python's loop has no
	// break), else "".
	ServerURL string

	// Messages queued while parsing, logged once the main log is open,
	// with Python's wording (parse_criticals, parse_warnings, parse_infos).
	// Reading a config never queues a critical in 4.2.5; the field is
	// there for the daemon's own startup messages.
	Criticals []string
	Warnings  []string
	Infos     []string

	// stickyEnv accumulates [supervisord] environment= keys across
	// rereads (see LoadOptions.Previous).
	stickyEnv Environment
}

// Supervisord is the [supervisord] section (ServerOptions) with the
// command line Overrides applied, as ServerOptions.realize leaves it.
type Supervisord struct {
	Logfile         string // absolute path, or "syslog"
	LogfileMaxbytes int64
	LogfileBackups  int
	Loglevel        LogLevel
	Pidfile         string // absolute path
	Umask           os.FileMode
	Nodaemon        bool
	Silent          bool
	Minfds          int
	Minprocs        int
	Nocleanup       bool
	StripANSI       bool
	Childlogdir     string // as configured, ~ expanded (may be relative)
	User            *User  // nil when not set; UID/GID -1 until resolved (Reread)
	Directory       string // "" when not set; ~ expanded
	Identifier      string
	Environment     Environment // nil when not set
	ExitOnFatal     bool        // exit_on_fatal: the default of every program's
	// ReloadKeepsRunning (opt-in, reload_keeps_running): SIGHUP and
	// supervisor.restart apply the config as update does and re-execute
	// the daemon, keeping unchanged programs running.
	ReloadKeepsRunning bool

	// Opt-in (gosupervisor): logfile_compress, logfile_maxage (days),
	// logfile_rotate_every, logfile_format (LogFormatText or LogFormatJSON).
	LogfileCompress    bool
	LogfileMaxAgeDays  int
	LogfileRotateEvery time.Duration
	LogfileFormat      string
}

// LogLevel is supervisord's log level (supervisor.loggers); larger is
// more severe. The daemon's packages log with it.
type LogLevel int

// Python's supervisor.loggers.LevelsByName values.
const (
	LevelBlather  LogLevel = 3
	LevelTrace    LogLevel = 5
	LevelDebug    LogLevel = 10
	LevelInfo     LogLevel = 20
	LevelWarn     LogLevel = 30
	LevelError    LogLevel = 40
	LevelCritical LogLevel = 50
)

// logLevels are supervisor.loggers' LevelsByName (the name in a log line)
// and LevelsByDescription (the loglevel value) of each level.
var logLevels = []struct {
	level             LogLevel
	name, description string
}{
	{LevelCritical, "CRIT", "critical"},
	{LevelError, "ERRO", "error"},
	{LevelWarn, "WARN", "warn"},
	{LevelInfo, "INFO", "info"},
	{LevelDebug, "DEBG", "debug"},
	{LevelTrace, "TRAC", "trace"},
	{LevelBlather, "BLAT", "blather"},
}

// Name is the level's four-letter name in a log line (CRIT, ERRO, WARN,
// INFO, DEBG, TRAC, BLAT); "Level(n)" for a level Python does not have.
func (l LogLevel) Name() string {
	for _, e := range logLevels {
		if e.level == l {
			return e.name
		}
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// Description is the loglevel value that names the level (critical,
// error, warn, info, debug, trace, blather); Name in lower case for a
// level Python does not have.
func (l LogLevel) Description() string {
	for _, e := range logLevels {
		if e.level == l {
			return e.description
		}
	}
	return strings.ToLower(l.Name())
}

// User is a resolved user name or uid.
type User struct {
	Name string // as written in the config (after %-expansion)
	UID  int
	GID  int // the user's primary group
}

// Environment is a KEY=value mapping in the order it was written.
type Environment []EnvVar

// EnvVar is one environment variable.
type EnvVar struct{ Key, Value string }

// Get returns the value of key and whether it is set.
func (e Environment) Get(key string) (string, bool) {
	for i := len(e) - 1; i >= 0; i-- {
		if e[i].Key == key {
			return e[i].Value, true
		}
	}
	return "", false
}

// HTTPServer is an [inet_http_server] or [unix_http_server] section.
type HTTPServer struct {
	Section  string      // the full section name, e.g. "unix_http_server"
	Name     string      // the part after ':' in the section name, or ""
	Family   string      // "inet" or "unix"
	Host     string      // inet: lower-cased; "" for all interfaces ("*" or none)
	Port     int         // inet
	File     string      // unix: absolute socket path
	Chmod    os.FileMode // unix: 0700 unless set; inet: 0
	ChownUID int         // -1 when not set
	ChownGID int         // -1 when not set
	Username string      // "" when not set (Python: None)
	Password string      // may start with {SHA}
	Extras   HTTPExtras  // gosupervisor keys (http_options.go)
}

// Supervisorctl is the [supervisorctl] section.
type Supervisorctl struct {
	ServerURL   string
	Username    string
	Password    string
	Prompt      string
	HistoryFile string
	// gosupervisor: the https:// client's CA bundle (verifies the server;
	// the system roots without it) and client certificate and key
	TLSCA, TLSCert, TLSKey string
}

// RPCInterface is an [rpcinterface:x] section.
type RPCInterface struct {
	Name    string
	Factory string            // supervisor.rpcinterface_factory
	Options map[string]string // every other key (DEFAULT ones too), expanded
}

// CtlPlugin is a [ctlplugin:x] section.
type CtlPlugin struct {
	Name    string
	Factory string // supervisor.ctl_factory
	Options map[string]string
}

// GroupKind tells which section made a group.
type GroupKind int

// The group kinds.
const (
	KindProgram       GroupKind = iota // [program:x] (homogeneous) or [group:x]
	KindEventListener                  // [eventlistener:x] pool
	KindFastCGI                        // [fcgi-program:x]
)

// Group is a process group config (ProcessGroupConfig,
// EventListenerPoolConfig or FastCGIGroupConfig).
type Group struct {
	Name     string
	Kind     GroupKind
	Priority int
	// Processes in Python's order: sorted by (priority, name) for a
	// program, eventlistener or fcgi-program section; for a [group:x],
	// each listed program's sorted processes in the order programs= names
	// them (Python does not re-sort).
	Processes []*Process

	// Event listener pools only.
	BufferSize    int
	Events        []string // event type names, upper-cased, de-duplicated, sorted
	ResultHandler string   // "module:callable" as configured (expanded)

	// FastCGI only.
	Socket *FCGISocket
}

// FCGISocket is the socket of an [fcgi-program:x] section.
type FCGISocket struct {
	URL      string      // unix:///abs/path or tcp://host:port
	Backlog  int         // 0 when not set
	OwnerUID int         // -1 when not set
	OwnerGID int         // -1 when not set
	Mode     os.FileMode // unix: 0700 unless socket_mode; tcp: 0
}

// Autorestart is the autorestart option.
type Autorestart int

// Autorestart values.
const (
	AutorestartNever Autorestart = iota
	AutorestartUnexpected
	AutorestartAlways
)

// Process is one process's config (ProcessConfig). numprocs=N yields N.
type Process struct {
	Name           string // process_name, expanded
	Program        string // the section's program name
	Section        string // the section it came from, e.g. "program:x"
	Command        string
	User           *User // nil when not set
	Directory      string
	Umask          *os.FileMode // nil when not set
	Priority       int
	Autostart      bool
	Autorestart    Autorestart
	Startsecs      int
	Startretries   int
	Stopsignal     int // signal number
	Stopwaitsecs   int
	Stopasgroup    bool
	Killasgroup    bool
	Exitcodes      []int
	RedirectStderr bool
	Environment    Environment // nil when not set
	ServerURL      string      // "AUTO" when not set
	Stdout         LogConfig
	Stderr         LogConfig
	Lifecycle             // issue-13 keys (lifecycle.go)
	Probes         Probes // ready, healthcheck, memory_max (probes.go)
}

// Special values of LogConfig.File.
const (
	LogNone = ""     // NONE/OFF, or syslog-only
	LogAuto = "AUTO" // an automatic file in childlogdir, resolved at start
)

// LogConfig is one output channel's log options.
type LogConfig struct {
	File            string // path (relative kept relative, ~ expanded), LogAuto or LogNone
	Maxbytes        int64
	Backups         int
	CaptureMaxbytes int64
	EventsEnabled   bool
	Syslog          bool

	// Opt-in (gosupervisor): *_logfile_timestamps, *_logfile_compress,
	// *_logfile_maxage (days, 0 = no limit), *_logfile_rotate_every
	// (0 = size only).
	Timestamps  bool
	Compress    bool
	MaxAgeDays  int
	RotateEvery time.Duration
}
