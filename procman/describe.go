package procman

import (
	"fmt"
	"time"
)

// ProcessInfo is getProcessInfo's struct (reference §3.3), in wire order.
type ProcessInfo struct {
	Name          string
	Group         string
	Start         int64 // epoch seconds of the last spawn; 0 if never
	Stop          int64 // epoch seconds of the last exit; 0 if never
	Now           int64
	State         State
	StateName     string
	Spawnerr      string
	ExitStatus    int
	Logfile       string // same as StdoutLogfile
	StdoutLogfile string
	StderrLogfile string
	PID           int
	Description   string
}

// cappedInt is Python's capped_int for timestamps.
func cappedInt(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	v := t.Unix()
	const max = 1<<31 - 1
	if v > max {
		return max
	}
	if v < -max-1 {
		return -max - 1
	}
	return v
}

// pyTimedelta renders seconds as Python's str(timedelta): "0:00:14",
// "1 day, 2:03:04", "3 days, 0:00:05".
func pyTimedelta(secs int64) string {
	days := secs / 86400
	rem := secs % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	hms := fmt.Sprintf("%d:%02d:%02d", rem/3600, rem%3600/60, rem%60)
	switch days {
	case 0:
		return hms
	case 1, -1:
		return fmt.Sprintf("%d day, %s", days, hms)
	}
	return fmt.Sprintf("%d days, %s", days, hms)
}

// describe is rpcinterface._interpretProcessInfo. loc is the local time zone
// for the stop date.
func describe(info *ProcessInfo, loc *time.Location) string {
	switch info.State {
	case Running:
		up := info.Now - info.Start
		if up < 0 {
			up = 0
		}
		return fmt.Sprintf("pid %d, uptime %s", info.PID, pyTimedelta(up))
	case Fatal, Backoff:
		if info.Spawnerr != "" {
			return info.Spawnerr
		}
		return fmt.Sprintf("unknown error (try \"tail %s\")", info.Name)
	case Stopped, Exited:
		if info.Start != 0 {
			return time.Unix(info.Stop, 0).In(loc).Format("Jan 02 03:04 PM")
		}
		return "Not started"
	}
	return ""
}
