package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestExampleConfig runs the shipped examples/ (supervisord.conf and its
// conf.d) as the README tells users to, from a copy whose web UI port is a
// free one: every program must reach RUNNING and write its logs.
func TestExampleConfig(t *testing.T) {
	src := filepath.Join("..", "..", "examples")
	dir := t.TempDir()
	var webUI string
	for _, rel := range []string{"supervisord.conf", "conf.d/clock.conf", "conf.d/workers.conf"} {
		b, err := os.ReadFile(filepath.Join(src, rel))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if rel == "supervisord.conf" {
			if !strings.Contains(text, "port=127.0.0.1:9001") {
				t.Fatal("the example no longer serves the web UI on 127.0.0.1:9001")
			}
			webUI = "127.0.0.1:" + strconv.Itoa(freePort(t))
			text = strings.Replace(text, "127.0.0.1:9001", webUI, 1)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"run", "log"} {
		if _, err := os.Stat(filepath.Join(src, d)); err != nil {
			t.Fatalf("examples/%s must exist in the checkout: %v", d, err)
		}
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	e := &env{t: t, dir: dir, conf: filepath.Join(dir, "supervisord.conf")}
	d := e.startDaemonizedAt(filepath.Join(dir, "run", "supervisor.sock"), filepath.Join(dir, "run", "supervisord.pid"))
	e.waitStates(map[string]string{"clock:clock": "RUNNING", "workers:worker_0": "RUNNING", "workers:worker_1": "RUNNING"})
	waitFor(t, 10*time.Second, "the clock's log", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "log", "clock.log"))
		return strings.HasPrefix(string(b), "tick ")
	})
	if out, _ := e.ctl("tail", "workers:worker_1", "stderr"); !strings.Contains(out, "worker 1 warning") {
		t.Errorf("tail workers:worker_1 stderr: %q", out)
	}
	resp, err := http.Get("http://" + webUI + "/")
	if err != nil {
		t.Fatalf("web UI: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "clock") {
		t.Errorf("web UI: %d, page without the clock program", resp.StatusCode)
	}
	e.ctlOK("clock: cleared", "clear", "clock")
	if st, err := os.Stat(filepath.Join(dir, "log", "clock.log")); err != nil || st.Size() > 100 {
		t.Errorf("clock.log after clear: %v, %v", st, err)
	}
	e.ctlOK("Shut down", "shutdown")
	if st := d.wait(20 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
		t.Fatalf("exit status %v", st)
	}
	killLeftovers(t)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
