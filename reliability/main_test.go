package reliability

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testchild"
)

var (
	pythonFlag = flag.Bool("python", false, "also run the scenarios against Python supervisord 4.2.5 (/usr/bin/supervisord)")
	pauseFlag  = flag.Duration("pause", 3*time.Second, "how long TestDaemonPaused keeps the daemon SIGSTOPped")
	stormProgs = flag.Int("stormprogs", 200, "programs starting during TestReloadStorm's SIGHUPs (the issue's figure: 1000)")
)

// Binaries under test: ours (built in TestMain) and Debian's Python one.
var (
	ourBin = ""
	pyBin  = "/usr/bin/supervisord"
)

// helperEnv runs the test binary as a child program instead of the tests
// (see helperMain).
const helperEnv = "RELIABILITY_HELPER"

func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(helperMain(h))
	}
	flag.Parse()
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	// Raise the soft RLIMIT_NOFILE to the hard one explicitly: the Go
	// runtime does it for this process only, an explicit Setrlimit also
	// applies to the daemons we start (2,000 connections need the room on
	// both sides).
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	dir, err := os.MkdirTemp("", "gosupd-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ourBin = filepath.Join(dir, "supervisord")
	// Built without -race: the figures (RSS, threads, latency) are the
	// shipped binary's; cmd/supervisord's end-to-end tests run the race build.
	if err := testchild.GoBuild(ourBin, "../cmd/supervisord", false); err != nil {
		fmt.Fprintln(os.Stderr, "building supervisord:", err)
		return 1
	}
	// Grandchildren the daemon leaks (or forks by design and loses) are
	// re-parented here, where the tests see them.
	if err := testchild.BecomeSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// helperMain is a supervised program the tests need and no shell gives:
// "becomeroot", run from a setuid-root copy of this binary by a daemon
// that dropped to another user, takes uid 0 as its real and saved uid
// too (so the daemon may no longer signal it), says "uid=0" and sleeps.
func helperMain(kind string) int {
	switch kind {
	case "becomeroot":
		if err := testchild.BecomeRoot(); err != nil {
			fmt.Println(err)
			return 3
		}
		time.Sleep(time.Hour)
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown helper", kind)
	return 2
}
