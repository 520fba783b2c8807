package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/pyint"
)

func (l *loader) usernamePassword(section string) (string, string, error) {
	u, hasU, err := l.saneget(section, "username", nil, nil, true)
	if err != nil {
		return "", "", err
	}
	p, hasP, err := l.saneget(section, "password", nil, nil, true)
	if err != nil {
		return "", "", err
	}
	if hasU != hasP {
		return "", "", errorf("Section [" + section + "] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified")
	}
	return u, p, nil
}

func serverName(section string) string {
	if _, name, ok := strings.Cut(section, ":"); ok {
		return name
	}
	return ""
}

// serverConfigs is ServerOptions.server_configs_from_parser.
func (l *loader) serverConfigs() ([]HTTPServer, error) {
	var out []HTTPServer
	for _, section := range l.parser.sectionNames() {
		if !strings.HasPrefix(section, "inet_http_server") {
			continue
		}
		s := HTTPServer{Section: section, Name: serverName(section), Family: "inet", ChownUID: -1, ChownGID: -1}
		var err error
		if s.Username, s.Password, err = l.usernamePassword(section); err != nil {
			return nil, err
		}
		port, ok, err := l.saneget(section, "port", nil, nil, true)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errorf("section [" + section + "] has no port value")
		}
		if s.Host, s.Port, err = inetAddress(port); err != nil {
			return nil, err
		}
		if s.Extras, err = l.httpExtras(section, s.Family); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	for _, section := range l.parser.sectionNames() {
		if !strings.HasPrefix(section, "unix_http_server") {
			continue
		}
		s := HTTPServer{Section: section, Name: serverName(section), Family: "unix"}
		here := newExpansions()
		here.setStr("here", l.here)
		file, ok, err := l.saneget(section, "file", nil, here, true)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errorf("section [" + section + "] has no file value")
		}
		s.File = l.fs.normalizePath(pyint.Strip(file))
		if s.Username, s.Password, err = l.usernamePassword(section); err != nil {
			return nil, err
		}
		chown, ok, err := l.saneget(section, "chown", nil, nil, true)
		if err != nil {
			return nil, err
		}
		s.ChownUID, s.ChownGID = -1, -1
		if ok {
			if s.ChownUID, s.ChownGID, err = colonSeparatedUserGroup(chown); err != nil {
				return nil, errorf("Invalid sockchown value " + chown)
			}
		}
		chmod, ok, err := l.saneget(section, "chmod", nil, nil, true)
		if err != nil {
			return nil, err
		}
		s.Chmod = 0o700
		if ok {
			m, err := octalType(chmod)
			if err != nil {
				return nil, errorf("Invalid chmod value " + chmod)
			}
			s.Chmod = os.FileMode(m)
		}
		if s.Extras, err = l.httpExtras(section, s.Family); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// realize is the part of ServerOptions.realize that follows reading: the
// command line overrides, the user lookup, path normalisation and the
// fallback server URL.
func (l *loader) realize() error {
	s := &l.cfg.Supervisord
	if o := l.opts.Overrides; o != nil {
		o.apply(s)
	}
	if s.User != nil {
		u, err := resolveUser(s.User.Name)
		if err != nil {
			return err
		}
		s.User = u
	}
	if s.Logfile != "syslog" {
		s.Logfile = l.fs.normalizePath(s.Logfile)
	}
	s.Pidfile = l.fs.normalizePath(s.Pidfile)
	for _, srv := range l.cfg.HTTPServers {
		if srv.Family == "unix" {
			l.cfg.ServerURL = "unix://" + srv.File
			return nil
		}
	}
	for _, srv := range l.cfg.HTTPServers {
		if srv.Family == "inet" {
			host := srv.Host
			if host == "" {
				host = "localhost"
			}
			scheme := "http"
			if srv.Extras.TLS != nil {
				scheme = "https" // gosupervisor's tls_cert
			}
			// no break in Python: the last inet server wins
			l.cfg.ServerURL = scheme + "://" + host + ":" + strconv.Itoa(srv.Port)
		}
	}
	return nil
}

// readCtl is ClientOptions.read_config for the [supervisorctl] section of
// one file (supervisorctl does not follow [include]).
func readCtl(text, path string, fs fsEnv, envExp *expansions) (*Supervisorctl, error) {
	p := newIniFile()
	p.keepOnly = "supervisorctl"
	if err := p.read(text, path); err != nil {
		return nil, err
	}
	return readCtlParsed(p, path, fs, envExp)
}

// readCtlParsed is readCtl on the file already parsed (p may hold only its
// [supervisorctl] and DEFAULT sections, see iniFile.only).
func readCtlParsed(p *iniFile, path string, fs fsEnv, envExp *expansions) (*Supervisorctl, error) {
	if !p.hasSection("supervisorctl") {
		return nil, errorf(".ini file does not include supervisorctl section")
	}
	here := pyDirname(fs.normalizePath(path))
	get := func(opt string, def *string, withHere bool) (string, bool, error) {
		v, ok := p.get("supervisorctl", opt)
		if !ok {
			if def == nil {
				return "", false, nil
			}
			v = *def
		}
		e := newExpansions()
		if withHere {
			e.setStr("here", here)
		}
		out, err := expand(v, expView{base: envExp, top: e}, "supervisorctl."+opt)
		return out, true, err
	}
	c := &Supervisorctl{}
	var err error
	if c.ServerURL, _, err = get("serverurl", str("http://localhost:9001"), true); err != nil {
		return nil, err
	}
	if rest, ok := strings.CutPrefix(c.ServerURL, "unix://"); ok {
		c.ServerURL = "unix://" + fs.normalizePath(rest)
	}
	if c.Prompt, _, err = get("prompt", str("supervisor"), false); err != nil {
		return nil, err
	}
	if c.Username, _, err = get("username", nil, false); err != nil {
		return nil, err
	}
	if c.Password, _, err = get("password", nil, false); err != nil {
		return nil, err
	}
	hist, _, err := get("history_file", nil, true)
	if err != nil {
		return nil, err
	}
	if hist != "" {
		c.HistoryFile = fs.normalizePath(hist)
	}
	// gosupervisor's https client options (Python ignores unknown keys)
	for _, o := range []struct {
		name string
		dst  *string
	}{{"tls_ca", &c.TLSCA}, {"tls_cert", &c.TLSCert}, {"tls_key", &c.TLSKey}} {
		v, _, err := get(o.name, nil, true)
		if err != nil {
			return nil, err
		}
		if v != "" {
			*o.dst = fs.normalizePath(v)
		}
	}
	return c, nil
}

// LoadCtl reads the [supervisorctl] section of path as supervisorctl's
// ClientOptions does (no includes; the file must have the section).
func LoadCtl(path string, opts LoadOptions) (*Supervisorctl, error) {
	l, err := newLoader(opts)
	if err != nil {
		return nil, err
	}
	text, err := l.readFile(path)
	if err != nil {
		return nil, err
	}
	return readCtl(text, path, l.fs, l.envExp)
}

// Find returns the first existing default config file, searched as
// supervisord does without -c: argv0 is the program's argv[0].
func Find(argv0 string) (string, error) {
	paths := SearchPaths(argv0)
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errorf(fmt.Sprintf("No config file found at default paths (%s); use the -c option to specify a config file at a different path", strings.Join(paths, ", ")))
}

// SearchPaths lists the default config file locations in search order.
func SearchPaths(argv0 string) []string {
	here := pyDirname(pyDirname(argv0))
	return []string{
		pyJoin(pyJoin(here, "etc"), "supervisord.conf"),
		pyJoin(here, "supervisord.conf"),
		"supervisord.conf",
		"etc/supervisord.conf",
		"/etc/supervisord.conf",
		"/etc/supervisor/supervisord.conf",
	}
}

// RootSearchWarning is the warning supervisord prints when it runs as root
// and searches the default paths.
const RootSearchWarning = "Supervisord is running as root and it is searching " +
	"for its configuration file in default locations " +
	"(including its current working directory); you " +
	"probably want to specify a \"-c\" argument specifying an " +
	"absolute path to a configuration file for improved " +
	"security."
