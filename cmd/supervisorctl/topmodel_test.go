package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/states"
)

// The tests here drive top's model as bubbletea would, Update with the
// messages it sends and View for the screen, without a terminal;
// TestTop (top_test.go) runs the whole program on a pseudo-terminal.

// topAt is when topFixture's answer was fetched.
var topAt = time.Unix(1796279637, 0)

// topFixture is a fetch's answer: four processes, three with health.
func topFixture() topData {
	now := topAt.Unix()
	return topData{
		at: topAt,
		infos: []processInfo{
			{Name: "web", Group: "web", State: states.Running, StateName: "RUNNING", PID: 101, Start: now - 3700, Now: now, Description: "pid 101, uptime 1:01:40"},
			{Name: "db", Group: "db", State: states.Running, StateName: "RUNNING", PID: 102, Start: now - 60, Now: now, Description: "pid 102, uptime 0:01:00"},
			{Name: "batch", Group: "jobs", State: states.Fatal, StateName: "FATAL", Description: "Exited too quickly (process log may have details)"},
			{Name: "cron", Group: "cron", State: states.Stopped, StateName: "STOPPED", Description: "Not started"},
		},
		health: []processHealth{
			{Name: "web", Group: "web", Healthy: true, RSS: 2 << 20, CPUSeconds: 10},
			{Name: "db", Group: "db", Healthy: true, Restarts: 3, RSS: 300 << 10, CPUSeconds: 4000},
			{Name: "batch", Group: "jobs", LastError: "exit status 1", Restarts: 5},
		},
	}
}

// press is the message bubbletea sends for the key named k (as
// tea.Key.String names it).
func press(t *testing.T, k string) tea.KeyPressMsg {
	t.Helper()
	keys := map[string]tea.KeyPressMsg{
		"up": {Code: tea.KeyUp}, "down": {Code: tea.KeyDown}, "home": {Code: tea.KeyHome}, "end": {Code: tea.KeyEnd},
		"esc": {Code: tea.KeyEscape}, "ctrl+c": {Code: 'c', Mod: tea.ModCtrl},
	}
	msg, ok := keys[k]
	if !ok {
		msg = tea.KeyPressMsg{Code: []rune(strings.ToLower(k))[0], Text: k}
		if k != strings.ToLower(k) {
			msg.Mod, msg.ShiftedCode = tea.ModShift, []rune(k)[0]
		}
	}
	if msg.String() != k {
		t.Fatalf("press(%q) makes a key named %q", k, msg.String())
	}
	return msg
}

// newTestTop is top's model after its first fetch, on a w x h terminal.
func newTestTop(t *testing.T, w, h int, d topData) *topModel {
	t.Helper()
	m := &topModel{url: "unix:///run/s.sock", health: true, cpu: map[string]cpuSample{}}
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.fetching = true // as Init leaves it
	m.Update(d)
	return m
}

// screenOf is m's view; it must be on the alternate screen.
func screenOf(t *testing.T, m *topModel) string {
	t.Helper()
	v := m.View()
	if !v.AltScreen || v.Cursor != nil {
		t.Errorf("View: AltScreen %v, cursor %v; want the alternate screen without a cursor", v.AltScreen, v.Cursor)
	}
	return v.Content
}

