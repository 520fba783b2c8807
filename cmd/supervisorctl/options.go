package main

import (
	"fmt"
	"strings"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/getopt"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// usageDoc is supervisorctl.py's module docstring, printed by -h with %s
// replaced by the program name.
const usageDoc = `supervisorctl -- control applications run by supervisord from the cmd line.

Usage: %s [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default "http://localhost:9001").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)

action [arguments] -- see below

Actions are commands like "tail" or "stop".  If -i is specified or no action is
specified on the command line, a "shell" interpreting actions typed
interactively is started.  Use the action "help" to find out about available
actions.
`

// options is ClientOptions after realize: nil pointers are Python's None.
type options struct {
	configFile  string
	interactive bool
	serverURL   string
	username    *string
	password    *string
	historyFile string
	prompt      string
	tls         tlsFiles // https:// only (gosupervisor)
	args        []string
}

// exitError asks main to exit with Code after the text was written.
type exitError struct{ Code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.Code) }

// cmdline is Python's getopt spec for supervisorctl.
var cmdline = getopt.Spec{
	Short: "h?c:is:u:p:r:",
	Long: []string{"help", "configuration=", "interactive", "serverurl=", "username=", "password=", "history_file=",
		"tls_ca=", "tls_cert=", "tls_key="}, // the tls_ options are gosupervisor's
}

// optName maps an option to the ClientOptions attribute it sets.
func optName(opt string) string {
	switch opt {
	case "-c", "--configuration":
		return "configfile"
	case "-i", "--interactive":
		return "interactive"
	case "-s", "--serverurl":
		return "serverurl"
	case "-u", "--username":
		return "username"
	case "-p", "--password":
		return "password"
	case "-r", "--history_file":
		return "history"
	case "--tls_ca", "--tls_cert", "--tls_key":
		return opt[2:]
	}
	return "help"
}

// env is what realize needs from the process.
type env struct {
	progname string
	environ  []string
}

// realize is ClientOptions.realize: the command line, then the config file,
// then the defaults. A usage error or -h writes its text and returns an
// *exitError.
func realize(args []string, e env, stdout, stderr interface{ Write([]byte) (int, error) }) (*options, error) {
	usage := func(msg string) error {
		fmt.Fprintf(stderr, "Error: %s\nFor help, use %s -h\n", msg, e.progname)
		return &exitError{Code: 2}
	}
	parsed, rest, err := cmdline.Parse(args)
	if err != nil {
		return nil, usage(err.Error())
	}
	o := &options{args: rest}
	set := map[string]bool{}
	var serverURL, username, password, history *string
	tlsFlags := map[string]string{}
	for _, p := range parsed {
		name := optName(p.Name)
		if name == "help" {
			doc := usageDoc + "\n"
			if strings.Index(doc, "%s") > 0 {
				doc = strings.ReplaceAll(doc, "%s", e.progname)
			}
			fmt.Fprint(stdout, doc)
			return nil, &exitError{Code: 0}
		}
		if name == "serverurl" && !isURL(p.Arg) {
			return nil, usage(fmt.Sprintf("invalid value for %s %s: value %s is not a URL", p.Name, pyRepr(p.Arg), pyRepr(p.Arg)))
		}
		if set[name] {
			return nil, usage(fmt.Sprintf("conflicting command line option %s", pyRepr(p.Name)))
		}
		set[name] = true
		v := p.Arg
		switch name {
		case "configfile":
			o.configFile = v
		case "interactive":
			o.interactive = true
		case "serverurl":
			serverURL = &v
		case "username":
			username = &v
		case "password":
			password = &v
		case "history":
			history = &v
		case "tls_ca", "tls_cert", "tls_key":
			tlsFlags[name] = v
		}
	}
	if !set["configfile"] {
		if p, err := config.Find(e.progname); err == nil {
			o.configFile = p
		}
	}
	o.prompt = "supervisor"
	o.serverURL = "http://localhost:9001"
	if o.configFile != "" {
		c, err := config.LoadCtl(o.configFile, config.LoadOptions{Environ: e.environ})
		if err != nil {
			if class := configparserClass(err.Error()); class != "" {
				// not a ValueError in Python: it escapes as a traceback
				fmt.Fprintf(stderr, "Traceback (most recent call last):\n  File %s, in read_config\n%s: %s\n", pyRepr(e.progname), class, err)
				return nil, &exitError{Code: 1}
			}
			return nil, usage(err.Error())
		}
		o.serverURL = c.ServerURL
		o.prompt = c.Prompt
		if c.Username != "" {
			o.username = &c.Username
		}
		if c.Password != "" {
			o.password = &c.Password
		}
		o.historyFile = c.HistoryFile
		o.tls = tlsFiles{ca: c.TLSCA, cert: c.TLSCert, key: c.TLSKey}
	}
	if serverURL != nil {
		o.serverURL = *serverURL
	}
	if username != nil {
		o.username = username
	}
	if password != nil {
		o.password = password
	}
	if history != nil {
		o.historyFile = *history
	}
	for name, dst := range map[string]*string{"tls_ca": &o.tls.ca, "tls_cert": &o.tls.cert, "tls_key": &o.tls.key} {
		if v, ok := tlsFlags[name]; ok {
			*dst = v
		}
	}
	if len(o.args) == 0 {
		o.interactive = true
	}
	return o, nil
}

// configparserClass names the configparser exception behind a config
// error that Python does not turn into a usage message.
func configparserClass(msg string) string {
	switch {
	case strings.HasPrefix(msg, "File contains no section headers."):
		return "configparser.MissingSectionHeaderError"
	case strings.HasPrefix(msg, "Source contains parsing errors:"):
		return "configparser.ParsingError"
	case strings.HasPrefix(msg, "While reading from"):
		return "configparser.DuplicateSectionError"
	}
	return ""
}

// urlParts is the part of Python's urllib.parse.urlparse supervisorctl
// looks at: the scheme, the netloc and the path.
func urlParts(s string) (scheme, netloc, path string) {
	rest := s
	if i := strings.IndexByte(s, ':'); i > 0 && isASCIILetter(s[0]) {
		ok := true
		for _, c := range []byte(s[:i]) {
			if !isASCIILetter(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
				ok = false
				break
			}
		}
		if ok {
			scheme, rest = strings.ToLower(s[:i]), s[i+1:]
		}
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		netloc, rest = rest[:end], rest[end:]
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, ';'); i >= 0 && strings.LastIndexByte(rest, '/') < i {
		rest = rest[:i]
	}
	return scheme, netloc, rest
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// isURL is supervisor.datatypes.url's test.
func isURL(s string) bool {
	scheme, netloc, path := urlParts(s)
	return scheme != "" && (netloc != "" || path != "")
}

// pyRepr is Python's repr() of a str.
func pyRepr(s string) string { return pyrepr.Str(s) }
