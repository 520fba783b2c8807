package testchild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// GoBuild builds the package pkg (a path relative to the working
// directory) into out with the toolchain running the tests ($GOROOT/bin/go,
// else go on $PATH): cgo-free as shipped, or with -race (which needs cgo).
// The compiler's messages go to stderr.
func GoBuild(out, pkg string, race bool) error {
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	args := []string{"build", "-o", out}
	cgo := "CGO_ENABLED=0"
	if race {
		args, cgo = append(args, "-race"), "CGO_ENABLED=1"
	}
	build := exec.Command(gobin, append(args, pkg)...)
	build.Stderr = os.Stderr
	build.Env = append(os.Environ(), cgo)
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", pkg, err)
	}
	return nil
}

// Child is a process whose parent is the calling process.
type Child struct {
	PID   int
	State string // the state letter of /proc/PID/stat: "Z" for a zombie
}

// Children lists the processes, alive or zombie, whose parent is the
// calling process, as /proc shows them now.
func Children() []Child {
	me := os.Getpid()
	var out []Child
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == me {
			out = append(out, Child{PID: pid, State: f[0]})
		}
	}
	return out
}
