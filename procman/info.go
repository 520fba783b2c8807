package procman

import "time"

// ProcessInfo is a snapshot of one process, the facts behind
// getProcessInfo (the rpc package derives statename and description).
type ProcessInfo struct {
	Name          string
	Group         string
	Start         int64 // epoch seconds of the last spawn; 0 if never
	Stop          int64 // epoch seconds of the last exit; 0 if never
	Now           int64
	State         State
	Spawnerr      string
	ExitStatus    int
	Logfile       string // same as StdoutLogfile
	StdoutLogfile string
	StderrLogfile string
	PID           int
}

// epochSeconds is t in Unix seconds, 0 for the zero time (never).
func epochSeconds(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
