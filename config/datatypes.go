package config

import (
	"math/big"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// This file ports supervisor.datatypes: each function returns the value
// Python computes, or an *Error with Python's message.

func errorf(msg string) *Error { return &Error{Msg: msg} }

// pyInt is Python's int(s, base) for base 10 or 8, with its error text.
func pyInt(s string, base int) (int, error) {
	t := pyStrip(s)
	neg := false
	if strings.HasPrefix(t, "+") || strings.HasPrefix(t, "-") {
		neg = t[0] == '-'
		t = t[1:]
	}
	if base == 8 && len(t) >= 2 && t[0] == '0' && (t[1] == 'o' || t[1] == 'O') {
		t = strings.TrimPrefix(t[2:], "_")
	}
	bad := func() (int, error) {
		return 0, errorf("invalid literal for int() with base " + strconv.Itoa(base) + ": " + pyrepr.Str(s))
	}
	if t == "" {
		return bad()
	}
	var digits strings.Builder
	prevUnderscore := true
	for _, r := range t {
		if r == '_' {
			if prevUnderscore {
				return bad()
			}
			prevUnderscore = true
			continue
		}
		d := -1
		if r >= '0' && r <= '9' {
			d = int(r - '0')
		} else if unicode.Is(unicode.Nd, r) {
			d = ndValue(r)
		}
		if d < 0 || d >= base {
			return bad()
		}
		prevUnderscore = false
		digits.WriteByte(byte('0' + d))
	}
	if prevUnderscore {
		return bad()
	}
	ds := digits.String()
	if base == 10 && len(ds) > 1 && ds[0] == '0' {
		// Python accepts "007" in base 10 (int() not literals)
		ds = strings.TrimLeft(ds, "0")
		if ds == "" {
			ds = "0"
		}
	}
	v, err := strconv.ParseInt(ds, base, 64)
	if err != nil {
		// Python has arbitrary precision; clamp so callers see a huge
		// value rather than an error Python would not give.
		bi, ok := new(big.Int).SetString(ds, base)
		if !ok {
			return bad()
		}
		if neg {
			bi.Neg(bi)
		}
		if bi.Sign() < 0 {
			return -clampInt, nil
		}
		return clampInt, nil
	}
	if v > int64(clampInt) {
		v = int64(clampInt)
	}
	if neg {
		v = -v
	}
	return int(v), nil
}

// clampInt is where huge integers are clamped: 2^62 on 64-bit platforms,
// 2^30 on 32-bit ones (GOARCH=arm), so it always fits an int.
const clampInt = int(^uint(0) >> 2)

// ndValue is the decimal value of a Unicode Nd digit.
func ndValue(r rune) int {
	for _, rt := range unicode.Nd.R16 {
		if uint16(r) >= rt.Lo && uint16(r) <= rt.Hi && r <= 0xffff {
			return int(uint16(r)-rt.Lo) % 10
		}
	}
	for _, rt := range unicode.Nd.R32 {
		if uint32(r) >= rt.Lo && uint32(r) <= rt.Hi {
			return int(uint32(r)-rt.Lo) % 10
		}
	}
	return -1
}

// integer is datatypes.integer.
func integer(s string) (int, error) { return pyInt(s, 10) }

var truthy = []string{"yes", "true", "on", "1"}
var falsy = []string{"no", "false", "off", "0"}

func inList(s string, l []string) bool {
	for _, x := range l {
		if s == x {
			return true
		}
	}
	return false
}

// boolean is datatypes.boolean.
func boolean(s string) (bool, error) {
	ss := strings.ToLower(s)
	switch {
	case inList(ss, truthy):
		return true, nil
	case inList(ss, falsy):
		return false, nil
	}
	return false, errorf("not a valid boolean value: " + pyrepr.Str(s))
}

// listOfStrings is datatypes.list_of_strings.
func listOfStrings(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = pyStrip(parts[i])
	}
	return parts
}

// listOfExitcodes is datatypes.list_of_exitcodes.
func listOfExitcodes(s string) ([]int, error) {
	bad := errorf("not a valid list of exit codes: " + pyrepr.Str(s))
	if s == "" {
		return []int{}, nil
	}
	var out []int
	for _, p := range strings.Split(s, ",") {
		v, err := pyInt(p, 10)
		if err != nil || v < 0 || v > 255 {
			return nil, bad
		}
		out = append(out, v)
	}
	return out, nil
}

// processOrGroupName is datatypes.process_or_group_name.
func processOrGroupName(name string) (string, error) {
	s := pyStrip(name)
	for _, c := range " :/" {
		if strings.ContainsRune(s, c) {
			return "", errorf("Invalid name: " + pyrepr.Str(name) + " because of character: " + pyrepr.Str(string(c)))
		}
	}
	return s, nil
}

// byteSize is datatypes.byte_size.
func byteSize(s string) (int64, error) {
	v := strings.ToLower(s)
	mult := 1
	r := []rune(v)
	if len(r) >= 2 {
		switch string(r[len(r)-2:]) {
		case "kb":
			mult, v = 1024, string(r[:len(r)-2])
		case "mb":
			mult, v = 1024*1024, string(r[:len(r)-2])
		case "gb":
			mult, v = 1024*1024*1024, string(r[:len(r)-2])
		}
	}
	n, err := pyInt(v, 10)
	if err != nil {
		return 0, err
	}
	return int64(n) * int64(mult), nil
}

