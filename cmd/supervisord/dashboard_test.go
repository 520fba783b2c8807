package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// chromiumBin is Debian's chromium (scripts/test installs it).
const chromiumBin = "/usr/bin/chromium"

// browser starts one headless chromium for the test and returns a tab's
// context. The browser ends with the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumBin); err != nil {
		t.Skip("Debian's chromium is not installed (" + chromiumBin + ")")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumBin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-crash-reporter", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1100, 800),
	}
	keep := children()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		reapBrowser(t, keep)
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// reapBrowser ends chromium's helper processes (crashpad, zygotes,
// renderers), which are re-parented to the test (a subreaper) when the
// browser ends, and reaps them: every child of the test but those in keep
// (the daemons, there before the browser). Start daemons before the
// browser, so this runs before their leftover checks.
func reapBrowser(t *testing.T, keep map[int]string) {
	deadline := time.Now().Add(30 * time.Second) // bounds a hang; a loaded box is slow
	quiet := 0
	for quiet < 5 {
		found := false
		for pid, state := range children() {
			if _, ok := keep[pid]; ok {
				continue
			}
			found = true
			if state != "Z" {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
		if found {
			quiet = 0
		} else {
			quiet++
		}
		if found && time.Now().After(deadline) {
			left := map[int]string{}
			for pid, state := range children() {
				if _, ok := keep[pid]; !ok {
					left[pid] = state
				}
			}
			if len(left) > 0 {
				t.Errorf("chromium's processes would not end: %v", left)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// do runs browser steps with a bound, failing the test on error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitJS waits until a JavaScript expression is true.
func waitJS(expr string, d time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		deadline := time.Now().Add(d)
		for {
			_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline)))(ctx, t)
			// A navigation (a click's) can destroy the page the poll
			// runs in: poll again in the page that replaced it.
			if err == nil || !navigatedAway(err) || time.Now().After(deadline) {
				return err
			}
		}
	})
}

// navigatedAway reports whether err is chromium saying the page a script
// ran in went away (a navigation) before the script answered.
func navigatedAway(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Inspected target navigated or closed") ||
		strings.Contains(msg, "Execution context was destroyed") ||
		strings.Contains(msg, "Cannot find context with specified id")
}

// colorScheme emulates prefers-color-scheme.
func colorScheme(v string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}},
		})
		return err
	})
}

// screenshotDir is where the screenshots go: $DASHBOARD_SCREENSHOTS, or a
// new directory left in the temp dir for a person to look at.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("DASHBOARD_SCREENSHOTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "dashboard-screenshots-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("dashboard screenshots in %s", dir)
	return dir
}

