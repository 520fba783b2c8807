package config

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pyRandom cases run in every go test (CI installs Python's supervisor);
// raise it (-pyrandom 5000) or change -pyseed to search further.
var pyRandom = flag.Int("pyrandom", 200, "compare this many random configs and oracle inputs live against /usr/bin/python3 (needs supervisor 4.2.5); 0 skips")
var pySeed = flag.Int64("pyseed", 1, "seed for -pyrandom")

var randomValues = map[string][]string{
	"bool":     {"true", "Yes", "0", "off", " on ", "TRUE"},
	"int":      {"1", "-1", " 7 ", "1_0", "007", "+3", "0"},
	"bytes":    {"1KB", "2 mb", "3gb", "10", "0", " 5MB "},
	"signal":   {"TERM", "sigkill", "9", "0", "_DFL", "RTMIN", " hup ", "SIGUSR2"},
	"exit":     {"0", "0,2", " 3 ", "1, 2"},
	"name":     {"p%(process_num)d", "p%(process_num)d", "ü%(process_num)d", "%(program_name)s-%(process_num)02d", "%(group_name)s_%(process_num)s"},
	"env":      {"A=1", "A=a b", "A=$HOME", `A="x,y",B='q'`, "A=%(ENV_TD_VAR)s", "A=%(process_num)d", "K = v , L = w", "A=1,\n  B=2", "P=/a:b.c+d-(e)", "A=x#y", `A=""`, `A="a"b`},
	"dirfmt":   {"/tmp", "%(here)s/x", "%(ENV_TD_VAR)s", "/tmp/%(process_num)d", "%(group_name)s", "%(numprocs)x", "%(host_node_name)s", "%(ENV_TD_PCT)s", "%s"},
	"format":   {"%(program_name)s", "%(process_num)02d", "%%", "%(here)s/x", "%(ENV_TD_VAR)s", "%(process_num)d", "%(group_name)s", "%(numprocs)x", "%(host_node_name)s", "%(ENV_TD_PCT)s", "%s"},
	"logfile":  {"AUTO", "none", "OFF", "syslog", "logs/x.log", "%(here)s/logs/%(program_name)s.log", "~/x", "logs/%(process_num)d.log", "Auto", "%(ENV_A)s.log"},
	"umask":    {"022", "0o7", "777", "0"},
	"numprocs": {"0", "1", "3", "2"},
	"user":     {"root", "nobody", "0"},
	"url":      {"AUTO", "auto", " auto ", "http://x", ""},
	"cmd":      {"/bin/cat", "/bin/echo %(program_name)s", "/bin/echo a ;b", "/bin/echo a;b", "/bin/echo #x", "/bin/sh -c\n  'echo x'", "/bin/echo %(process_num)d", "/bin/echo %(ENV_A)s"},
	"events":   {"TICK_5", "tick_60,process_state", "TICK_5 , TICK_5", "PROCESS_LOG_STDOUT"},
	"socket":   {"unix:///tmp/f.sock", "tcp://localhost:9000", "unix:///tmp/%(program_name)s.sock", "tcp://LOCALHOST:1"},
	"port":     {"9001", "127.0.0.1:9001", "*:9002", "Host:1"},
	"level":    {"info", "DEBUG", "warn", "blather", "Critical"},
	"ar":       {"true", "unexpected", "false", "UNEXPECTED"},
}

// badValues are wrong for their type; randomConfig uses them rarely.
var badValues = map[string][]string{
	"bool": {"maybe", ""}, "int": {"abc", "1.5", "0x10", ""}, "bytes": {"1.5MB", "kb", "", "1K"},
	"signal": {"99", "foo"}, "exit": {"", "1,,2", "256", "-1"}, "name": {"a b", "a:b", "a/b"},
	"env": {"A=x=y", "A=1,,B=2", `A="open`}, "format": {"%(foo)s", "%", "%(program_name)d"},
	"logfile": {"/nonexistent/x"}, "umask": {"8", "abc", ""}, "numprocs": {"-1"},
	"user": {"12345", "nosuchuserxyz", ""}, "url": {}, "cmd": {"/bin/echo %s %s"},
	"events": {"", "NOPE"}, "socket": {"unix://rel", "tcp://x", "tcp://h:99999"},
	"port": {"abc", ":", "70000"}, "level": {"loud"}, "ar": {"x"},
}

var programOptions = map[string]string{
	"command": "cmd", "process_name": "name", "numprocs": "numprocs", "numprocs_start": "int",
	"priority": "int", "autostart": "bool", "autorestart": "ar", "startsecs": "int",
	"startretries": "int", "exitcodes": "exit", "stopsignal": "signal", "stopwaitsecs": "int",
	"stopasgroup": "bool", "killasgroup": "bool", "user": "user", "redirect_stderr": "bool",
	"stdout_logfile": "logfile", "stderr_logfile": "logfile", "stdout_logfile_maxbytes": "bytes",
	"stdout_logfile_backups": "int", "stdout_capture_maxbytes": "bytes", "stdout_events_enabled": "bool",
	"stdout_syslog": "bool", "environment": "env", "directory": "dirfmt", "umask": "umask",
	"serverurl": "url",
}

var supervisordOptions = map[string]string{
	"logfile_maxbytes": "bytes", "logfile_backups": "int", "loglevel": "level", "umask": "umask",
	"nodaemon": "bool", "minfds": "int", "identifier": "format", "environment": "env",
	"strip_ansi": "bool", "nocleanup": "bool",
}

func pick(r *rand.Rand, l []string) string { return l[r.Intn(len(l))] }

func randomOption(r *rand.Rand, b *strings.Builder, opts map[string]string, p float64) {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		if r.Float64() > p {
			continue
		}
		v := pick(r, randomValues[opts[k]])
		if bad := badValues[opts[k]]; len(bad) > 0 && r.Intn(40) == 0 {
			v = pick(r, bad)
		}
		if r.Intn(10) == 0 {
			k = strings.ToUpper(k)
		}
		sep := pick(r, []string{" = ", "=", ": ", " =  "})
		tail := pick(r, []string{"", "", "", "", "", "", "", " ; comment", " # c", ";x"})
		fmt.Fprintf(b, "%s%s%s%s\n", k, sep, v, tail)
	}
}

