package config

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/pyint"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
	"github.com/gosupervisor/gosupervisor/internal/signals"
)

// This file ports supervisor.datatypes: each function returns the value
// Python computes, or an *Error with Python's message.

func errorf(msg string) *Error { return &Error{Msg: msg} }

// pyInt is Python's int(s, base) for base 10 or 8, with its error text.
func pyInt(s string, base int) (int, error) {
	v, err := pyint.Parse(s, base)
	if err != nil {
		return 0, errorf(err.Error())
	}
	return v, nil
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
		parts[i] = pyint.Strip(parts[i])
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
	s := pyint.Strip(name)
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

// signalNumber is datatypes.signal_number.
func signalNumber(s string) (int, error) {
	n, err := signals.Number(s)
	if err != nil {
		return 0, errorf(err.Error())
	}
	return n, nil
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

// loggingLevel is datatypes.logging_level.
func loggingLevel(s string) (LogLevel, error) {
	for _, e := range logLevels {
		if e.description == strings.ToLower(s) {
			return e.level, nil
		}
	}
	return 0, errorf("bad logging level name " + pyrepr.Str(s))
}

// fsEnv gives filesystem checks the caller's working directory and home.
type fsEnv struct {
	cwd  string
	home string // $HOME, for ~ expansion
	// dirs remembers the directories found during one Load (nil: no
	// cache): thousands of log files in one directory are one stat.
	dirs map[string]bool
}

func (e fsEnv) abs(p string) string {
	if filepath.IsAbs(p) || e.cwd == "" {
		return p
	}
	return filepath.Join(e.cwd, p)
}

func (e fsEnv) isDir(p string) bool {
	p = e.abs(p)
	if e.dirs[p] {
		return true
	}
	st, err := os.Stat(p)
	ok := err == nil && st.IsDir()
	if ok && e.dirs != nil {
		e.dirs[p] = true
	}
	return ok
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
