package compattests

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizerString(t *testing.T) {
	n := NewNormalizer("/tmp/cmp1/ref", "/private/tmp/cmp1/ref", "/usr/bin/supervisord", 41234, 5555, []int{7001, 42}, nil)
	tests := []struct{ in, want string }{
		{"sleeper                          RUNNING   pid 7001, uptime 0:01:03",
			"sleeper                          RUNNING   pid <PID>, uptime <UPTIME>"},
		{"pid 123, uptime 3 days, 0:00:05", "pid <PID>, uptime <UPTIME>"},
		{"Nov 25 08:17 PM", "<STOPTIME>"},
		{"/tmp/cmp1/ref/sleeper-stdout---supervisor-e3bvof7o.log", "<DIR>/sleeper-stdout---supervisor-<RAND>.log"},
		{"/private/tmp/cmp1/ref/x.log", "<DIR>/x.log"},
		{"2026-11-25 22:22:14,376 INFO spawned: 'sleeper' with pid 8540", "<LOGTIME> INFO spawned: 'sleeper' with pid <PID>"},
		{"processname:x groupname:x from_state:STARTING pid:8885", "processname:x groupname:x from_state:STARTING pid:<PID>"},
		{"5555\n", "<SUPERVISORD_PID>\n"},
		{"7001\n", "<PID>\n"},
		{"7001\n5555", "<PID>\n<SUPERVISORD_PID>"},
		{"supervisor> 7001\nsupervisor> ", "supervisor> <PID>\nsupervisor> "},
		{"tail -7001 shows 7001 bytes", "tail -7001 shows 7001 bytes"}, // a known pid in free text stays
		{"http://127.0.0.1:41234", "http://127.0.0.1:<PORT>"},
		{"For help, use /usr/bin/supervisord -h", "For help, use <SUPERVISORD> -h"},
		{"Date: Wed, 25 Nov 2026 22:22:14 GMT", "Date: <HTTPDATE>"},
		{"<name>start</name>\n<value><int>1795645441</int>", "<name>start</name>\n<value><int><start></int>"},
		{"<name>stop</name>\n<value><int>0</int>", "<name>stop</name>\n<value><int>0</int>"},
		// things that must stay visible
		{"exit status 42", "exit status 42"}, // 42 is below the pid threshold
		{"processes 55551 and 70011", "processes 55551 and 70011"},
		{"RUNNING", "RUNNING"},
	}
	for _, tt := range tests {
		if got := n.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizerValueKeepsTypes(t *testing.T) {
	n := NewNormalizer("/d", "/d", "", 0, 5555, []int{7001}, nil)
	info := func(pid, start any, state any) any {
		return map[string]any{"struct": []any{
			[]any{"pid", map[string]any{"int": pid}},
			[]any{"start", map[string]any{"int": start}},
			[]any{"state", state},
		}}
	}
	tests := []struct {
		name     string
		a, b     any
		wantSame bool
	}{
		{"pids and times differ", info(7001.0, 1795645441.0, map[string]any{"int": 20.0}), info(9999.0, 1795645442.0, map[string]any{"int": 20.0}), true},
		{"zero start is kept", info(0.0, 0.0, map[string]any{"int": 0.0}), info(0.0, 1795645442.0, map[string]any{"int": 0.0}), false},
		{"int versus boolean", info(1.0, 1.0, map[string]any{"int": 1.0}), info(1.0, 1.0, map[string]any{"bool": true}), false},
		{"int pid versus string pid", info(7001.0, 1.0, map[string]any{"int": 20.0}),
			map[string]any{"struct": []any{
				[]any{"pid", map[string]any{"str": "7001"}},
				[]any{"start", map[string]any{"int": 1.0}},
				[]any{"state", map[string]any{"int": 20.0}},
			}}, false},
		{"member order matters", info(1.0, 1.0, map[string]any{"int": 1.0}),
			map[string]any{"struct": []any{
				[]any{"start", map[string]any{"int": 1.0}},
				[]any{"pid", map[string]any{"int": 1.0}},
				[]any{"state", map[string]any{"int": 1.0}},
			}}, false},
		{"getPID result", map[string]any{"int": 5555.0}, map[string]any{"int": 5555.0}, true},
		{"a missing member", info(1.0, 1.0, map[string]any{"int": 1.0}),
			map[string]any{"struct": []any{[]any{"pid", map[string]any{"int": 1.0}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			same := cmp.Equal(n.Value(tt.a), n.Value(tt.b))
			if same != tt.wantSame {
				t.Errorf("equal after normalization = %v, want %v\na=%v\nb=%v", same, tt.wantSame, n.Value(tt.a), n.Value(tt.b))
			}
		})
	}
}

func TestSortArrays(t *testing.T) {
	a := map[string]any{"array": []any{map[string]any{"str": "b"}, map[string]any{"str": "a"}}}
	b := map[string]any{"array": []any{map[string]any{"str": "a"}, map[string]any{"str": "b"}}}
	if !cmp.Equal(sortArrays(a), sortArrays(b)) {
		t.Error("unordered arrays with the same elements differ")
	}
	c := map[string]any{"array": []any{map[string]any{"str": "a"}, map[string]any{"str": "c"}}}
	if cmp.Equal(sortArrays(a), sortArrays(c)) {
		t.Error("arrays with different elements compare equal")
	}
}

func TestCasesLoad(t *testing.T) {
	cases, err := LoadCases("cases")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 60 {
		t.Errorf("%d cases, want at least 60", len(cases))
	}
	per := map[string]int{}
	seen := map[string]bool{}
	for _, c := range cases {
		per[c.Area]++
		if seen[c.Area+"/"+c.Name] {
			t.Errorf("duplicate case %s/%s", c.Area, c.Name)
		}
		seen[c.Area+"/"+c.Name] = true
		s := &seat{env: &Env{TestData: "/td", Python: "/py"}, c: c, dir: "/d", ep: Endpoint{Sock: "/d/s.sock", Port: 1}}
		for name, content := range c.Render() {
			if strings.Contains(s.expand(content), "{{") {
				t.Errorf("%s/%s: %s has an unknown placeholder:\n%s", c.Area, c.Name, name, s.expand(content))
			}
		}
	}
	for _, a := range Areas {
		if per[a] == 0 {
			t.Errorf("area %s has no cases", a)
		}
	}
}

func TestLoadCaseRejects(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"unknown field", `{"description":"d","steps":[{"ctl":["status"]}],"typo":1}`, "unknown field"},
		{"two actions", `{"description":"d","steps":[{"ctl":["status"],"sleep":1}]}`, "exactly one action"},
		{"no action", `{"description":"d","steps":[{"note":"x"}]}`, "exactly one action"},
		{"nothing compared", `{"description":"d","steps":[{"sleep":0.1}]}`, "compares anything"},
		{"long sleep", `{"description":"d","steps":[{"sleep":5},{"ctl":["status"]}]}`, "too long"},
		{"no description", `{"steps":[{"ctl":["status"]}]}`, "no description"},
		{"inet without server", `{"description":"d","steps":[{"rpc":[["supervisor.getState"]],"via":"inet"}]}`, "needs"},
		{"bad call", `{"description":"d","steps":[{"rpc":[[5]]}]}`, "method name"},
		{"bad wait", `{"description":"d","steps":[{"wait":{"process":"x"}},{"ctl":["status"]}]}`, "wait needs"},
		{"bad regexp", `{"description":"d","normalize":[["(",""]],"steps":[{"ctl":["status"]}]}`, "regexp"},
		{"xfail without issue or note", `{"description":"d","xfail_ours":{},"steps":[{"ctl":["status"]}]}`, "needs a note"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(p, []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadCase(p, "rpc")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadCase error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestHarnessCatchesDifferences proves the comparison is not blind: a
// candidate that is Python's supervisord with another identifier (-i) must
// fail exactly where the identifier shows, and pass elsewhere.
func TestHarnessCatchesDifferences(t *testing.T) {
	env := setupEnv(t)
	env.Selfcheck, env.Ours, env.OursErr = false, true, nil
	env.OursArgv = []string{env.Supervisord, "-i", "mutant"}
	c := &Case{
		Area: "rpc", Name: "mutant", Description: "identifier differs",
		Config: Lines{"[program:p]", "command=/bin/sleep 1000", "startsecs=0", "stopwaitsecs=2"},
		Steps: []Step{
			{Wait: &Wait{Process: "p", State: "RUNNING"}},
			{RPC: rawCalls(t, `["supervisor.getState"]`, `["supervisor.getProcessInfo", "p"]`)},
			{RPC: rawCalls(t, `["supervisor.getIdentification"]`)},
			{Ctl: []string{"status"}},
			{Read: &Read{Path: "supervisord.conf"}},
		},
	}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	res := RunCase(context.Background(), c, env)
	fails := res[RoleOurs]
	// The identifier shows in getIdentification and in the AUTO log names of
	// getProcessInfo; supervisorctl status and the config file do not show it.
	if len(fails) != 2 {
		t.Fatalf("want exactly two failing steps (2 and 3), got %d:\n%s", len(fails), strings.Join(fails, "\n"))
	}
	for i, step := range []string{"step 2 ", "step 3 "} {
		if !strings.HasPrefix(fails[i], step) || !strings.Contains(fails[i], "mutant") {
			t.Errorf("failure %d does not point at %s:\n%s", i+1, step, fails[i])
		}
	}
}

func rawCalls(t *testing.T, calls ...string) []json.RawMessage {
	t.Helper()
	out := make([]json.RawMessage, len(calls))
	for i, c := range calls {
		out[i] = json.RawMessage(c)
	}
	return out
}

// TestOrphansComeBackAndAreReaped checks the subreaper set in TestMain: a
// grandchild orphaned by its shell is re-parented to us, and KillAndReap
// kills and reaps it (no zombie left).
func TestOrphansComeBackAndAreReaped(t *testing.T) {
	out, err := exec.Command("/bin/sh", "-c", "/bin/sleep 100 >/dev/null 2>&1 & echo $!").Output()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	var p Proc
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, err = ReadProc(pid)
		if err != nil {
			t.Fatalf("orphan %d vanished: %v", pid, err)
		}
		if p.PPID == os.Getpid() || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p.PPID != os.Getpid() {
		t.Errorf("orphan %d has parent %d, want us (%d): not a subreaper?", pid, p.PPID, os.Getpid())
	}
	alive := KillAndReap([]Proc{p})
	if len(alive) != 1 || alive[0].PID != pid {
		t.Errorf("KillAndReap reported %v, want the orphan %d", alive, pid)
	}
	if cur, err := ReadProc(pid); err == nil && cur.Start == p.Start {
		t.Errorf("orphan still present after KillAndReap: %v", cur)
	}
}

// apiMethods is the whole XML-RPC surface of supervisord 4.2.5 (reference §3).
var apiMethods = []string{
	"supervisor.addProcessGroup", "supervisor.clearAllProcessLogs", "supervisor.clearLog", "supervisor.clearProcessLog",
	"supervisor.clearProcessLogs", "supervisor.getAPIVersion", "supervisor.getAllConfigInfo", "supervisor.getAllProcessInfo",
	"supervisor.getIdentification", "supervisor.getPID", "supervisor.getProcessInfo", "supervisor.getState",
	"supervisor.getSupervisorVersion", "supervisor.getVersion", "supervisor.readLog", "supervisor.readMainLog",
	"supervisor.readProcessLog", "supervisor.readProcessStderrLog", "supervisor.readProcessStdoutLog", "supervisor.reloadConfig",
	"supervisor.removeProcessGroup", "supervisor.restart", "supervisor.sendProcessStdin", "supervisor.sendRemoteCommEvent",
	"supervisor.shutdown", "supervisor.signalAllProcesses", "supervisor.signalProcess", "supervisor.signalProcessGroup",
	"supervisor.startAllProcesses", "supervisor.startProcess", "supervisor.startProcessGroup", "supervisor.stopAllProcesses",
	"supervisor.stopProcess", "supervisor.stopProcessGroup", "supervisor.tailProcessLog", "supervisor.tailProcessStderrLog",
	"supervisor.tailProcessStdoutLog", "system.listMethods", "system.methodHelp", "system.methodSignature", "system.multicall",
}

// TestEveryMethodIsCalled keeps the cases covering every method: each one is
// really called (directly or inside system.multicall) by some rpc or gorpc step.
func TestEveryMethodIsCalled(t *testing.T) {
	cases, err := LoadCases("cases")
	if err != nil {
		t.Fatal(err)
	}
	called := map[string]bool{}
	visit := func(call []any) {
		name, _ := call[0].(string)
		called[name] = true
		if name != "system.multicall" || len(call) < 2 {
			return
		}
		subs, _ := call[1].([]any)
		for _, s := range subs {
			if m, ok := s.(map[string]any); ok {
				if n, ok := m["methodName"].(string); ok {
					called[n] = true
				}
			}
		}
	}
	for _, c := range cases {
		for _, st := range c.Steps {
			for _, raw := range append(append([]json.RawMessage{}, st.RPC...), st.GoRPC...) {
				var call []any
				if err := json.Unmarshal(raw, &call); err != nil {
					t.Fatalf("%s/%s: %v", c.Area, c.Name, err)
				}
				visit(call)
			}
		}
	}
	for _, m := range apiMethods {
		if !called[m] {
			t.Errorf("no case calls %s", m)
		}
	}
}