// randomConfig builds a config that is mostly valid with a few odd values;
// extra holds files to write beside it (include targets), by relative name.
func randomConfig(r *rand.Rand, base string) (main string, extra map[string]string) {
	extra = map[string]string{}
	var b strings.Builder
	if r.Intn(5) == 0 {
		b.WriteString("[DEFAULT]\n")
		randomOption(r, &b, programOptions, 0.05)
	}
	b.WriteString("[supervisord]\n")
	randomOption(r, &b, supervisordOptions, 0.1)
	n := 1 + r.Intn(3)
	var names []string
	for i := 0; i < n; i++ {
		name := pick(r, []string{"a", "b", "c", "web", "a", "b", "c", "d", "e", "f", "a b"})
		names = append(names, name)
		kind := pick(r, []string{"program", "program", "program", "eventlistener", "fcgi-program"})
		fmt.Fprintf(&b, "\n[%s:%s]\ncommand = /bin/cat\n", kind, name)
		randomOption(r, &b, programOptions, 0.15)
		switch kind {
		case "eventlistener":
			fmt.Fprintf(&b, "events = %s\n", pick(r, randomValues["events"]))
			if r.Intn(3) == 0 {
				b.WriteString("redirect_stderr = false\n")
			}
		case "fcgi-program":
			fmt.Fprintf(&b, "socket = %s\n", pick(r, randomValues["socket"]))
		}
	}
	if r.Intn(4) == 0 {
		fmt.Fprintf(&b, "\n[group:g]\nprograms = %s\n", strings.Join(names, ","))
	}
	if r.Intn(4) == 0 {
		fmt.Fprintf(&b, "\n[inet_http_server]\nport = %s\n", pick(r, randomValues["port"]))
	}
	if r.Intn(5) == 0 {
		b.WriteString("\n[unix_http_server]\nfile = %(here)s/logs/s.sock\n")
		fmt.Fprintf(&b, "chmod = %s\nchown = %s\n", pick(r, []string{"0700", "777", "0o660", "9"}),
			pick(r, []string{"root", "nobody:nogroup", "0:0", "nosuch", "root:nosuch"}))
	}
	if r.Intn(5) == 0 {
		fmt.Fprintf(&b, "\n[supervisorctl]\nserverurl = %s\nhistory_file = %s\n",
			pick(r, []string{"unix://%(here)s/x.sock", "http://localhost:1", "unix://rel.sock"}),
			pick(r, []string{"~/h", "%(here)s/h", ""}))
	}
	if r.Intn(4) == 0 {
		fmt.Fprintf(&b, "\n[include]\nfiles = %s\n", pick(r, []string{
			base + ".d/*.conf", base + ".d/*.conf missing/*.conf", "%(here)s/" + base + ".d/?.conf", base + ".d/[ab].conf"}))
		for _, n := range []string{"a", "b"} {
			var ib strings.Builder
			fmt.Fprintf(&ib, "[program:inc%s]\ncommand = /bin/echo %%(here)s\n", n)
			randomOption(r, &ib, programOptions, 0.1)
			if r.Intn(3) == 0 {
				fmt.Fprintf(&ib, "\n[group:ig%s]\nprograms = inc%s\n", n, n)
			}
			extra[base+".d/"+n+".conf"] = ib.String()
		}
	}
	return b.String(), extra
}

