package reliability

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// states with a live process behind them.
var liveStates = map[string]bool{"STARTING": true, "RUNNING": true, "STOPPING": true}

// inconsistency compares getAllProcessInfo with /proc: a process in a live
// state has a live pid whose parent is the daemon, every other one has pid
// 0, no two entries share a pid, and every live child of the daemon is in
// the table. It returns "" when they agree.
func (d *daemon) inconsistency() string {
	list, err := d.infos()
	if err != nil {
		return "getAllProcessInfo: " + err.Error()
	}
	var problems []string
	seen := map[int]string{}
	for _, p := range list {
		name := p.Group + ":" + p.Name
		if !liveStates[p.StateName] {
			if p.PID != 0 {
				problems = append(problems, fmt.Sprintf("%s is %s with pid %d", name, p.StateName, p.PID))
			}
			continue
		}
		st, ok := readStat(p.PID)
		switch {
		case p.PID == 0:
			problems = append(problems, fmt.Sprintf("%s is %s without a pid", name, p.StateName))
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is %s but pid %d does not exist", name, p.StateName, p.PID))
		case st.ppid != d.pid:
			problems = append(problems, fmt.Sprintf("%s pid %d has parent %d, not the daemon", name, p.PID, st.ppid))
		case st.state == "Z":
			problems = append(problems, fmt.Sprintf("%s is %s but pid %d is a zombie", name, p.StateName, p.PID))
		}
		if other, dup := seen[p.PID]; dup && p.PID != 0 {
			problems = append(problems, fmt.Sprintf("%s and %s share pid %d", name, other, p.PID))
		}
		seen[p.PID] = name
	}
	for _, st := range allStats() {
		if st.ppid == d.pid && st.state != "Z" {
			if _, ok := seen[st.pid]; !ok {
				problems = append(problems, fmt.Sprintf("child %d (%s) of the daemon is in no table entry", st.pid, st.comm))
			}
		}
	}
	slices.Sort(problems)
	return strings.Join(problems, "; ")
}

// settleConsistent waits until the table agrees with /proc (transitions
// in flight are given time: limit, at least minWait) and no child of the
// daemon is a zombie; it fails the test with the last disagreement
// otherwise.
func (d *daemon) settleConsistent(limit time.Duration) {
	d.t.Helper()
	limit = max(limit, minWait)
	last := ""
	deadline := time.Now().Add(limit)
	for {
		last = d.inconsistency()
		if last == "" && zombies(d.pid) == 0 {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%s: state never agreed with /proc within %v: %s (zombies %d)", d.fl.name, limit, last, zombies(d.pid))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// states returns name -> state name.
func (d *daemon) states() map[string]procInfo {
	d.t.Helper()
	list, err := d.infos()
	if err != nil {
		d.t.Fatalf("%s getAllProcessInfo: %v", d.fl.name, err)
	}
	m := map[string]procInfo{}
	for _, p := range list {
		m[p.Group+":"+p.Name] = p
	}
	return m
}

// waitState waits until process name ("group:name") is in state want.
func (d *daemon) waitState(limit time.Duration, name, want string) procInfo {
	d.t.Helper()
	var got procInfo
	waitFor(d.t, limit, name+" "+want, func() bool {
		got = d.states()[name]
		return got.StateName == want
	})
	return got
}
