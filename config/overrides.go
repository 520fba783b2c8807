package config

import (
	"os"

	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// Overrides holds supervisord's command line options that override the
// config file (Python gives them priority over [supervisord] values).
// A nil pointer or false flag means "not given". Fill it with Set, which
// validates each value as Python's option handlers do.
type Overrides struct {
	// Cwd resolves relative paths while Set validates them; "" means the
	// process's working directory.
	Cwd string

	Nodaemon, Silent, Nocleanup, StripANSI bool

	User            *string
	Umask           *os.FileMode
	Directory       *string
	Logfile         *string
	LogfileMaxbytes *int64
	LogfileBackups  *int
	Loglevel        *LogLevel
	Pidfile         *string
	Identifier      *string
	Childlogdir     *string
	Minfds          *int
	Minprocs        *int
	ProfileOptions  *string // accepted and kept; Go has no profiler hook
}

// overrideOptions maps each short and long option to its canonical name.
var overrideOptions = map[string]string{
	"-n": "nodaemon", "--nodaemon": "nodaemon",
	"-s": "silent", "--silent": "silent",
	"-k": "nocleanup", "--nocleanup": "nocleanup",
	"-t": "strip_ansi", "--strip_ansi": "strip_ansi",
	"-u": "user", "--user": "user",
	"-m": "umask", "--umask": "umask",
	"-d": "directory", "--directory": "directory",
	"-l": "logfile", "--logfile": "logfile",
	"-y": "logfile_maxbytes", "--logfile_maxbytes": "logfile_maxbytes",
	"-z": "logfile_backups", "--logfile_backups": "logfile_backups",
	"-e": "loglevel", "--loglevel": "loglevel",
	"-j": "pidfile", "--pidfile": "pidfile",
	"-i": "identifier", "--identifier": "identifier",
	"-q": "childlogdir", "--childlogdir": "childlogdir",
	"-a": "minfds", "--minfds": "minfds",
	"--minprocs":        "minprocs",
	"--profile_options": "profile_options",
}

// Set records the command line option opt (as typed: "-l" or "--logfile")
// with its argument (ignored for flags). Errors carry Python's usage
// message: "invalid value for -l 'x': ..." or "conflicting command line
// option '-l'".
func (o *Overrides) Set(opt, arg string) error {
	name, ok := overrideOptions[opt]
	if !ok {
		return errorf("option " + opt + " not recognized")
	}
	wd := o.Cwd
	if wd == "" {
		wd, _ = os.Getwd()
	}
	fs := fsEnv{cwd: wd, home: os.Getenv("HOME")}
	u := usage{
		invalid: func(err error) error {
			return errorf("invalid value for " + opt + " " + pyrepr.Str(arg) + ": " + err.Error())
		},
		conflict: errorf("conflicting command line option " + pyrepr.Str(opt)),
	}
	setFlag := func(b *bool) error {
		if *b {
			return u.conflict
		}
		*b = true
		return nil
	}
	switch name {
	case "nodaemon":
		return setFlag(&o.Nodaemon)
	case "silent":
		return setFlag(&o.Silent)
	case "nocleanup":
		return setFlag(&o.Nocleanup)
	case "strip_ansi":
		return setFlag(&o.StripANSI)
	case "user":
		return overrideAs(&o.User, arg, verbatim, u)
	case "identifier":
		return overrideAs(&o.Identifier, arg, verbatim, u)
	case "profile_options":
		return overrideAs(&o.ProfileOptions, arg, verbatim, u)
	case "umask":
		return overrideAs(&o.Umask, arg, fileMode, u)
	case "directory":
		return overrideAs(&o.Directory, arg, fs.existingDirectory, u)
	case "childlogdir":
		return overrideAs(&o.Childlogdir, arg, fs.existingDirectory, u)
	case "logfile":
		return overrideAs(&o.Logfile, arg, fs.existingDirpath, u)
	case "pidfile":
		return overrideAs(&o.Pidfile, arg, fs.existingDirpath, u)
	case "logfile_maxbytes":
		return overrideAs(&o.LogfileMaxbytes, arg, byteSize, u)
	case "logfile_backups":
		return overrideAs(&o.LogfileBackups, arg, integer, u)
	case "minfds":
		return overrideAs(&o.Minfds, arg, integer, u)
	case "minprocs":
		return overrideAs(&o.Minprocs, arg, integer, u)
	case "loglevel":
		return overrideAs(&o.Loglevel, arg, loggingLevel, u)
	}
	return nil
}

// usage holds the two command line errors of one option, worded as
// Python's usage messages.
type usage struct {
	invalid  func(error) error
	conflict error
}

// overrideAs converts arg with conv and records the value in *dst: the
// read-then-convert step of every command line option with a value. An
// invalid value is reported before a second setting, as Python does.
func overrideAs[T any](dst **T, arg string, conv func(string) (T, error), u usage) error {
	v, err := conv(arg)
	if err != nil {
		return u.invalid(err)
	}
	if *dst != nil {
		return u.conflict
	}
	*dst = &v
	return nil
}

// verbatim is the conversion of options taken as typed.
func verbatim(s string) (string, error) { return s, nil }

// fileMode is octalType as a file mode (umask).
func fileMode(s string) (os.FileMode, error) {
	v, err := octalType(s)
	return os.FileMode(v), err
}

// apply puts the overrides over the values read from [supervisord].
func (o *Overrides) apply(s *Supervisord) {
	or := func(dst *bool, v bool) {
		if v {
			*dst = true
		}
	}
	or(&s.Nodaemon, o.Nodaemon)
	or(&s.Silent, o.Silent)
	or(&s.Nocleanup, o.Nocleanup)
	or(&s.StripANSI, o.StripANSI)
	if o.User != nil {
		s.User = &User{Name: *o.User, UID: -1, GID: -1}
	}
	strs := []struct {
		src *string
		dst *string
	}{{o.Directory, &s.Directory}, {o.Logfile, &s.Logfile}, {o.Pidfile, &s.Pidfile},
		{o.Identifier, &s.Identifier}, {o.Childlogdir, &s.Childlogdir}}
	for _, x := range strs {
		if x.src != nil {
			*x.dst = *x.src
		}
	}
	if o.Umask != nil {
		s.Umask = *o.Umask
	}
	if o.LogfileMaxbytes != nil {
		s.LogfileMaxbytes = *o.LogfileMaxbytes
	}
	if o.LogfileBackups != nil {
		s.LogfileBackups = *o.LogfileBackups
	}
	if o.Loglevel != nil {
		s.Loglevel = *o.Loglevel
	}
	if o.Minfds != nil {
		s.Minfds = *o.Minfds
	}
	if o.Minprocs != nil {
		s.Minprocs = *o.Minprocs
	}
}