// needPython skips t when the oracle is not installed (CI installs it) or
// -pyrandom is 0.
func needPython(t *testing.T) {
	t.Helper()
	if *pyRandom == 0 {
		t.Skip("-pyrandom 0")
	}
	if _, err := os.Stat("/usr/lib/python3/dist-packages/supervisor/options.py"); err != nil {
		t.Skipf("needs Python supervisor 4.2.5 (apt-get install supervisor): %v", err)
	}
}

// TestPythonRandom writes -pyrandom random configs (seed -pyseed) to a temp
// dir and compares Go with Python on each. Failing configs are printed so
// they can be added to testdata/corpus.
func TestPythonRandom(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(*pySeed))
	var names []string
	for i := 0; i < *pyRandom; i++ {
		base := fmt.Sprintf("r%04d", i)
		name := base + ".conf"
		text, extra := randomConfig(r, base)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		for rel, body := range extra {
			p := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		names = append(names, name)
	}
	script, _ := filepath.Abs("testdata/dump.py")
	cmd := exec.Command("/usr/bin/python3", script, "--batch")
	cmd.Dir = dir
	cmd.Env = testEnviron
	cmd.Stdin = strings.NewReader(strings.Join(names, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dump.py: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	fails, errs, oks, tracebacks := 0, 0, 0, 0
	defer func() { t.Logf("%d ok, %d errors, %d Python tracebacks, %d differ", oks, errs, tracebacks, fails) }()
	for i := 0; sc.Scan(); i++ {
		var want, got any
		line := strings.ReplaceAll(sc.Text(), dir, "$TD")
		if err := json.Unmarshal([]byte(line), &want); err != nil {
			t.Fatal(err)
		}
		if m := want.(map[string]any); m["traceback"] != nil {
			tracebacks++
			continue // Python crashed: nothing to match
		} else if m["error"] != nil {
			errs++
			if testing.Verbose() {
				t.Logf("python error: %.100s", m["error"])
			}
		} else {
			oks++
		}
		if err := json.Unmarshal(goDump(t, dir, names[i], nil), &got); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			fails++
			text, _ := os.ReadFile(filepath.Join(dir, names[i]))
			t.Errorf("%s differs (-python +go):\n%s\n--- config:\n%s", names[i], d, text)
			if fails > 5 {
				t.Fatal("too many differences")
			}
		}
	}
}
