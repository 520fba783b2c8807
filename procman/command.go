package procman

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
	"github.com/gosupervisor/gosupervisor/internal/shlex"
)

// defaultPath is Python's fallback when supervisord has no PATH.
var defaultPath = []string{"/bin", "/usr/bin", "/usr/local/bin"}

// commandError is a failure to resolve a command: its kind (ErrNoFile or
// ErrNotExecutable) and Python's spawnerr text.
type commandError struct {
	kind error
	msg  string
}

func (e *commandError) Error() string { return e.msg }

// searchPath is Subprocess.get_path: the program environment's PATH if it
// sets one (even empty), else supervisord's PATH if non-empty, else the
// default.
func searchPath(programEnv []envVar, baseEnv []string) []string {
	for i := len(programEnv) - 1; i >= 0; i-- {
		if programEnv[i].key == "PATH" {
			return strings.Split(programEnv[i].value, ":")
		}
	}
	for i := len(baseEnv) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(baseEnv[i], "PATH="); ok {
			if v != "" {
				return strings.Split(v, ":")
			}
			break
		}
	}
	return defaultPath
}

// pathJoin is os.path.join(dir, name) for a name without a slash.
func pathJoin(dir, name string) string {
	if dir == "" || strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// resolveCommand is Subprocess.get_execv_args plus check_execv_args: split
// the command with shlex, look the program up on path when it has no slash,
// and check that it exists, is not a directory and is executable.
func resolveCommand(command string, path []string) (filename string, argv []string, err error) {
	argv, perr := shlex.Split(command)
	if perr != nil {
		return "", nil, &commandError{ErrNotExecutable, fmt.Sprintf("can't parse command %s: %s", pyrepr.Str(command), perr)}
	}
	if len(argv) == 0 {
		return "", nil, &commandError{ErrNotExecutable, "command is empty"}
	}
	program := argv[0]
	var st os.FileInfo
	if strings.Contains(program, "/") {
		filename = program
		st, _ = os.Stat(filename)
	} else {
		filename = program
		for _, dir := range path {
			found := pathJoin(dir, program)
			if fi, serr := os.Stat(found); serr == nil {
				st, filename = fi, found
				break
			}
		}
	}
	switch {
	case st == nil:
		return "", nil, &commandError{ErrNoFile, fmt.Sprintf("can't find command %s", pyrepr.Str(filename))}
	case st.IsDir():
		return "", nil, &commandError{ErrNotExecutable, fmt.Sprintf("command at %s is a directory", pyrepr.Str(filename))}
	case st.Mode().Perm()&0o111 == 0:
		return "", nil, &commandError{ErrNotExecutable, fmt.Sprintf("command at %s is not executable", pyrepr.Str(filename))}
	case syscall.Access(filename, 1 /* X_OK */) != nil:
		return "", nil, &commandError{ErrNotExecutable, fmt.Sprintf("no permission to run command %s", pyrepr.Str(filename))}
	}
	return filename, argv, nil
}
