package main

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const gosupervisorSectionConf = "\n[rpcinterface:gosupervisor]\nsupervisor.rpcinterface_factory = gosupervisor.rpcinterface:make_main_rpcinterface\n"

// health is gosupervisor.getProcessHealth's struct as a Go client reads it.
type health struct {
	Name       string   `xmlrpc:"name"`
	Group      string   `xmlrpc:"group"`
	Ready      bool     `xmlrpc:"ready"`
	Healthy    bool     `xmlrpc:"healthy"`
	LastCheck  int64    `xmlrpc:"last_check"`
	LastError  string   `xmlrpc:"last_error"`
	Restarts   int      `xmlrpc:"restarts"`
	DependsOn  []string `xmlrpc:"depends_on"`
	RSS        int64    `xmlrpc:"rss"`
	CPUSeconds float64  `xmlrpc:"cpu_seconds"`
}

// TestGosupervisorNamespaceIsOptIn: without [rpcinterface:gosupervisor]
// the method table is Python's; with it the health methods answer.
func TestGosupervisorNamespaceIsOptIn(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[on], func(t *testing.T) {
			extra := ""
			if on {
				extra = gosupervisorSectionConf
			}
			e := newEnv(t, extra, map[string]string{"a": progA, "c": progC})
			d := e.startForeground()
			e.waitStates(map[string]string{"a:a": "RUNNING", "c:c": "STOPPED"})
			var names []string
			if err := e.rpc("system.listMethods", nil, &names); err != nil {
				t.Fatal(err)
			}
			var all []health
			err := e.rpc("gosupervisor.getAllProcessHealth", nil, &all)
			if !on {
				if len(names) != 41 || slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "gosupervisor.") }) {
					t.Fatalf("listMethods without the section: %d %v", len(names), names)
				}
				if err == nil || !strings.Contains(err.Error(), "UNKNOWN_METHOD") {
					t.Fatalf("getAllProcessHealth without the section: %v", err)
				}
				if strings.Contains(e.mainLog(), "gosupervisor") {
					t.Errorf("main log mentions gosupervisor:\n%s", e.mainLog())
				}
				d.signal(syscall.SIGTERM)
				d.wait(15 * time.Second)
				return
			}
			if len(names) != 46 || !slices.Contains(names, "gosupervisor.rotateLogs") || !slices.Contains(names, "gosupervisor.upgrade") {
				t.Fatalf("listMethods with the section: %d %v", len(names), names)
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2 || all[0].Name != "a" || !all[0].Ready || !all[0].Healthy || all[0].Restarts != 0 ||
				all[1].Name != "c" || all[1].Ready || all[1].Healthy || all[1].RSS != 0 || all[1].CPUSeconds != 0 {
				t.Fatalf("getAllProcessHealth: %+v", all)
			}
			e.ctlOrRPCRestart(t, "a:a")
			// a is a sleep: resident, with a few CPU ticks at most. It
			// is RUNNING at spawn (startsecs=0), and a child that has
			// not run since its exec has mapped no page yet: RSS is
			// awaited.
			var one health
			waitFor(t, time.Minute, "a's RSS", func() bool {
				return e.rpc("gosupervisor.getProcessHealth", "a", &one) == nil && one.RSS > 0
			})
			if one.Restarts != 1 || !one.Ready || one.Group != "a" || one.RSS <= 0 || one.CPUSeconds < 0 {
				t.Errorf("after a restart: %+v", one)
			}
			if err := e.rpc("gosupervisor.getProcessHealth", "nosuch", &one); err == nil || !strings.Contains(err.Error(), "BAD_NAME: nosuch") {
				t.Errorf("unknown name: %v", err)
			}
			if !strings.Contains(e.mainLog(), "RPC interface 'gosupervisor' initialized") {
				t.Errorf("main log:\n%s", e.mainLog())
			}
			d.signal(syscall.SIGTERM)
			if st := d.wait(15 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
				t.Fatalf("exit status after SIGTERM: %v", st)
			}
		})
	}
}

// ctlOrRPCRestart stops and starts one process over XML-RPC.
func (e *env) ctlOrRPCRestart(t *testing.T, spec string) {
	t.Helper()
	var ok bool
	if err := e.rpc("supervisor.stopProcess", spec, &ok); err != nil {
		t.Fatal(err)
	}
	if err := e.rpc("supervisor.startProcess", spec, &ok); err != nil {
		t.Fatal(err)
	}
	e.waitStates(map[string]string{spec: "RUNNING"})
}

