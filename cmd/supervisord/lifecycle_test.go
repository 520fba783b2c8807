package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testchild"
)

// TestExitOnExitEndsTheDaemon: when a program with exit_on_exit exits and
// will not be restarted, supervisord stops the rest and exits with its
// status, saying so in the main log.
func TestExitOnExitEndsTheDaemon(t *testing.T) {
	for _, c := range []struct {
		name, exit string
		status     int
	}{{"status", "exit 7", 7}, {"signal", "kill -KILL $$", 137}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "", map[string]string{
				"main": "[program:main]\ncommand=/bin/sh -c 'while [ ! -e %(here)s/../go ]; do sleep 0.05; done; " + c.exit + "'\n" +
					"startsecs=0\nautorestart=false\nexit_on_exit=true\n",
				"side": "[program:side]\ncommand=/bin/sleep 1000\nstartsecs=0\n",
			})
			d := e.startForeground()
			infos := e.waitStates(map[string]string{"main:main": "RUNNING", "side:side": "RUNNING"})
			e.write("go", "")
			st := d.wait(30 * time.Second)
			if !st.Exited() || st.ExitStatus() != c.status {
				t.Fatalf("supervisord ended with %v, want exit status %d; log:\n%s", st, c.status, e.mainLog())
			}
			log := e.mainLog()
			for _, want := range []string{
				"CRIT main exited (",
				") and will not be restarted (exit_on_exit): stopping all processes, supervisord will exit with status " + strconv.Itoa(c.status),
				"stopped: side (terminated by SIGTERM)",
			} {
				if !strings.Contains(log, want) {
					t.Errorf("main log lacks %q:\n%s", want, log)
				}
			}
			assertGone(t, pidsOf(infos))
		})
	}
}

// TestLifecycleConfigErrors: bad issue-13 values stop supervisord at
// startup with exit status 2, naming what is wrong.
func TestLifecycleConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, progs, want string
	}{
		{"cycle", "[program:a]\ncommand=/bin/cat\ndepends_on=b\n[program:b]\ncommand=/bin/cat\ndepends_on=a\n",
			"Error: depends_on cycle: a -> b -> a in section 'program:a' (file: "},
		{"unknown", "[program:a]\ncommand=/bin/cat\ndepends_on=nope\n",
			"Error: depends_on names unknown program 'nope' in section 'program:a' (file: "},
		{"rlimit", "[program:a]\ncommand=/bin/cat\nrlimits=nofiles=1\n",
			"Error: invalid rlimits value 'nofiles=1': unknown resource 'nofiles'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "", map[string]string{"p": c.progs})
			out, err := exec.Command(ourBin, "-n", "-c", e.conf).CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want status 2; output %q", err, out)
			}
			if !strings.HasPrefix(string(out), c.want) || !strings.Contains(string(out), filepath.Join(e.dir, "progs", "p.conf")) {
				t.Errorf("output %q, want it to start with %q and name the file", out, c.want)
			}
			if _, err := os.Stat(e.pidfile()); err == nil {
				t.Errorf("a pidfile was written")
			}
		})
	}
}

