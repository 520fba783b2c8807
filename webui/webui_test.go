package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/procman"
	"github.com/gosupervisor/gosupervisor/procstat"
	"github.com/gosupervisor/gosupervisor/rpc"
)

// fakeDaemon records the calls the dashboard makes.
type fakeDaemon struct {
	mu    sync.Mutex
	calls []string
	fail  map[string]error
}

func (f *fakeDaemon) call(_ context.Context, method string, params []any) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprint(method, params))
	if err := f.fail[method]; err != nil {
		return nil, err
	}
	if strings.HasPrefix(method, "supervisor.read") {
		return "whole log\n", nil
	}
	if strings.HasPrefix(method, "supervisor.tailProcess") {
		return []any{"line 1\nline 2\n", int64(14), false}, nil
	}
	return true, nil
}

func (f *fakeDaemon) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

var now = time.Unix(1_800_000_000, 0)

func testUI(f *fakeDaemon) *UI {
	return New(Options{
		Token: "tok",
		Now:   func() time.Time { return now },
		Processes: func() []rpc.ProcessInfo {
			return []rpc.ProcessInfo{
				{Name: "web", Group: "web", State: procman.Running, PID: 42, Start: now.Unix() - 65, Now: now.Unix(), StdoutLogfile: "/x"},
				{Name: "b", Group: "workers", State: procman.Fatal, SpawnErr: "Exited too quickly (process log may have details)"},
				{Name: "a", Group: "workers", State: procman.Exited, ExitStatus: 3, Start: now.Unix() - 100, Stop: now.Unix()},
				{Name: "c", Group: "workers", State: procman.Stopped},
			}
		},
		Health: func() []procman.Health {
			return []procman.Health{{Name: "web", Group: "web", Ready: true, Restarts: 2, ReadyCheck: "tcp://127.0.0.1:80"}}
		},
		Call: f.call,
		MainLog: func(offset, length int64) (string, int64, bool, error) {
			return "main says hi\n", 13, false, nil
		},
	})
}

func serve(u *UI, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	// the routes are exact paths (rpc matches them that way)
	for _, rt := range u.Routes() {
		if rt.Path == r.URL.Path {
			rt.Handler.ServeHTTP(w, r)
			return w
		}
	}
	w.WriteHeader(http.StatusNotFound)
	return w
}

