package procman

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/errno"
)

// rlimits= is applied by a re-exec'd helper. Go's syscall.ForkExec has no
// hook between fork and exec and we are cgo-free, so the forked child
// execs this same binary (/proc/self/exe) under the marker argv[0]
// execHelperArg0. The helper's init, before main and before any other
// goroutine of ours runs, calls setrlimit on itself, then drops
// privileges (setgroups, setgid, setuid: after setrlimit, so a hard
// limit above the current one can still be raised as root), then execs
// the program in place: same pid, process group, fds, directory, umask
// and environment. Setting limits from the parent instead is wrong:
// prlimit on the child's pid races with its exec (and RLIMIT_STACK and
// RLIMIT_AS must be in place at exec), and changing supervisord's own
// limits around the fork would touch every other spawn and cannot undo a
// lowered hard limit. A helper failure is reported as Python's child
// reports one: "supervisor: couldn't ..." on stderr, exit status 127.

const execHelperArg0 = "gosupervisor-rlimit-exec"

// rlimitResources are the Linux resource numbers of config.RlimitNames
// (asm-generic, the same on amd64, arm64 and arm).
var rlimitResources = map[string]int{
	"cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "rss": 5,
	"nproc": 6, "nofile": 7, "memlock": 8, "as": 9,
}

func init() {
	if len(os.Args) > 0 && os.Args[0] == execHelperArg0 {
		os.Exit(execHelperMain(os.Args[1:]))
	}
}

// helperCommand wraps filename/argv so that the child first sets
// limits and (when cred is set) drops privileges. The returned filename
// is /proc/self/exe, resolved in the forked child, i.e. this binary.
func rlimitCommand(limits []config.Rlimit, cred *syscall.Credential, filename string, argv []string) (string, []string) {
	var ls []string
	for _, l := range limits {
		ls = append(ls, fmt.Sprintf("%d:%d:%d", rlimitResources[l.Name], l.Soft, l.Hard))
	}
	creds := "-"
	if cred != nil {
		var gs []string
		for _, g := range cred.Groups {
			gs = append(gs, strconv.FormatUint(uint64(g), 10))
		}
		creds = fmt.Sprintf("%d:%d:%s", cred.Uid, cred.Gid, strings.Join(gs, ","))
	}
	args := append([]string{execHelperArg0, strings.Join(ls, ","), creds, filename}, argv...)
	return "/proc/self/exe", args
}

// execHelperMain is the helper: args are LIMITS CREDS FILENAME ARGV...
// It returns only on failure, with the exit status.
func execHelperMain(args []string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "supervisor: "+format+"\nsupervisor: child process was not spawned\n", a...)
		return 127
	}
	if len(args) < 4 {
		return fail("bad %s arguments %q", execHelperArg0, args)
	}
	limits, creds, filename, argv := args[0], args[1], args[2], args[3:]
	if limits != "" {
		for _, l := range strings.Split(limits, ",") {
			var res int
			var rl syscall.Rlimit
			if _, err := fmt.Sscanf(l, "%d:%d:%d", &res, &rl.Cur, &rl.Max); err != nil {
				return fail("bad rlimit %q: %v", l, err)
			}
			if err := syscall.Setrlimit(res, &rl); err != nil {
				return fail("couldn't set rlimit %s: %s", rlimitName(res, rl), errno.NameOr(err))
			}
		}
	}
	if creds != "-" {
		var uid, gid int
		var groups []int
		parts := strings.SplitN(creds, ":", 3)
		if len(parts) != 3 {
			return fail("bad credentials %q", creds)
		}
		uid, _ = strconv.Atoi(parts[0])
		gid, _ = strconv.Atoi(parts[1])
		for _, g := range strings.Split(parts[2], ",") {
			if n, err := strconv.Atoi(g); err == nil {
				groups = append(groups, n)
			}
		}
		if err := syscall.Setgroups(groups); err != nil {
			return fail("couldn't set groups for uid %d: %s", uid, errno.NameOr(err))
		}
		if err := syscall.Setgid(gid); err != nil {
			return fail("couldn't setgid to %d: %s", gid, errno.NameOr(err))
		}
		if err := syscall.Setuid(uid); err != nil {
			return fail("couldn't setuid to %d: %s", uid, errno.NameOr(err))
		}
	}
	// supervisord ignores SIGPIPE and SIGXFSZ, as Python's interpreter
	// does, and its programs inherit that; Go installed its own handlers
	// in this helper, which the exec would reset to the default.
	signal.Ignore(syscall.SIGPIPE, syscall.SIGXFSZ)
	err := syscall.Exec(filename, argv, os.Environ())
	return fail("couldn't exec %s: %s", argv[0], errno.NameOr(err))
}

func rlimitName(res int, rl syscall.Rlimit) string {
	for name, r := range rlimitResources {
		if r == res {
			return config.Rlimit{Name: name, Soft: rl.Cur, Hard: rl.Max}.String()
		}
	}
	return strconv.Itoa(res)
}