// TestProbesEndToEnd runs a daemon whose programs use ready=log:,
// healthcheck=exec: and a ready check that never passes, and reads the
// results over XML-RPC.
func TestProbesEndToEnd(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	e := newEnv(t, gosupervisorSectionConf, map[string]string{
		"web": "[program:web]\ncommand=/bin/sh -c 'echo booting; test -e %(here)s/go || sleep 0.2; echo listening; exec sleep 1000'\n" +
			"startsecs=0\nready=log:^listening$\nready_timeout=30\n" +
			"healthcheck=exec:/bin/sh -c 'test -e %(here)s/healthy'\nhealthcheck_interval=0.2\nhealthcheck_retries=2\n",
		"never": "[program:never]\ncommand=sleep 1000\nstartsecs=0\nstartretries=0\n" +
			"ready=tcp://" + closed + "\nready_timeout=2\nready_interval=0.1\nstopwaitsecs=2\n",
	})
	e.write("progs/healthy", "")
	d := e.startForeground()
	e.waitStates(map[string]string{"web:web": "RUNNING", "never:never": "FATAL"})

	var info struct {
		Description string `xmlrpc:"description"`
	}
	if err := e.rpc("supervisor.getProcessInfo", "never", &info); err != nil {
		t.Fatal(err)
	}
	// ready_timeout=2: time for an attempt to fail first, however loaded
	// the box (the message names the last failure).
	why := "ready check failed for 2s: tcp://" + closed + ": dial tcp " + closed + ": connect: connection refused"
	if info.Description != why {
		t.Errorf("never: description %q, want %q", info.Description, why)
	}
	// web has just exec'd sleep: a child that has not run yet has mapped
	// no page, so RSS is awaited rather than read once.
	var h health
	waitFor(t, time.Minute, "web's RSS", func() bool {
		return e.rpc("gosupervisor.getProcessHealth", "web", &h) == nil && h.RSS > 0
	})
	if !h.Ready || !h.Healthy || h.Restarts != 0 {
		t.Errorf("web: %+v", h)
	}
	// Unhealthy twice in a row: stopped and started again.
	if err := os.Remove(filepath.Join(e.dir, "progs", "healthy")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("main log:\n%s", e.mainLog())
		}
	})
	waitFor(t, 20*time.Second, "web restarted by its health check", func() bool {
		return strings.Contains(e.mainLog(), "WARN unhealthy: web: health check failed 2 times in a row: exec:/bin/sh -c 'test -e "+e.dir+"/progs/healthy': exit status 1; restarting it")
	})
	e.write("progs/healthy", "")
	e.write("progs/go", "")
	e.waitStates(map[string]string{"web:web": "RUNNING"})
	waitFor(t, 20*time.Second, "web healthy again", func() bool {
		return e.rpc("gosupervisor.getProcessHealth", "web", &h) == nil && h.Healthy && h.Restarts >= 1
	})
	log := e.mainLog()
	for _, want := range []string{
		"INFO ready: web passed its ready check (log:^listening$)",
		"WARN not ready: never: " + why,
		"INFO gave up: never entered FATAL state, too many start retries too quickly",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("main log lacks %q", want)
		}
	}
	d.signal(syscall.SIGTERM)
	if st := d.wait(15 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
		t.Fatalf("exit status after SIGTERM: %v", st)
	}
}

// notifyScript is a daemon built for systemd: it tells $NOTIFY_SOCKET
// READY=1 once a flag file exists.
const notifyScript = `import os, socket, time
while not os.path.exists(os.environ["FLAG"]):
    time.sleep(0.02)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"STATUS=serving\nREADY=1", os.environ["NOTIFY_SOCKET"])
time.sleep(1000)
`

// TestNotifyReadyAndUpdate: a ready=notify program stays STARTING until
// it sends READY=1; changing a probe key makes update restart only that
// program.
func TestNotifyReadyAndUpdate(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3 for the sd_notify client")
	}
	e := newEnv(t, "", nil)
	e.write("notify.py", notifyScript)
	flag := filepath.Join(e.dir, "flag")
	svc := "[program:svc]\ncommand=/usr/bin/python3 %(here)s/../notify.py\nstartsecs=0\nready=notify\n" +
		"environment=FLAG=\"" + flag + "\"\n"
	other := "[program:other]\ncommand=sleep 1000\nstartsecs=0\nready=exec:/bin/true\n"
	e.setProgram("svc", svc)
	e.setProgram("other", other)
	d := e.startForeground()
	e.waitStates(map[string]string{"other:other": "RUNNING", "svc:svc": "STARTING"})
	e.write("flag", "")
	e.waitStates(map[string]string{"svc:svc": "RUNNING"})
	if !strings.Contains(e.mainLog(), "INFO ready: svc passed its ready check (notify)") {
		t.Errorf("main log:\n%s", e.mainLog())
	}
	before := e.infos()

	e.setProgram("other", other+"healthcheck=tcp://127.0.0.1:9\nhealthcheck_interval=300\n")
	e.ctlOK("other: changed", "reread")
	e.ctlOK("other: stopped\nother: updated process group", "update")
	after := e.waitStates(map[string]string{"other:other": "RUNNING", "svc:svc": "RUNNING"})
	if after["svc:svc"].PID != before["svc:svc"].PID || after["other:other"].PID == before["other:other"].PID {
		t.Errorf("update restarted the wrong programs: before %+v, after %+v", before, after)
	}
	d.signal(syscall.SIGTERM)
	if st := d.wait(15 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
		t.Fatalf("exit status after SIGTERM: %v", st)
	}
}
