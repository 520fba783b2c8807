package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/account"
)

const rootCritical = "Supervisor is running as root.  Privileges were not " +
	"dropped because no user is specified in the config file.  If you " +
	"intend to run as root, you can set user=root in the config file to " +
	"avoid this message."

// setUID is ServerOptions.set_uid_or_exit: it returns the message to queue
// (a critical when root keeps its privileges, an info after switching) or
// a usage error.
func setUID(u *config.User) (criticals, infos []string, err error) {
	if u == nil {
		if os.Getuid() == 0 {
			return []string{rootCritical}, nil, nil
		}
		return nil, nil, nil
	}
	if msg := dropPrivileges(u.UID); msg != "" {
		return nil, nil, &usageError{msg: msg}
	}
	return nil, []string{fmt.Sprintf("Set uid to user %d succeeded", u.UID)}, nil
}

// dropPrivileges is ServerOptions.drop_privileges for a resolved uid: ""
// on success, else Python's message. Go's syscall.Setuid & co. apply to
// every thread of the process.
func dropPrivileges(uid int) string {
	pw, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return fmt.Sprintf("Can't find uid %d", uid)
	}
	if os.Getuid() == uid {
		return ""
	}
	if os.Getuid() != 0 {
		return "Can't drop privilege as nonroot user"
	}
	gid, err := strconv.Atoi(pw.Gid)
	if err != nil {
		return "Could not set group id of effective user"
	}
	groups := account.Groups(pw.Username, gid)
	if err := syscall.Setgroups(groups); err != nil {
		return "Could not set groups of effective user"
	}
	if err := syscall.Setgid(gid); err != nil {
		return "Could not set group id of effective user"
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Sprintf("Could not set user id of effective user: %v", err)
	}
	return ""
}

// rlimitNproc is RLIMIT_NPROC on Linux (syscall does not export it on
// every architecture).
const rlimitNproc = 6

// restoreNofile undoes the Go runtime's raise of the soft RLIMIT_NOFILE.
// syscall's init sets it to the hard limit (minus one) for this process and
// hands every child the original soft limit back, whatever minfds asked;
// under Python, supervisord and its programs run with max(the limit it was
// started with, minfds), and minfds is how users give their programs more
// descriptors. syscall.Exec puts the original limit back before its execve
// and leaves it when the execve fails, as an empty path does at once;
// after that children inherit the current limit, which setRlimits raises
// to minfds as Python does. Without Go's raise (a soft limit already at the
// hard one) this changes nothing.
func restoreNofile() {
	_ = syscall.Exec("", []string{""}, nil)
}

// setRlimits is ServerOptions.set_rlimits_or_exit: raise RLIMIT_NOFILE to
// minfds and RLIMIT_NPROC to minprocs, or fail with Python's message.
func setRlimits(minfds, minprocs int) (infos []string, err error) {
	limits := []struct {
		name     string
		resource int
		min      int
		msg      string
	}{
		{"RLIMIT_NOFILE", syscall.RLIMIT_NOFILE, minfds,
			"The minimum number of file descriptors required to run this process is %d as per the \"minfds\" command-line argument or config file setting. The current environment will only allow you to open %d file descriptors.  Either raise the number of usable file descriptors in your environment (see README.rst) or lower the minfds setting in the config file to allow the process to start."},
		{"RLIMIT_NPROC", rlimitNproc, minprocs,
			"The minimum number of available processes required to run this program is %d as per the \"minprocs\" command-line argument or config file setting. The current environment will only allow you to open %d processes.  Either raise the number of usable processes in your environment (see README.rst) or lower the minprocs setting in the config file to allow the program to start."},
	}
	const infinity = ^uint64(0)
	for _, l := range limits {
		var rl syscall.Rlimit
		if err := syscall.Getrlimit(l.resource, &rl); err != nil {
			continue
		}
		min := uint64(l.min)
		if l.min < 0 || rl.Cur == infinity || rl.Cur >= min {
			continue
		}
		hard := rl.Max
		if hard != infinity && hard < min {
			hard = min // only root may raise it; otherwise setrlimit fails
		}
		if err := syscall.Setrlimit(l.resource, &syscall.Rlimit{Cur: min, Max: hard}); err != nil {
			return infos, usagef(l.msg, l.min, int64(hard))
		}
		infos = append(infos, fmt.Sprintf("Increased %s limit to %d", l.name, l.min))
	}
	return infos, nil
}
