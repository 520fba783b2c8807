package main

import (
	"encoding/json"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json from Python's supervisorctl")

// goldenCase is one command line whose Python output needs no running
// daemon: usage, help, option and config errors, and what each command
// says when the server is absent or refuses the connection.
type goldenCase struct {
	Name  string   `json:"name"`
	Args  []string `json:"args"`
	Stdin string   `json:"stdin,omitempty"`
	// Traceback marks a Python traceback: only the exception lines
	// (from "configparser." on) are compared.
	Traceback bool   `json:"traceback,omitempty"`
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	Exit      int    `json:"exit"`
}

// goldenCases lists the command lines; -update fills in the expectations.
func goldenCases() []goldenCase {
	c := func(name string, args ...string) goldenCase { return goldenCase{Name: name, Args: args} }
	cases := []goldenCase{
		c("help flag", "-h"),
		c("help question mark", "-?"),
		c("help after other options", "-c", "{dir}/ctl.conf", "--help", "status"),
		c("unknown short option", "-x"),
		c("unknown long option", "--foo"),
		c("ambiguous long option", "--h"),
		c("long option prefix", "--conf={dir}/ctl.conf", "help", "help"),
		c("flag with a value", "--interactive=1"),
		c("missing option value", "-c"),
		c("missing long option value", "-c", "{dir}/ctl.conf", "--serverurl"),
		c("not a url", "-s", "foo", "status"),
		c("history file option", "-r", "{dir}/hist", "-c", "{dir}/ctl.conf", "help", "quit"),
		c("history file long option", "--history_file={dir}/hist", "-c", "{dir}/ctl.conf", "help", "quit"),
		c("username and password options", "-u", "u", "--password", "p", "-c", "{dir}/ctl.conf", "status"),
		c("empty command", "-c", "{dir}/ctl.conf", ""),
		c("conflicting option", "-c", "{dir}/ctl.conf", "-c", "{dir}/ctl.conf", "status"),
		c("conflicting flag", "-c", "{dir}/ctl.conf", "-ii", "status"),
		c("no config file", "-c", "{dir}/nosuch.conf", "status"),
		c("no supervisorctl section", "-c", "{dir}/noctl.conf", "status"),
		{Name: "config parse error", Args: []string{"-c", "{dir}/bad.conf", "status"}, Traceback: true},
		c("unknown protocol", "-s", "ftp://example.invalid", "status"), // https:// is ours (TLS)
		c("unknown command", "-c", "{dir}/ctl.conf", "foo", "bar"),
		c("shell escape", "-c", "{dir}/ctl.conf", "!ls"),
		c("EOF command", "-c", "{dir}/ctl.conf", "EOF"),
		c("quit", "-c", "{dir}/ctl.conf", "quit"),
		c("exit", "-c", "{dir}/ctl.conf", "exit"),
		c("help", "-c", "{dir}/ctl.conf", "help"),
		c("help question", "-c", "{dir}/ctl.conf", "?"),
		c("help help", "-c", "{dir}/ctl.conf", "help", "help"),
		c("help unknown", "-c", "{dir}/ctl.conf", "help", "nosuch"),
		c("help EOF", "-c", "{dir}/ctl.conf", "help", "EOF"),
		c("help two words", "-c", "{dir}/ctl.conf", "help", "status", "x"),
		c("avail args", "-c", "{dir}/ctl.conf", "avail", "x"),
		c("reread args", "-c", "{dir}/ctl.conf", "reread", "x"),
		c("shutdown args", "-c", "{dir}/ctl.conf", "shutdown", "x"),
		c("reload args", "-c", "{dir}/ctl.conf", "reload", "x"),
		c("version args", "-c", "{dir}/ctl.conf", "version", "x"),
		c("open bad url", "-c", "{dir}/ctl.conf", "open", "ftp://x"),
		c("add nothing", "-c", "{dir}/ctl.conf", "add"),
		{Name: "shell", Args: []string{"-c", "{dir}/ctl.conf"}, Stdin: "help quit\nfoo\n\nversion x\n"},
		{Name: "shell open", Args: []string{"-c", "{dir}/ctl.conf"}, Stdin: "open unix://{dir}/dead.sock\nopen http://127.0.0.1:{port}\n"},
		{Name: "shell quit", Args: []string{"-c", "{dir}/ctl.conf"}, Stdin: "quit\nversion\n"},
	}
	for _, topic := range []string{"add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit",
		"reload", "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
		"update", "version"} {
		cases = append(cases, c("help "+topic, "-c", "{dir}/ctl.conf", "help", topic))
	}
	commands := [][]string{{"status"}, {"status", "x"}, {"pid"}, {"version"}, {"tail", "x"}, {"maintail"},
		{"start", "x"}, {"stop", "x"}, {"restart", "x"}, {"signal", "HUP", "x"}, {"clear", "x"}, {"fg", "x"},
		{"avail"}, {"reread"}, {"add", "x"}, {"remove", "x"}, {"update"}, {"reload"}, {"shutdown"}}
	for _, server := range []struct{ name, url string }{
		{"no socket", "unix://{dir}/nosock"},
		{"refused socket", "unix://{dir}/dead.sock"},
		{"refused port", "http://127.0.0.1:{port}"},
	} {
		for _, cmd := range commands {
			cases = append(cases, c(server.name+" "+strings.Join(cmd, " "), append([]string{"-s", server.url}, cmd...)...))
		}
	}
	return cases
}

// goldenDir lays out the files the golden cases refer to and returns
// the directory and a port nobody listens on.
func goldenDir(t *testing.T) (string, int) {
	t.Helper()
	dir, err := os.MkdirTemp("", "ctlg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	files := map[string]string{
		"ctl.conf":   "[supervisorctl]\nserverurl = unix://%(here)s/nosock\nprompt = mine\n",
		"noctl.conf": "[supervisord]\n",
		"bad.conf":   "[supervisorctl]\nfoo\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deadSocket(t, filepath.Join(dir, "dead.sock"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return dir, port
}

func (g goldenCase) run(t *testing.T, bin, dir string, port int) ctlResult {
	t.Helper()
	r := strings.NewReplacer("{dir}", dir, "{port}", strconv.Itoa(port))
	var args []string
	for _, a := range g.Args {
		args = append(args, r.Replace(a))
	}
	res := runCtl(t, bin, ctlRun{args: args, stdin: r.Replace(g.Stdin), dir: dir})
	back := strings.NewReplacer(dir, "{dir}", bin, "{prog}", ":"+strconv.Itoa(port), ":{port}")
	res.Stdout, res.Stderr = back.Replace(res.Stdout), back.Replace(res.Stderr)
	if g.Traceback {
		res.Stderr = tracebackTail(res.Stderr)
	}
	return res
}

// tracebackTail is the exception part of a Python traceback.
func tracebackTail(s string) string {
	if i := strings.Index(s, "\nconfigparser."); i >= 0 {
		return s[i+1:]
	}
	return s
}

// TestGolden checks our client against Python's recorded answers.
func TestGolden(t *testing.T) {
	needBinaries(t)
	path := filepath.Join("testdata", "golden.json")
	if *update {
		needOracle(t)
		dir, port := goldenDir(t)
		var out []goldenCase
		for _, g := range goldenCases() {
			res := g.run(t, pyCtl, dir, port)
			g.Stdout, g.Stderr, g.Exit = res.Stdout, res.Stderr, res.Exit
			out = append(out, g)
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update)", err)
	}
	var want []goldenCase
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(want) != len(goldenCases()) {
		t.Errorf("%s has %d cases, the test lists %d: run go test -run TestGolden -update", path, len(want), len(goldenCases()))
	}
	dir, port := goldenDir(t)
	for _, g := range want {
		got := g.run(t, ourCtl, dir, port)
		exp := ctlResult{Stdout: g.Stdout, Stderr: g.Stderr, Exit: g.Exit}
		if got != exp {
			t.Errorf("%s: supervisorctl %s\nwant exit %d\nstdout:\n%s\nstderr:\n%s\n got exit %d\nstdout:\n%s\nstderr:\n%s",
				g.Name, strings.Join(g.Args, " "), exp.Exit, exp.Stdout, exp.Stderr, got.Exit, got.Stdout, got.Stderr)
		}
	}
	assertNoChildren(t)
}

// TestZygoteMatchesRealBinary checks that the preloaded-interpreter
// runner the differential test uses behaves as /usr/bin/supervisorctl.
func TestZygoteMatchesRealBinary(t *testing.T) {
	needOracle(t)
	needBinaries(t)
	dir, port := goldenDir(t)
	z := startZygote(t)
	for _, args := range [][]string{
		{"-h"},
		{"-x"},
		{"-c", dir + "/ctl.conf", "status"},
		{"-c", dir + "/ctl.conf", "help"},
		{"-s", "unix://" + dir + "/dead.sock", "avail"},
		{"-s", "http://127.0.0.1:" + strconv.Itoa(port), "status"},
	} {
		r := ctlRun{args: args, stdin: "help quit\n", dir: dir}
		real := runCtl(t, pyCtl, r)
		zy := z.run(r)
		if real != zy {
			t.Errorf("supervisorctl %q:\nreal %+v\nzygote %+v", args, real, zy)
		}
	}
}
