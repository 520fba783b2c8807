package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// Daemon mode. Python forks after the servers are open and the parent exits
// 0. Go cannot fork, so the parent re-executes this binary detached (new
// session, stdio on /dev/null) with daemonEnv set and the write end of a
// pipe as fd 3, and waits on the pipe: the copy writes "READY" once its
// pidfile is written, or "EXIT <status>" and the error text when its startup
// fails. The parent's exit status and terminal output are then what
// Python's would be: 0 once running, 2 and "Error: ..." for a config error
// or a socket already in use.
const daemonEnv = "GOSUPERVISORD_DAEMONIZED"

// daemonChild is the daemonized copy's end of the readiness pipe.
type daemonChild struct {
	pipe *os.File
}

// daemonChildFromEnv recognizes the daemonized copy and removes the marker
// from the environment, so neither children nor ENV_ expansions see it.
func daemonChildFromEnv() *daemonChild {
	v, ok := os.LookupEnv(daemonEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(daemonEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil
	}
	syscall.CloseOnExec(fd)
	return &daemonChild{pipe: os.NewFile(uintptr(fd), "ready-pipe")}
}

// ready tells the parent startup succeeded.
func (c *daemonChild) ready() {
	if c == nil || c.pipe == nil {
		return
	}
	io.WriteString(c.pipe, "READY\n")
	c.pipe.Close()
	c.pipe = nil
}

// report hands a startup failure to the parent; false if it could not.
func (c *daemonChild) report(status int, text string) bool {
	if c == nil || c.pipe == nil {
		return false
	}
	_, err := fmt.Fprintf(c.pipe, "EXIT %d\n%s", status, text)
	c.pipe.Close()
	c.pipe = nil
	return err == nil
}

// spawnDaemon starts the detached copy and returns the exit status the
// parent should exit with.
func spawnDaemon(argv []string, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "Error: cannot daemonize: locate executable: %v\n", err)
		return 2
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "Error: cannot daemonize: pipe: %v\n", err)
		return 2
	}
	cmd := exec.Command(exe, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = append(os.Environ(), daemonEnv+"=3")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// Stdin, Stdout and Stderr stay nil: /dev/null.
	if err := cmd.Start(); err != nil {
		w.Close()
		r.Close()
		fmt.Fprintf(stderr, "Error: cannot daemonize: %v\n", err)
		return 2
	}
	w.Close()
	defer r.Close()
	br := bufio.NewReader(r)
	line, _ := br.ReadString('\n')
	line = strings.TrimSpace(line)
	switch {
	case line == "READY":
		cmd.Process.Release()
		return 0
	case strings.HasPrefix(line, "EXIT "):
		status, err := strconv.Atoi(strings.TrimPrefix(line, "EXIT "))
		if err != nil {
			status = 2
		}
		io.Copy(stderr, br)
		cmd.Wait()
		return status
	}
	// The copy died before saying anything.
	err = cmd.Wait()
	fmt.Fprintf(stderr, "Error: the daemonized supervisord exited during startup: %v\n", err)
	return 2
}