func TestTopView(t *testing.T) {
	stamp := topAt.Format("15:04:05")
	t.Run("health", func(t *testing.T) {
		m := newTestTop(t, 120, 30, topFixture())
		want := "supervisorctl top  unix:///run/s.sock  4 processes, 2 running  updated " + stamp + "\n" +
			"  NAME                  STATE     PID     UPTIME          RESTARTS  CPU%   CPU      MEM      HEALTH\n" +
			"> cron                  STOPPED   -       -               -         -      -        -        -\n" +
			"  db                    RUNNING   102     0:01:00         3         -      1h06m    300.0K   ok\n" +
			"  jobs:batch            FATAL     -       -               5         -      0.0s     -        no: exit status 1\n" +
			"  web                   RUNNING   101     1:01:40         0         -      10.0s    2.0M     ok\n" +
			"\n" +
			"s start  x stop  r restart  t tail  o sort (name)  O reverse  q quit"
		if diff := cmp.Diff(want, screenOf(t, m)); diff != "" {
			t.Errorf("screen (-want +got):\n%s", diff)
		}
	})
	t.Run("no health", func(t *testing.T) {
		d := topFixture()
		d.health, d.noHealth = nil, true
		m := newTestTop(t, 120, 30, d)
		want := "supervisorctl top  unix:///run/s.sock  4 processes, 2 running  updated " + stamp + "\n" +
			"  NAME                  STATE     PID     UPTIME          DESCRIPTION\n" +
			"> cron                  STOPPED   -       -               Not started\n" +
			"  db                    RUNNING   102     0:01:00         pid 102, uptime 0:01:00\n" +
			"  jobs:batch            FATAL     -       -               Exited too quickly (process log may have details)\n" +
			"  web                   RUNNING   101     1:01:40         pid 101, uptime 1:01:40\n" +
			"\n" +
			"s start  x stop  r restart  t tail  o sort (name)  O reverse  q quit"
		if diff := cmp.Diff(want, screenOf(t, m)); diff != "" {
			t.Errorf("screen (-want +got):\n%s", diff)
		}
	})
	t.Run("before the first answer", func(t *testing.T) {
		m := &topModel{url: "u", health: true, cpu: map[string]cpuSample{}}
		if s := screenOf(t, m); !strings.HasPrefix(s, "supervisorctl top  u  0 processes, 0 running  updated -\n") {
			t.Errorf("screen:\n%s", s)
		}
	})
}

// TestTopCPUPercent: CPU% is the CPU time used between two answers over
// the time between them.
func TestTopCPUPercent(t *testing.T) {
	m := newTestTop(t, 120, 30, topFixture())
	d := topFixture()
	d.at = topAt.Add(2 * time.Second)
	d.health[0].CPUSeconds = 11 // web: 1 s in 2 s
	d.health[1].CPUSeconds = 3  // db: less than before (restarted): unknown
	m.fetching = true
	m.Update(d)
	got := map[string]float64{}
	for _, r := range m.rows {
		got[r.name()] = r.cpuPct
	}
	if diff := cmp.Diff(map[string]float64{"web": 50, "db": -1, "jobs:batch": 0, "cron": -1}, got); diff != "" {
		t.Errorf("cpuPct (-want +got):\n%s", diff)
	}
	if !rowRe("web", `RUNNING +101 +1:01:40 +0 +50\.0 +11\.0s`).MatchString(screenOf(t, m)) {
		t.Errorf("screen:\n%s", screenOf(t, m))
	}
}

