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
	invalid := func(err error) error {
		return errorf("invalid value for " + opt + " " + pyrepr.Str(arg) + ": " + err.Error())
	}
	conflict := errorf("conflicting command line option " + pyrepr.Str(opt))
	setFlag := func(b *bool) error {
		if *b {
			return conflict
		}
		*b = true
		return nil
	}
	setStr := func(p **string, v string) error {
		if *p != nil {
			return conflict
		}
		*p = &v
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
		return setStr(&o.User, arg)
	case "identifier":
		return setStr(&o.Identifier, arg)
	case "profile_options":
		return setStr(&o.ProfileOptions, arg)
	case "umask":
		v, err := octalType(arg)
		if err != nil {
			return invalid(err)
		}
		if o.Umask != nil {
			return conflict
		}
		m := os.FileMode(v)
		o.Umask = &m
	case "directory", "childlogdir":
		v, err := fs.existingDirectory(arg)
		if err != nil {
			return invalid(err)
		}
		if name == "directory" {
			return setStr(&o.Directory, v)
		}
		return setStr(&o.Childlogdir, v)
	case "logfile", "pidfile":
		v, err := fs.existingDirpath(arg)
		if err != nil {
			return invalid(err)
		}
		if name == "logfile" {
			return setStr(&o.Logfile, v)
		}
		return setStr(&o.Pidfile, v)
	case "logfile_maxbytes":
		v, err := byteSize(arg)
		if err != nil {
			return invalid(err)
		}
		if o.LogfileMaxbytes != nil {
			return conflict
		}
		o.LogfileMaxbytes = &v
	case "logfile_backups", "minfds", "minprocs":
		v, err := integer(arg)
		if err != nil {
			return invalid(err)
		}
		dst := map[string]**int{"logfile_backups": &o.LogfileBackups, "minfds": &o.Minfds, "minprocs": &o.Minprocs}[name]
		if *dst != nil {
			return conflict
		}
		*dst = &v
	case "loglevel":
		v, err := loggingLevel(arg)
		if err != nil {
			return invalid(err)
		}
		if o.Loglevel != nil {
			return conflict
		}
		o.Loglevel = &v
	}
	return nil
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