// octalType is datatypes.octal_type.
func octalType(s string) (int, error) {
	v, err := pyInt(s, 8)
	if err != nil {
		return 0, errorf(s + " can not be converted to an octal type")
	}
	return v, nil
}

// Linux signal names as Python's signal module has them.
var signalNames = map[string]int{
	"SIGABRT": 6, "SIGALRM": 14, "SIGBUS": 7, "SIGCHLD": 17, "SIGCLD": 17,
	"SIGCONT": 18, "SIGFPE": 8, "SIGHUP": 1, "SIGILL": 4, "SIGINT": 2,
	"SIGIO": 29, "SIGIOT": 6, "SIGKILL": 9, "SIGPIPE": 13, "SIGPOLL": 29,
	"SIGPROF": 27, "SIGPWR": 30, "SIGQUIT": 3, "SIGRTMAX": 64, "SIGRTMIN": 34,
	"SIGSEGV": 11, "SIGSTKFLT": 16, "SIGSTOP": 19, "SIGSYS": 31, "SIGTERM": 15,
	"SIGTRAP": 5, "SIGTSTP": 20, "SIGTTIN": 21, "SIGTTOU": 22, "SIGURG": 23,
	"SIGUSR1": 10, "SIGUSR2": 12, "SIGVTALRM": 26, "SIGWINCH": 28,
	"SIGXCPU": 24, "SIGXFSZ": 25, "SIG_BLOCK": 0, "SIG_DFL": 0, "SIG_IGN": 1,
	"SIG_SETMASK": 2, "SIG_UNBLOCK": 1,
}

// signalNumber is datatypes.signal_number.
func signalNumber(s string) (int, error) {
	num, err := pyInt(s, 10)
	if err != nil {
		name := strings.ToUpper(pyStrip(s))
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		n, ok := signalNames[name]
		if !ok {
			return 0, errorf("value " + pyrepr.Str(s) + " is not a valid signal name")
		}
		num = n
	}
	if !(num >= 0 && num <= 31) && num != 34 && num != 64 {
		return 0, errorf("value " + pyrepr.Str(s) + " is not a valid signal number")
	}
	return num, nil
}

// autoRestart is datatypes.auto_restart.
func autoRestart(s string) (Autorestart, error) {
	v := strings.ToLower(s)
	switch {
	case inList(v, truthy):
		return AutorestartAlways, nil
	case inList(v, falsy):
		return AutorestartNever, nil
	case v == "unexpected":
		return AutorestartUnexpected, nil
	}
	return 0, errorf("invalid 'autorestart' value " + pyrepr.Str(v))
}

var levelsByDescription = map[string]LogLevel{
	"critical": LevelCritical, "error": LevelError, "warn": LevelWarn,
	"info": LevelInfo, "debug": LevelDebug, "trace": LevelTrace,
	"blather": LevelBlather,
}

// loggingLevel is datatypes.logging_level.
func loggingLevel(s string) (LogLevel, error) {
	if l, ok := levelsByDescription[strings.ToLower(s)]; ok {
		return l, nil
	}
	return 0, errorf("bad logging level name " + pyrepr.Str(s))
}

// fsEnv gives filesystem checks the caller's working directory and home.
type fsEnv struct {
	cwd  string
	home string // $HOME, for ~ expansion
}

func (e fsEnv) abs(p string) string {
	if filepath.IsAbs(p) || e.cwd == "" {
		return p
	}
	return filepath.Join(e.cwd, p)
}

func (e fsEnv) isDir(p string) bool {
	st, err := os.Stat(e.abs(p))
	return err == nil && st.IsDir()
}

func (e fsEnv) exists(p string) bool {
	_, err := os.Stat(e.abs(p))
	return err == nil
}

// expandUser is os.path.expanduser.
func (e fsEnv) expandUser(p string) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	i := strings.IndexByte(p, '/')
	if i < 0 {
		i = len(p)
	}
	var home string
	if i == 1 {
		home = e.home
		if home == "" {
			if u, err := user.Current(); err == nil {
				home = u.HomeDir
			} else {
				return p
			}
		}
	} else {
		u, err := user.Lookup(p[1:i])
		if err != nil {
			return p
		}
		home = u.HomeDir
	}
	home = strings.TrimRight(home, "/")
	out := home + p[i:]
	if out == "" {
		return "/"
	}
	return out
}

// normalizePath is options.normalize_path: normpath(abspath(expanduser)).
func (e fsEnv) normalizePath(p string) string {
	return e.abspath(e.expandUser(p))
}

// abspath is os.path.abspath.
func (e fsEnv) abspath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = pyJoin(e.cwd, p)
	}
	return pyNormpath(p)
}