// TestTopKeys: the keys that move the selection and change the sort.
func TestTopKeys(t *testing.T) {
	tests := []struct {
		name     string
		noHealth bool
		keys     string // space-separated key names
		selected string
		order    []string
		sort     string // as the key line says it
	}{
		{name: "first row", keys: "", selected: "cron", order: []string{"cron", "db", "jobs:batch", "web"}, sort: "name"},
		{name: "down", keys: "j down", selected: "jobs:batch"},
		{name: "down stops at the end", keys: "j j j j j j", selected: "web"},
		{name: "up stops at the top", keys: "j k up up", selected: "cron"},
		{name: "end and home", keys: "G", selected: "web"},
		{name: "home", keys: "end g", selected: "cron"},
		{name: "home and end keys", keys: "end home end", selected: "web"},
		{name: "state", keys: "o", selected: "cron", order: []string{"jobs:batch", "db", "web", "cron"}, sort: "state"},
		{name: "uptime", keys: "o o", order: []string{"web", "db", "cron", "jobs:batch"}, sort: "uptime"},
		{name: "restarts", keys: "o o o", order: []string{"jobs:batch", "db", "web", "cron"}, sort: "restarts"},
		{name: "cpu", keys: "o o o o", order: []string{"cron", "db", "jobs:batch", "web"}, sort: "cpu"},
		{name: "mem", keys: "o o o o o", order: []string{"web", "db", "jobs:batch", "cron"}, sort: "mem"}, // no health: last
		{name: "back to name", keys: "o o o o o o", order: []string{"cron", "db", "jobs:batch", "web"}, sort: "name"},
		{name: "reversed", keys: "O", order: []string{"web", "jobs:batch", "db", "cron"}, sort: "name, reversed"},
		{name: "selection follows the process", keys: "j o", selected: "db", order: []string{"jobs:batch", "db", "web", "cron"}},
		{name: "no health: three sorts", noHealth: true, keys: "o o o", order: []string{"cron", "db", "jobs:batch", "web"}, sort: "name"},
		{name: "no health: uptime", noHealth: true, keys: "o o", order: []string{"web", "db", "cron", "jobs:batch"}, sort: "uptime"},
		{name: "other keys do nothing", keys: "x1 a space enter left", selected: "cron", order: []string{"cron", "db", "jobs:batch", "web"}, sort: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := topFixture()
			if tt.noHealth {
				d.health, d.noHealth = nil, true
			}
			m := newTestTop(t, 120, 30, d)
			for _, k := range strings.Fields(tt.keys) {
				var msg tea.KeyPressMsg
				switch k {
				case "x1": // a key top has no use for, with a modifier
					msg = tea.KeyPressMsg{Code: 'x', Mod: tea.ModAlt}
				case "space":
					msg = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
				case "enter":
					msg = tea.KeyPressMsg{Code: tea.KeyEnter}
				case "left":
					msg = tea.KeyPressMsg{Code: tea.KeyLeft}
				default:
					msg = press(t, k)
				}
				if _, cmd := m.Update(msg); cmd != nil {
					t.Fatalf("key %s starts work", k)
				}
			}
			if tt.selected != "" && m.selected != tt.selected {
				t.Errorf("selected %q, want %q", m.selected, tt.selected)
			}
			if tt.order != nil {
				var got []string
				for _, r := range m.rows {
					got = append(got, r.name())
				}
				if diff := cmp.Diff(tt.order, got); diff != "" {
					t.Errorf("order (-want +got):\n%s", diff)
				}
			}
			scr := screenOf(t, m)
			if tt.sort != "" && !strings.Contains(scr, "o sort ("+tt.sort+")") {
				t.Errorf("want sort (%s) on the screen:\n%s", tt.sort, scr)
			}
			if sel := selectedRow(scr); sel != m.selected {
				t.Errorf("the screen marks %q, the model has %q selected:\n%s", sel, m.selected, scr)
			}
		})
	}
}

// TestTopQuit: q and Ctrl-C end top; in the log view q goes back to the
// list, as Esc and t do.
func TestTopQuit(t *testing.T) {
	quits := func(cmd tea.Cmd) bool {
		if cmd == nil {
			return false
		}
		_, ok := cmd().(tea.QuitMsg)
		return ok
	}
	for _, k := range []string{"q", "ctrl+c"} {
		m := newTestTop(t, 120, 30, topFixture())
		if _, cmd := m.Update(press(t, k)); !quits(cmd) {
			t.Errorf("%s in the list does not quit", k)
		}
	}
	for _, k := range []string{"q", "esc", "t", "ctrl+c"} {
		m := newTestTop(t, 120, 30, topFixture())
		m.Update(press(t, "t"))
		_, cmd := m.Update(press(t, k))
		if k == "ctrl+c" {
			if !quits(cmd) {
				t.Errorf("ctrl+c in the log view does not quit")
			}
			continue
		}
		if cmd != nil || m.tail != "" || !strings.Contains(screenOf(t, m), "  NAME") {
			t.Errorf("%s in the log view: tail %q; want the list again", k, m.tail)
		}
	}
}

// TestTopResize: the list shows the rows that fit between the headers
// and the two last lines, around the selection.
func TestTopResize(t *testing.T) {
	d := topFixture()
	now := topAt.Unix()
	for i := range 21 {
		d.infos = append(d.infos, processInfo{Name: fmt.Sprintf("w%02d", i), Group: "pool", State: states.Running,
			StateName: "RUNNING", PID: int64(200 + i), Start: now - 5, Now: now})
	}
	m := newTestTop(t, 120, 30, d)
	if got := len(strings.Split(screenOf(t, m), "\n")); got != 29 {
		t.Errorf("30 lines: a screen of %d lines, want 25 rows and 4 more lines", got)
	}
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 12})
	for range 10 {
		m.Update(press(t, "j"))
	}
	scr := screenOf(t, m)
	lines := strings.Split(scr, "\n")
	var names []string
	for _, l := range lines[2 : len(lines)-2] {
		names = append(names, strings.Fields(l[2:])[0])
	}
	// seven rows: the 5th to the 11th, which is selected
	want := []string{"pool:w01", "pool:w02", "pool:w03", "pool:w04", "pool:w05", "pool:w06", "pool:w07"}
	if diff := cmp.Diff(want, names); diff != "" || m.selected != "pool:w07" || selectedRow(scr) != "pool:w07" {
		t.Errorf("12 lines, 11th row selected (%s); rows (-want +got):\n%s\n%s", m.selected, diff, scr)
	}
	// a screen too small: ten lines are drawn anyway (bubbletea cuts them)
	m.Update(tea.WindowSizeMsg{Width: 40, Height: 4})
	if got := len(strings.Split(screenOf(t, m), "\n")); got != 9 {
		t.Errorf("4 lines: a view of %d lines, want 9", got)
	}
}