// TestDashboardInBrowser drives the dashboard in a real (headless)
// chromium against a running daemon, with one browser for every check.
func TestDashboardInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumBin); err != nil {
		t.Skip("Debian's chromium is not installed (" + chromiumBin + ")")
	}
	port := freePort(t)
	e := newEnv(t, fmt.Sprintf(`
[inet_http_server]
port = 127.0.0.1:%d
dashboard = true
`, port), map[string]string{
		"ticker": "[program:ticker]\ncommand=/bin/sh -c 'i=0; while :; do i=$((i+1)); echo hello-from-child-$i; sleep 0.2; done'\n",
		"victim": "[program:victim]\ncommand=/bin/sleep 600\nstopwaitsecs=2\n",
		// startsecs=60: the shell exits long before, however loaded the
		// box, so its start fails (FATAL) rather than RUNNING then EXITED.
		"crasher": "[program:crasher]\ncommand=/bin/sh -c 'echo about to crash >&2; exit 7'\nautostart=false\nstartsecs=60\nstartretries=0\n",
		"grp":     "[group:grp]\nprograms=one,two\n[program:one]\ncommand=/bin/sleep 600\n[program:two]\ncommand=/bin/sleep 600\n",
		"webapp":  "[program:webapp]\ncommand=/bin/sh -c 'echo listening; exec sleep 600'\nready=log:^listening\nhealthcheck=exec:/bin/true\n",
	})
	d := e.startForeground()
	e.waitStates(map[string]string{"ticker:ticker": "RUNNING", "victim:victim": "RUNNING", "grp:one": "RUNNING", "grp:two": "RUNNING", "webapp:webapp": "RUNNING"})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx := browser(t) // after the daemon: its cleanup runs before the daemon's
	shots := screenshotDir(t)
	shot := func(name string, full bool) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			var png []byte
			var err error
			if full {
				png, err = chromedp.FullScreenshot(100)(ctx, tg)
			} else {
				png, err = chromedp.CaptureScreenshot()(ctx, tg)
			}
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name), png, 0o644)
		})
	}
	live := waitJS(`document.getElementById("live").textContent.startsWith("Live")`, 10*time.Second)

	// The table matches getAllProcessInfo, once the page polls.
	do(t, ctx, "open the dashboard", chromedp.Navigate(base+"/ui/"), live)
	rows := eval[[][]string](t, ctx, `Array.from(document.querySelectorAll("tr[data-spec]")).map(tr => [tr.dataset.spec, tr.cells[0].textContent])`)
	var infos []struct {
		Name      string `xmlrpc:"name"`
		Group     string `xmlrpc:"group"`
		StateName string `xmlrpc:"statename"`
	}
	if err := e.rpc("supervisor.getAllProcessInfo", nil, &infos); err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, p := range infos {
		spec := p.Group + ":" + p.Name
		if p.Group == p.Name {
			spec = p.Name
		}
		want = append(want, spec+" "+p.StateName)
	}
	for _, r := range rows {
		got = append(got, strings.Join(r, " "))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("table:\n%s\ngetAllProcessInfo:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Readiness and health show where checks are configured, and only there.
	notes := func(spec string) string {
		return eval[string](t, ctx, fmt.Sprintf(`Array.from(document.querySelectorAll('tr[data-spec=%q] .note')).map(n => n.textContent).join(",")`, spec))
	}
	if got := notes("webapp"); got != "ready,healthy" {
		t.Errorf("webapp's notes = %q, want ready,healthy", got)
	}
	if got := notes("victim"); got != "" {
		t.Errorf("victim (no checks) has notes %q", got)
	}
	do(t, ctx, "light screenshot", shot("dashboard-light.png", true))

	// A click on Stop stops the process; the page shows it without a reload.
	eval[bool](t, ctx, `window.notReloaded = true`)
	do(t, ctx, "stop victim",
		chromedp.Click(chromedp.CSS(`button[aria-label="Stop victim"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-spec="victim"] .s-stopped`)))
	e.waitStates(map[string]string{"victim:victim": "STOPPED"})

	// A process that crashes shows FATAL live.
	if err := e.rpc("supervisor.startProcess", []any{"crasher", false}, nil); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "crasher FATAL", chromedp.WaitVisible(chromedp.CSS(`tr[data-spec="crasher"].error .s-fatal`)))
	if !eval[bool](t, ctx, `window.notReloaded === true`) {
		t.Error("the page reloaded")
	}

	// The filter keeps matching rows; a group collapses and opens.
	visible := `Array.from(document.querySelectorAll("tr[data-spec]")).filter(tr => tr.offsetParent !== null).map(tr => tr.dataset.spec).join(",")`
	setFilter := func(v string) {
		eval[bool](t, ctx, fmt.Sprintf(`(f => { f.value = %q; return f.dispatchEvent(new Event("input")) })(document.getElementById("filter"))`, v))
	}
	do(t, ctx, "slash to the filter", chromedp.KeyEvent("/"))
	if id := eval[string](t, ctx, `document.activeElement.id`); id != "filter" {
		t.Errorf("after /, the focus is on %q, not the filter", id)
	}
	setFilter("")
	do(t, ctx, "type in the filter", chromedp.SendKeys(chromedp.CSS(`#filter`), "grp"))
	if shown := eval[string](t, ctx, visible); shown != "grp:one,grp:two" {
		t.Errorf("filter grp shows %q", shown)
	}
	setFilter("fatal")
	if shown := eval[string](t, ctx, visible); shown != "crasher" {
		t.Errorf("filter fatal shows %q", shown)
	}
	setFilter("")
	do(t, ctx, "collapse grp", chromedp.Click(chromedp.CSS(`section[data-group="grp"] .toggle`)))
	expanded := eval[string](t, ctx, `document.querySelector('section[data-group="grp"] .toggle').getAttribute("aria-expanded")`)
	if shown := eval[string](t, ctx, visible); expanded != "false" || strings.Contains(shown, "grp:") || !strings.Contains(shown, "ticker") {
		t.Errorf("collapsed grp: aria-expanded %q, rows %q", expanded, shown)
	}
	do(t, ctx, "open grp", chromedp.Click(chromedp.CSS(`section[data-group="grp"] .toggle`)))
	if shown := eval[string](t, ctx, visible); !strings.Contains(shown, "grp:one") {
		t.Errorf("reopened grp: rows %q", shown)
	}

	// Dark and narrow.
	do(t, ctx, "dark screenshot", colorScheme("dark"), shot("dashboard-dark.png", true))
	if bg := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(21, 24, 28)" {
		t.Errorf("dark background %q", bg)
	}
	do(t, ctx, "narrow screenshot", colorScheme("light"), chromedp.EmulateViewport(360, 740), shot("dashboard-narrow.png", false))
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("at 360 px the page is %d px wide", w)
	}
	do(t, ctx, "wide again", chromedp.EmulateViewport(1100, 800))

	// The log view shows what the child prints, live.
	do(t, ctx, "log view", chromedp.Navigate(base+"/ui/log?name=ticker&channel=stdout"),
		waitJS(`document.getElementById("log").textContent.includes("hello-from-child")`, 10*time.Second))
	n := eval[int](t, ctx, `(document.getElementById("log").textContent.match(/hello-from-child/g) || []).length`)
	do(t, ctx, "log follows", waitJS(fmt.Sprintf(`(document.getElementById("log").textContent.match(/hello-from-child/g) || []).length > %d`, n), 5*time.Second),
		chromedp.SendKeys(chromedp.CSS(`#search`), "child-1"),
		waitJS(`document.querySelectorAll("#log mark").length > 0`, 5*time.Second),
		shot("log-search.png", false))
	if hits := eval[string](t, ctx, `document.getElementById("hits").textContent`); !strings.Contains(hits, "match") {
		t.Errorf("search: %q", hits)
	}
	if dup := eval[string](t, ctx, `(seen => document.getElementById("log").textContent.split("\n").filter(l => l && seen.has(l) || !seen.add(l)).join(","))(new Set())`); dup != "" {
		t.Errorf("the log view repeats lines: %s", dup)
	}

	for _, q := range []string{"name=ticker&channel=stdout", "main=1"} {
		resp, err := http.Get(base + "/ui/log.txt?" + q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := map[bool]string{true: "spawned: 'ticker'", false: "hello-from-child-1\n"}[q == "main=1"]; resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("download %s: %d, no %q in %.200q", q, resp.StatusCode, want, b)
		}
	}

	// A page of another site cannot act: its link to Python's GET action
	// is refused, and the process keeps running.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<a id="go" href="%s/index.html?processname=ticker&amp;action=stop">win a prize</a>`, base)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1) // another site than 127.0.0.1
	do(t, ctx, "cross-site action", chromedp.Navigate(evilURL), chromedp.Click(chromedp.CSS(`#go`)),
		waitJS(`location.href.startsWith("`+base+`") && document.body !== null && document.body.textContent.length > 0`, 10*time.Second))
	if body := eval[string](t, ctx, `document.body.textContent`); !strings.Contains(body, "cross-site request refused") {
		t.Errorf("cross-site action answered %q", body)
	}
	if st := e.infos()["ticker:ticker"].StateName; st != "RUNNING" {
		t.Errorf("ticker is %s after a cross-site stop", st)
	}
	stopDaemon(t, d)
}