// pyNormpath is posixpath.normpath for an absolute or relative path.
func pyNormpath(p string) string {
	if p == "" {
		return "."
	}
	initial := 0
	if strings.HasPrefix(p, "/") {
		initial = 1
		if strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "///") {
			initial = 2
		}
	}
	var comps []string
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." {
			continue
		}
		if c != ".." || (initial == 0 && len(comps) == 0) || (len(comps) > 0 && comps[len(comps)-1] == "..") {
			comps = append(comps, c)
		} else if len(comps) > 0 {
			comps = comps[:len(comps)-1]
		}
	}
	out := strings.Join(comps, "/")
	out = strings.Repeat("/", initial) + out
	if out == "" {
		return "."
	}
	return out
}

// pyDirname is posixpath.dirname.
func pyDirname(p string) string {
	i := strings.LastIndexByte(p, '/') + 1
	head := p[:i]
	if head != "" && strings.Trim(head, "/") != "" {
		head = strings.TrimRight(head, "/")
	}
	return head
}

// existingDirectory is datatypes.existing_directory.
func (e fsEnv) existingDirectory(v string) (string, error) {
	nv := e.expandUser(v)
	if e.isDir(nv) {
		return nv, nil
	}
	return "", errorf(v + " is not an existing directory")
}

// existingDirpath is datatypes.existing_dirpath.
func (e fsEnv) existingDirpath(v string) (string, error) {
	nv := e.expandUser(v)
	dir := pyDirname(nv)
	if dir == "" || e.isDir(dir) {
		return nv, nil
	}
	return "", errorf("The directory named as part of the path " + v + " does not exist")
}

// logfile kinds returned by logfileName.
const (
	logfileNone = iota
	logfileAuto
	logfileSyslog
	logfilePath
)

// logfileName is datatypes.logfile_name for a configured string.
func (e fsEnv) logfileName(v string) (int, string, error) {
	switch strings.ToLower(v) {
	case "none", "off":
		return logfileNone, "", nil
	case "auto":
		return logfileAuto, "", nil
	case "syslog":
		return logfileSyslog, "", nil
	}
	p, err := e.existingDirpath(v)
	if err != nil {
		return 0, "", err
	}
	return logfilePath, p, nil
}

// nameToUID is datatypes.name_to_uid.
func nameToUID(name string) (int, error) {
	if _, err := pyInt(name, 10); err == nil {
		uid, _ := pyInt(name, 10)
		if _, err := user.LookupId(strconv.Itoa(uid)); err != nil {
			return 0, errorf("Invalid user id " + name)
		}
		return uid, nil
	}
	u, err := user.Lookup(name)
	if err != nil || name == "" {
		return 0, errorf("Invalid user name " + name)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return 0, errorf("Invalid user name " + name)
	}
	return uid, nil
}

// nameToGID is datatypes.name_to_gid.
func nameToGID(name string) (int, error) {
	if _, err := pyInt(name, 10); err == nil {
		gid, _ := pyInt(name, 10)
		if _, err := user.LookupGroupId(strconv.Itoa(gid)); err != nil {
			return 0, errorf("Invalid group id " + name)
		}
		return gid, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil || name == "" {
		return 0, errorf("Invalid group name " + name)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return 0, errorf("Invalid group name " + name)
	}
	return gid, nil
}

// gidForUID is datatypes.gid_for_uid.
func gidForUID(uid int) int {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return -1
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return -1
	}
	return gid
}

// resolveUser resolves a configured user into a User.
func resolveUser(name string) (*User, error) {
	uid, err := nameToUID(name)
	if err != nil {
		return nil, err
	}
	return &User{Name: name, UID: uid, GID: gidForUID(uid)}, nil
}

// colonSeparatedUserGroup is datatypes.colon_separated_user_group.
func colonSeparatedUserGroup(arg string) (int, int, error) {
	bad := errorf("Invalid user:group definition " + arg)
	parts := strings.SplitN(arg, ":", 2)
	uid, err := nameToUID(parts[0])
	if err != nil {
		return 0, 0, bad
	}
	gid := -1
	if len(parts) == 2 {
		if gid, err = nameToGID(parts[1]); err != nil {
			return 0, 0, bad
		}
	}
	return uid, gid, nil
}

// portNumber is datatypes.port_number.
func portNumber(s string) (int, error) {
	v, err := integer(s)
	if err != nil {
		return 0, err
	}
	if v < 1 {
		return 0, errorf(strconv.Itoa(v) + " is below lower bound (1)")
	}
	if v > 0xffff {
		return 0, errorf(strconv.Itoa(v) + " is above upper bound (65535)")
	}
	return v, nil
}

// inetAddress is datatypes.inet_address.
func inetAddress(s string) (string, int, error) {
	host := ""
	var port int
	var err error
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, s = s[:i], s[i+1:]
		if s == "" {
			return "", 0, errorf("no port number specified in " + pyrepr.Str(s))
		}
		if port, err = portNumber(s); err != nil {
			return "", 0, err
		}
		host = strings.ToLower(host)
	} else {
		if port, err = portNumber(s); err != nil {
			return "", 0, errorf("not a valid port number: " + pyrepr.Str(s) + " ")
		}
	}
	if host == "*" {
		host = ""
	}
	return host, port, nil
}