func TestState(t *testing.T) {
	u := testUI(&fakeDaemon{})
	w := serve(u, httptest.NewRequest("GET", "/ui/state.json", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("state.json: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	var st State
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range st.Groups {
		for _, p := range g.Procs {
			got = append(got, fmt.Sprintf("%s %s %s %q uptime=%d restarts=%d alert=%s", g.Name, p.Spec, p.State, p.Description, p.Uptime, p.Restarts, p.Alert))
		}
	}
	want := []string{
		`web web RUNNING "pid 42, uptime 0:01:05" uptime=65 restarts=2 alert=`,
		`workers workers:a EXITED "` + time.Unix(now.Unix(), 0).Format("Jan 02 03:04 PM") + `" uptime=0 restarts=0 alert=warn`,
		`workers workers:b FATAL "Exited too quickly (process log may have details)" uptime=0 restarts=0 alert=error`,
		`workers workers:c STOPPED "Not started" uptime=0 restarts=0 alert=`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("state:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p := st.Groups[0].Procs[0]; p.Ready == nil || !*p.Ready || !p.Stdout || p.Stderr ||
		p.ReadyCheck != "tcp://127.0.0.1:80" || p.HealthCheck != "" {
		t.Errorf("web's health/logs: %+v", p)
	}
}

func TestPage(t *testing.T) {
	u := testUI(&fakeDaemon{})
	w := serve(u, httptest.NewRequest("GET", "/ui/?message=%3Cb%3Ehi", nil))
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("page: %d, CSP %q", w.Code, w.Header().Get("Content-Security-Policy"))
	}
	for _, want := range []string{`data-spec="workers:b"`, `class="error"`, `class="warn"`, "&lt;b&gt;hi", `name="token" value="tok"`,
		`aria-label="Stop web"`, `aria-label="Start workers:b"`, `aria-label="Restart group workers"`, `data-confirm="Stop all processes?"`,
		"/ui/log?channel=stderr&amp;name=workers%3Aa"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// Nothing outside this server: every src and href is a path here.
	for name, text := range map[string]string{"page": body, "log page": serve(u, httptest.NewRequest("GET", "/ui/log?main=1", nil)).Body.String()} {
		for _, m := range regexp.MustCompile(`(?:src|href|action)="([^"]*)"`).FindAllStringSubmatch(text, -1) {
			if !strings.HasPrefix(m[1], "/") {
				t.Errorf("%s refers to %q", name, m[1])
			}
		}
	}
	fs.WalkDir(assets, ".", func(path string, d fs.DirEntry, err error) error {
		if d.IsDir() {
			return nil
		}
		b, _ := assets.ReadFile(path)
		for _, m := range regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).FindAllString(string(b), -1) {
			if m != "http://www.w3.org" { // the SVG namespace, not fetched
				t.Errorf("%s refers to %s", path, m)
			}
		}
		return nil
	})
	if w := serve(u, httptest.NewRequest("GET", "/ui/?confirm=stopall", nil)); !strings.Contains(w.Body.String(), "Really stop all processes?") {
		t.Errorf("confirm page: %s", w.Body.String())
	}
	if w := serve(u, httptest.NewRequest("GET", "/ui/app.js", nil)); w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
		t.Errorf("app.js: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
}

func TestActions(t *testing.T) {
	fault := rpc.NewFault(faults.NotRunning, "web")
	tests := []struct {
		name    string
		form    url.Values
		headers map[string]string
		code    int
		where   string // Location, or the JSON message/error
		calls   []string
	}{
		{"start", url.Values{"token": {"tok"}, "action": {"start"}, "target": {"web"}}, nil, 303, "/ui/?message=web%3A+starting", []string{"supervisor.startProcess[web false]"}},
		{"stop as JSON with header token", url.Values{"action": {"stop"}, "target": {"workers:a"}}, map[string]string{"X-Supervisor-Token": "tok", "Accept": "application/json"}, 200, "workers:a: stopping", []string{"supervisor.stopProcess[workers:a false]"}},
		{"restart", url.Values{"token": {"tok"}, "action": {"restart"}, "target": {"web"}}, nil, 303, "/ui/?message=web%3A+restarting", []string{"supervisor.stopProcess[web true]", "supervisor.startProcess[web false]"}},
		{"clear", url.Values{"token": {"tok"}, "action": {"clear"}, "target": {"web"}}, nil, 303, "/ui/?message=web%3A+log+cleared", []string{"supervisor.clearProcessLogs[web]"}},
		{"restart group", url.Values{"token": {"tok"}, "action": {"restartgroup"}, "target": {"workers"}}, nil, 303, "/ui/?message=group+workers%3A+restarting", []string{"supervisor.stopProcessGroup[workers true]", "supervisor.startProcessGroup[workers false]"}},
		{"stop all unconfirmed", url.Values{"token": {"tok"}, "action": {"stopall"}}, nil, 303, "/ui/?confirm=stopall", nil},
		{"stop all confirmed", url.Values{"token": {"tok"}, "action": {"stopall"}, "confirm": {"yes"}}, nil, 303, "/ui/?message=stopping+all", []string{"supervisor.stopAllProcesses[false]"}},
		{"restart all confirmed", url.Values{"token": {"tok"}, "action": {"restartall"}, "confirm": {"yes"}}, nil, 303, "/ui/?message=restarting+all", []string{"supervisor.stopAllProcesses[true]", "supervisor.startAllProcesses[false]"}},
		{"fault becomes the message", url.Values{"token": {"tok"}, "action": {"clear"}, "target": {"nosuch"}}, map[string]string{"Accept": "application/json"}, 200, "nosuch: NOT_RUNNING: web", []string{"supervisor.clearProcessLogs[nosuch]"}},
		{"no token", url.Values{"action": {"stop"}, "target": {"web"}}, nil, 403, "", nil},
		{"wrong token", url.Values{"token": {"tok2"}, "action": {"stop"}, "target": {"web"}}, nil, 403, "", nil},
		{"cross-site", url.Values{"token": {"tok"}, "action": {"stop"}, "target": {"web"}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "", nil},
		{"foreign origin", url.Values{"token": {"tok"}, "action": {"stop"}, "target": {"web"}}, map[string]string{"Origin": "http://evil.example"}, 403, "", nil},
		{"same origin", url.Values{"token": {"tok"}, "action": {"stop"}, "target": {"web"}}, map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}, 303, "/ui/?message=web%3A+stopping", []string{"supervisor.stopProcess[web false]"}},
		{"unknown action", url.Values{"token": {"tok"}, "action": {"shutdown"}}, nil, 400, "", nil},
		{"missing target", url.Values{"token": {"tok"}, "action": {"stop"}}, nil, 400, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDaemon{fail: map[string]error{"supervisor.clearProcessLogs": nil}}
			if strings.HasPrefix(tt.name, "fault") {
				f.fail["supervisor.clearProcessLogs"] = fault
			}
			u := testUI(f)
			r := httptest.NewRequest("POST", "/ui/action", strings.NewReader(tt.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w := serve(u, r)
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.code, w.Body.String())
			}
			switch {
			case tt.code == 303:
				if loc := w.Header().Get("Location"); loc != tt.where {
					t.Errorf("Location %q, want %q", loc, tt.where)
				}
			case tt.code == 200:
				var j map[string]string
				json.Unmarshal(w.Body.Bytes(), &j)
				if j["message"] != tt.where {
					t.Errorf("message %q, want %q", j["message"], tt.where)
				}
			}
			if got := f.took(); strings.Join(got, ";") != strings.Join(tt.calls, ";") {
				t.Errorf("calls %v, want %v", got, tt.calls)
			}
		})
	}
	if w := serve(testUI(&fakeDaemon{}), httptest.NewRequest("GET", "/ui/action?token=tok&action=stopall&confirm=yes", nil)); w.Code != 405 {
		t.Errorf("GET action: %d", w.Code)
	}
}

func TestLog(t *testing.T) {
	f := &fakeDaemon{}
	u := testUI(f)
	tests := []struct {
		query, want, call string
		code              int
	}{
		{"name=web&channel=stderr&offset=5", `{"offset":14,"overflow":false,"text":"1\nline 2\n"}`, "supervisor.tailProcessStderrLog[web 5 65536]", 200},
		{"name=web", `{"offset":14,"overflow":false,"text":"line 1\nline 2\n"}`, "supervisor.tailProcessStdoutLog[web 0 65536]", 200},
		{"main=1&offset=3", `{"offset":13,"overflow":false,"text":"n says hi\n"}`, "", 200},
		{"main=1&offset=20", `{"offset":13,"overflow":true,"text":"main says hi\n"}`, "", 200},
		{"name=web&offset=14", `{"offset":14,"overflow":false,"text":""}`, "supervisor.tailProcessStdoutLog[web 14 65536]", 200},
		{"name=web&channel=stdin", "", "", 400},
		{"channel=stdout", "", "", 400},
	}
	for _, tt := range tests {
		w := serve(u, httptest.NewRequest("GET", "/ui/log.json?"+tt.query, nil))
		if w.Code != tt.code || tt.want != "" && w.Body.String() != tt.want {
			t.Errorf("%s: %d %s, want %d %s", tt.query, w.Code, w.Body.String(), tt.code, tt.want)
		}
		if got := strings.Join(f.took(), ";"); got != tt.call {
			t.Errorf("%s: calls %q, want %q", tt.query, got, tt.call)
		}
	}
	for _, tt := range []struct{ query, call, file string }{
		{"name=g:web&channel=stderr", "supervisor.readProcessStderrLog[g:web -16777216 0]", "g_web-stderr.log"},
		{"main=1", "supervisor.readLog[-16777216 0]", "supervisord.log"},
	} {
		w := serve(u, httptest.NewRequest("GET", "/ui/log.txt?"+tt.query, nil))
		if w.Body.String() != "whole log\n" || w.Header().Get("Content-Disposition") != `attachment; filename="`+tt.file+`"` {
			t.Errorf("download %s: %q %q", tt.query, w.Body.String(), w.Header().Get("Content-Disposition"))
		}
		if got := strings.Join(f.took(), ";"); got != tt.call {
			t.Errorf("download %s: calls %q, want %q", tt.query, got, tt.call)
		}
	}
	w := serve(u, httptest.NewRequest("GET", "/ui/log?name=web&channel=stdout", nil))
	if !strings.Contains(w.Body.String(), "<pre id=\"log\" tabindex=\"0\" aria-label=\"Log text\">line 1\nline 2\n</pre>") ||
		!strings.Contains(w.Body.String(), `data-log="channel=stdout&amp;name=web"`) {
		t.Errorf("log page: %s", w.Body.String())
	}
}

func TestHistoryBoundedAndRated(t *testing.T) {
	var h history
	t0 := now
	pts := h.record("g:a", 10, 1.0, 100, t0)
	if len(pts) != 1 || pts[0].cpu != 0 {
		t.Fatalf("first point: %+v", pts)
	}
	// Too soon: no new point.
	if pts = h.record("g:a", 10, 1.5, 100, t0.Add(time.Second)); len(pts) != 1 {
		t.Fatalf("point within sampleEvery: %d", len(pts))
	}
	// 1 CPU second over 2 s: 50 %.
	pts = h.record("g:a", 10, 2.0, 200, t0.Add(2*time.Second))
	if len(pts) != 2 || pts[1].cpu != 50 || pts[1].rss != 200 {
		t.Fatalf("rate: %+v", pts)
	}
	// A new pid starts its counter again: no negative rate.
	pts = h.record("g:a", 11, 0.1, 300, t0.Add(4*time.Second))
	if pts[len(pts)-1].cpu != 0 {
		t.Errorf("new pid: %+v", pts[len(pts)-1])
	}
	for i := range 3 * historyLen {
		pts = h.record("g:a", 11, float64(i), int64(i), t0.Add(time.Duration(6+2*i)*time.Second))
	}
	if len(pts) != historyLen || pts[len(pts)-1].rss != int64(3*historyLen-1) || pts[0].rss != int64(2*historyLen) {
		t.Errorf("ring: %d points, first %d last %d", len(pts), pts[0].rss, pts[len(pts)-1].rss)
	}
	h.record("g:b", 12, 0, 1, t0)
	h.prune(t0.Add(time.Second))
	if _, ok := h.byName["g:b"]; ok || len(h.byName) != 1 {
		t.Errorf("prune kept %v", h.byName)
	}
}

// writeStat writes a fake /proc/<pid>/stat with ticks of CPU (utime) and
// rss pages.
func writeStat(t *testing.T, root string, pid, ticks, rss int) {
	t.Helper()
	f := strings.Fields("S 1 15598 5656 0 -1 4194304 97 0 0 0 UT 0 0 0 20 0 1 0 59020 3133440 RSS 18446744073709551615 1 2 3 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0")
	f[11], f[21] = strconv.Itoa(ticks), strconv.Itoa(rss)
	dir := filepath.Join(root, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	line := strconv.Itoa(pid) + " (p) " + strings.Join(f, " ") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStateSamples: CPU and memory come from the sampler, one point per
// sampleEvery; the first poll gets the history, later ones the last point.
func TestStateSamples(t *testing.T) {
	root := t.TempDir()
	clock := now
	tick := func() time.Time { return clock }
	u := testUI(&fakeDaemon{})
	u.opts.Now = tick
	u.opts.Sampler = procstat.New(procstat.Options{Root: root, Now: tick})
	web := func(full bool) Proc {
		st := u.state(full)
		if !st.Sampled {
			t.Fatal("not sampled")
		}
		return st.Groups[0].Procs[0]
	}
	writeStat(t, root, 42, 100, 10) // 1 s of CPU, 10 pages
	if p := web(false); len(p.CPU) != 1 || p.RSS[0] != 10*int64(os.Getpagesize()) {
		t.Fatalf("first point: %v %v", p.CPU, p.RSS)
	}
	for i := 1; i <= 3; i++ {
		clock = clock.Add(sampleEvery)
		writeStat(t, root, 42, 100+100*i, 10+i) // one more CPU second each 2 s: 50 %
		p := web(false)
		if len(p.CPU) != 1 || p.CPU[0] != 50 || p.SampleAt != clock.UnixMilli() {
			t.Fatalf("poll %d: cpu %v at %d", i, p.CPU, p.SampleAt)
		}
	}
	if p := web(true); len(p.CPU) != 4 || len(p.RSS) != 4 || p.RSS[3] != 13*int64(os.Getpagesize()) {
		t.Errorf("history: cpu %v rss %v", p.CPU, p.RSS)
	}
	if p := u.state(false).Groups[1].Procs[0]; len(p.CPU) != 0 {
		t.Errorf("a process that is not running has samples: %+v", p)
	}
}

func TestSplitRune(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want int
	}{
		{"", 0}, {"abc", 0}, {"é", 0}, {"a\xc3", 1}, {"a\xe2\x82", 2}, {"a\xe2\x82\xac", 0},
		{"\xf0\x9f\x98", 3}, {"\xf0\x9f\x98\x80", 0}, {"a\x80", 0},
	} {
		if got := splitRune(tt.s); got != tt.want {
			t.Errorf("splitRune(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}