// stopDaemon ends a daemon with SIGTERM, as a user would, so its
// processes are stopped before the leftover checks.
func stopDaemon(t *testing.T, d *testDaemon) {
	t.Helper()
	d.signal(syscall.SIGTERM)
	if st := d.wait(15 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
		t.Errorf("exit status after SIGTERM: %v", st)
	}
}

// passwordDaemon starts a daemon whose dashboard needs admin:s3cret.
func passwordDaemon(t *testing.T) (string, *testDaemon) {
	port := freePort(t)
	e := newEnv(t, fmt.Sprintf(`
[inet_http_server]
port = 127.0.0.1:%d
username = admin
password = s3cret
dashboard = true
`, port), map[string]string{"p": "[program:p]\ncommand=/bin/sleep 600\n"})
	d := e.startForeground()
	return fmt.Sprintf("127.0.0.1:%d", port), d
}

// TestDashboardNeedsPassword: with a password every dashboard route
// answers 401 with a basic-auth challenge; the browser, asked for
// credentials, loads the page with them. (A second browser: the e2e
// harness allows one daemon per test.)
func TestDashboardNeedsPassword(t *testing.T) {
	addr, d := passwordDaemon(t)
	base := "http://" + addr
	for _, path := range []string{"/ui/", "/ui/state.json", "/ui/app.js", "/ui/log?main=1", "/ui/log.json?main=1"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("GET %s without credentials: %d %q", path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	if _, err := os.Stat(chromiumBin); err != nil {
		t.Skip("Debian's chromium is not installed (" + chromiumBin + ")")
	}
	ctx := browser(t)
	live := waitJS(`document.getElementById("live").textContent.startsWith("Live")`, 10*time.Second)
	// With a password the browser is asked for credentials (401 with a
	// Basic challenge; headless chromium, having none, fails the load),
	// and with them the page loads and goes live.
	if _, err := chromedp.Run(ctx, chromedp.NavigateResponse("http://"+addr+"/ui/")); err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Errorf("loading a password-protected dashboard without credentials: %v, want an auth error", err)
	}
	do(t, ctx, "with credentials", chromedp.Navigate("http://admin:s3cret@"+addr+"/ui/"), live)
	stopDaemon(t, d)
}