// cannedClient is an rpcClient of a canned server with answers.
func cannedClient(t *testing.T, answers map[string][]byte) *rpcClient {
	t.Helper()
	conf := cannedServer(t, 0, answers, nil)
	c, err := newRPCClient("unix://"+filepath.Join(filepath.Dir(conf), "s.sock"), nil, nil, tlsFiles{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

// valueAnswer is an XML-RPC answer of one value (its XML).
func valueAnswer(value string) []byte {
	return []byte("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value>" + value +
		"</value>\n</param>\n</params>\n</methodResponse>\n")
}

// faultAnswer is an XML-RPC fault answer.
func faultAnswer(code int, text string) []byte {
	return []byte(fmt.Sprintf("<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n"+
		"<member>\n<name>faultCode</name>\n<value><int>%d</int></value>\n</member>\n"+
		"<member>\n<name>faultString</name>\n<value><string>%s</string></value>\n</member>\n"+
		"</struct></value>\n</fault>\n</methodResponse>\n", code, text))
}

// TestTopRPC runs the model's fetches and actions, the commands bubbletea
// would run, against a canned server.
func TestTopRPC(t *testing.T) {
	health := `<array><data>` +
		`<value><struct><member><name>name</name><value><string>p0000</string></value></member>` +
		`<member><name>group</name><value><string>p0000</string></value></member>` +
		`<member><name>ready</name><value><boolean>1</boolean></value></member>` +
		`<member><name>healthy</name><value><boolean>1</boolean></value></member>` +
		`<member><name>last_check</name><value><int>0</int></value></member>` +
		`<member><name>last_error</name><value><string></string></value></member>` +
		`<member><name>restarts</name><value><int>2</int></value></member>` +
		`<member><name>rss</name><value><int>4096</int></value></member>` +
		`<member><name>cpu_seconds</name><value><double>1.5</double></value></member>` +
		`</struct></value></data></array>`
	base := map[string][]byte{
		"supervisor.getAllProcessInfo":    statusAnswer(2),
		"supervisor.readProcessStdoutLog": valueAnswer("<string>one\ntwo\nthree\n</string>"),
		"supervisor.stopProcess":          valueAnswer("<boolean>1</boolean>"),
		"supervisor.startProcess":         faultAnswer(faults.AlreadyStarted, "ALREADY_STARTED: p0001"),
	}
	with := func(method string, answer []byte) map[string][]byte {
		m := map[string][]byte{method: answer}
		for k, v := range base {
			m[k] = v
		}
		return m
	}
	// run runs cmd as bubbletea does and hands its message to m.
	run := func(t *testing.T, m *topModel, cmd tea.Cmd) tea.Cmd {
		t.Helper()
		if cmd == nil {
			t.Fatal("no command")
		}
		_, next := m.Update(cmd())
		return next
	}
	newTop := func(c *rpcClient) *topModel {
		m := &topModel{client: c, url: "u", health: true, cpu: map[string]cpuSample{}}
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
		return m
	}

	t.Run("health", func(t *testing.T) {
		m := newTop(cannedClient(t, with("gosupervisor.getAllProcessHealth", valueAnswer(health))))
		run(t, m, m.fetch())
		scr := screenOf(t, m)
		if !m.health || !rowRe("p0000", `RUNNING +10000 +0:00:50 +2 +- +1\.5s +4\.0K +ok`).MatchString(scr) ||
			!rowRe("p0001", `RUNNING +10001 +0:00:50 +- +- +- +- +-$`).MatchString(scr) {
			t.Errorf("screen:\n%s", scr)
		}
		if m.fetch() == nil {
			t.Error("no fetch after an answer")
		}
	})
	t.Run("no health", func(t *testing.T) {
		m := newTop(cannedClient(t, with("gosupervisor.getAllProcessHealth", faultAnswer(faults.UnknownMethod, "UNKNOWN_METHOD"))))
		m.sortBy = 4 // cpu: not without health
		run(t, m, m.fetch())
		scr := screenOf(t, m)
		if m.health || m.sortBy != 0 || !rowRe("p0000", `RUNNING +10000 +0:00:50 +pid 10000, uptime 0:00:50`).MatchString(scr) {
			t.Errorf("health %v, sort %d; screen:\n%s", m.health, m.sortBy, scr)
		}
		// once the server said no, top does not ask again: the canned
		// server would answer an error
		m.client = cannedClient(t, base)
		run(t, m, m.fetch())
		if strings.Contains(screenOf(t, m), "ERROR") {
			t.Errorf("screen:\n%s", screenOf(t, m))
		}
	})
	t.Run("one fetch at a time", func(t *testing.T) {
		m := newTop(cannedClient(t, base))
		cmd := m.fetch()
		if m.fetch() != nil {
			t.Error("a second fetch while one runs")
		}
		if _, next := m.Update(tickMsg(topAt)); next == nil {
			t.Error("a tick does not start the next tick")
		}
		run(t, m, cmd)
		if m.fetching {
			t.Error("still fetching after the answer")
		}
	})
	t.Run("actions", func(t *testing.T) {
		m := newTop(cannedClient(t, with("gosupervisor.getAllProcessHealth", faultAnswer(faults.UnknownMethod, "UNKNOWN_METHOD"))))
		run(t, m, m.fetch())
		m.Update(press(t, "j"))
		for _, tt := range []struct{ key, during, after string }{
			{"x", "stop p0001 ...", "p0001: stopped"},
			{"s", "start p0001 ...", "p0001: ERROR (already started)"},
			{"r", "restart p0001 ...", "p0001: stopped; p0001: ERROR (already started)"},
		} {
			_, cmd := m.Update(press(t, tt.key))
			if scr := screenOf(t, m); !strings.Contains(scr, "\n"+tt.during+"\n") {
				t.Errorf("%s: while it runs:\n%s", tt.key, scr)
			}
			run(t, m, run(t, m, cmd)) // the action, then the fetch it starts
			if scr := screenOf(t, m); !strings.Contains(scr, "\n"+tt.after+"\n") {
				t.Errorf("%s: after it:\n%s", tt.key, scr)
			}
		}
	})
	t.Run("tail", func(t *testing.T) {
		m := newTop(cannedClient(t, with("gosupervisor.getAllProcessHealth", faultAnswer(faults.UnknownMethod, "UNKNOWN_METHOD"))))
		run(t, m, m.fetch())
		_, cmd := m.Update(press(t, "t"))
		run(t, m, cmd)
		want := "tail p0000 (stdout; q, Esc or t: back)\none\ntwo\nthree"
		if scr := screenOf(t, m); !strings.HasSuffix(scr, "\n"+want) {
			t.Errorf("screen:\n%s\nwant it to end with:\n%s", scr, want)
		}
	})
	t.Run("server gone", func(t *testing.T) {
		c, err := newRPCClient("unix://"+filepath.Join(t.TempDir(), "none.sock"), nil, nil, tlsFiles{})
		if err != nil {
			t.Fatal(err)
		}
		m := newTop(c)
		run(t, m, m.fetch())
		if scr := screenOf(t, m); !strings.Contains(scr, "\nERROR: ") {
			t.Errorf("screen:\n%s", scr)
		}
	})
}

// TestTopNoTerminal: top without a terminal says so and fails, as it did
// before bubbletea ever saw the terminal.
func TestTopNoTerminal(t *testing.T) {
	conf := cannedServer(t, 0, nil, nil)
	var out strings.Builder
	if code := run([]string{"supervisorctl", "-c", conf, "top"}, strings.NewReader(""), &out, io.Discard, nil); code != exitGeneric ||
		out.String() != "Error: top needs a terminal\n" {
		t.Errorf("exit %d, output %q", code, out.String())
	}
}