// copyExample copies examples/<name> (files and the run/ and log/
// directories) into a temporary directory.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", name)
	dir := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		if ent.IsDir() {
			if err := os.Mkdir(filepath.Join(dir, ent.Name()), 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		info, _ := ent.Info()
		if err := os.WriteFile(filepath.Join(dir, ent.Name()), b, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// logIndex is the position of the first main-log line containing s, or -1.
func logIndex(log, s string) int {
	for i, line := range strings.Split(log, "\n") {
		if strings.Contains(line, s) {
			return i
		}
	}
	return -1
}

// TestWebappExample runs examples/webapp: web's start starts db first and
// waits for it; env_file gives both their ports; web runs with its
// rlimits; stop all stops web before db; an update that changes one of
// web's issue-13 keys restarts web only.
func TestWebappExample(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is needed by the example's programs")
	}
	dir := copyExample(t, "webapp")
	envText, err := os.ReadFile(filepath.Join(dir, "webapp.env"))
	if err != nil {
		t.Fatal(err)
	}
	webPort, dbPort := strconv.Itoa(freePort(t)), strconv.Itoa(freePort(t))
	text := strings.NewReplacer("8431", dbPort, "8430", webPort).Replace(string(envText))
	if text == string(envText) {
		t.Fatal("the example no longer sets its ports in webapp.env")
	}
	if err := os.WriteFile(filepath.Join(dir, "webapp.env"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	confText, err := os.ReadFile(filepath.Join(dir, "supervisord.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("8431", dbPort, "8430", webPort).Replace(string(confText))
	if !strings.Contains(conf, "ready=tcp://127.0.0.1:"+dbPort) || !strings.Contains(conf, "ready=http://127.0.0.1:"+webPort) {
		t.Fatal("the example no longer has its ready checks")
	}
	if err := os.WriteFile(filepath.Join(dir, "supervisord.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, conf: filepath.Join(dir, "supervisord.conf"),
		sockPath: filepath.Join(dir, "run", "supervisor.sock"), pidPath: filepath.Join(dir, "run", "supervisord.pid")}
	mainLog := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "log", "supervisord.log"))
		return string(b)
	}
	d := e.startForeground()
	infos := e.waitStates(map[string]string{"db:db": "RUNNING", "web:web": "RUNNING"})
	// RUNNING means ready: both answer at once.
	for _, port := range []string{webPort, dbPort} {
		resp, err := http.Get("http://127.0.0.1:" + port + "/webapp.env")
		if err != nil {
			t.Fatalf("port %s not answering while RUNNING: %v", port, err)
		}
		resp.Body.Close()
	}
	log := mainLog()
	if i, j := logIndex(log, "success: db entered RUNNING"), logIndex(log, "spawned: 'web'"); i < 0 || j < i {
		t.Errorf("web spawned before db was RUNNING:\n%s", log)
	}
	if !strings.Contains(log, "starting db, a dependency of web") {
		t.Errorf("no dependency start logged:\n%s", log)
	}
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", infos["web:web"].PID))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`Max open files\s+1024\s+1024`).Match(limits) || !regexp.MustCompile(`Max core file size\s+0\s+0`).Match(limits) {
		t.Errorf("web's limits:\n%s", limits)
	}

	// Stop all: web (the dependent) first.
	e.ctlOK("web: stopped\ndb: stopped\n", "stop", "all")
	log = mainLog()
	if i, j := logIndex(log, "stopped: web"), logIndex(log, "stopped: db"); i < 0 || j < i {
		t.Errorf("stop order:\n%s", log)
	}
	e.ctlOK("web: started", "start", "web")
	infos = e.waitStates(map[string]string{"db:db": "RUNNING", "web:web": "RUNNING"})

	// A changed issue-13 key restarts only that program.
	e.write("supervisord.conf", strings.Replace(conf, "restart_delay=2", "restart_delay=3", 1))
	e.ctlOK("web: stopped\nweb: updated process group\n", "update")
	after := e.waitStates(map[string]string{"db:db": "RUNNING", "web:web": "RUNNING"})
	if after["db:db"].PID != infos["db:db"].PID || after["web:web"].PID == infos["web:web"].PID {
		t.Errorf("update restarted the wrong program: before %v, after %v", infos, after)
	}
	e.ctlOK("Shut down", "shutdown")
	if st := d.wait(30 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
		t.Fatalf("exit status %v", st)
	}
	assertGone(t, pidsOf(after))
}

// TestContainerExample runs examples/container: supervisord exits with
// app's exit status once app ends, after stopping the sidecar.
func TestContainerExample(t *testing.T) {
	for _, status := range []int{0, 3} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			dir := copyExample(t, "container")
			cmd := exec.Command(ourBin, "-c", filepath.Join(dir, "supervisord.conf"))
			cmd.Env = append(os.Environ(), "APP_SECONDS=1", "APP_EXIT="+strconv.Itoa(status))
			var out testchild.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("supervisord did not exit; output:\n%s", out.String())
			}
			if got := cmd.ProcessState.ExitCode(); got != status {
				t.Errorf("exit status %d, want %d; output:\n%s", got, status, out.String())
			}
			o := out.String()
			for _, want := range []string{
				"app: working for 1 s", "app: done, exit status " + strconv.Itoa(status),
				"and will not be restarted (exit_on_exit): stopping all processes, supervisord will exit with status " + strconv.Itoa(status),
				"stopped: sidecar (terminated by SIGTERM)",
			} {
				if !strings.Contains(o, want) {
					t.Errorf("output lacks %q:\n%s", want, o)
				}
			}
			killLeftovers(t)
		})
	}
}
