package main

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// TestFirstAnswerSeesWholeConfig: the first RPC answer already lists every
// configured process, even while the autostart spawns are still going on,
// so a client that starts or inspects "all" right away misses none (the
// daemon used to add groups one by one after opening its socket).
func TestFirstAnswerSeesWholeConfig(t *testing.T) {
	const n = 300
	progs := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("p%03d", i)
		progs[name] = fmt.Sprintf("[program:%s]\ncommand=/bin/sleep 60\nstartsecs=0\nautostart=%v\n", name, i%2 == 0)
	}
	e := newEnv(t, "", progs)
	d := e.startForeground()
	var list []procInfo
	if err := e.rpc("supervisor.getAllProcessInfo", nil, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Errorf("first getAllProcessInfo lists %d processes, want all %d", len(list), n)
	}
	var res []struct {
		Status int `xmlrpc:"status"`
	}
	if err := e.rpc("supervisor.startAllProcesses", false, &res); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "every process RUNNING", func() bool {
		running := 0
		for _, p := range e.infos() {
			if p.StateName == "RUNNING" {
				running++
			}
		}
		return running == n
	})
	direct := pidsOf(e.infos())
	d.signal(syscall.SIGTERM)
	if st := d.wait(30 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
		t.Fatalf("exit status: %v", st)
	}
	assertReaped(t, direct)
	killLeftovers(t)
}
