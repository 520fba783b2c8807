package procman

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// fieldLogger is a recorder that is also a FieldLogger.
type fieldLogger struct {
	*recorder
	mu     sync.Mutex
	fields map[string]LogFields // by message
}

func (f *fieldLogger) LogProcess(level config.LogLevel, msg string, lf LogFields) {
	f.mu.Lock()
	f.fields[msg] = lf
	f.mu.Unlock()
	f.recorder.Log(level, msg)
}

// TestFieldLogger: a Logger that is a FieldLogger gets the process, group
// and pid of the lines about a process, and the states and exit status of
// the lines that report a change.
func TestFieldLogger(t *testing.T) {
	rec := newRecorder()
	fl := &fieldLogger{recorder: rec, fields: map[string]LogFields{}}
	s, _ := newTestSupervisor(t, Options{Logger: fl, OnTransition: rec.onTransition})
	p := proc("quits", "exit", "3")
	p.Startsecs = 0
	if err := s.AddGroups([]*config.Group{homogeneous(p)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "quits", false); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "quits", Exited, 10*time.Second)
	trs := rec.transitions("quits")
	pid := trs[len(trs)-1].PID
	const exitLine = "exited: quits (exit status 3; not expected)"
	rec.waitFor(t, "the exit line (logs are delivered asynchronously)", 10*time.Second, func() bool { return rec.hasLog("WARN " + exitLine) })
	fl.mu.Lock()
	defer fl.mu.Unlock()
	spawned, ok := fl.fields["spawned: 'quits' with pid "+strconv.Itoa(pid)]
	if !ok || spawned != (LogFields{Process: "quits", Group: "quits", PID: pid}) {
		t.Errorf("spawned line fields %+v (found %v)", spawned, ok)
	}
	exited, ok := fl.fields[exitLine]
	if !ok || exited.ExitStatus == nil || *exited.ExitStatus != 3 || !exited.Transition ||
		exited.From != Running || exited.To != Exited || exited.PID != pid || exited.Group != "quits" {
		t.Errorf("exited line fields %+v (found %v)", exited, ok)
	}
}
