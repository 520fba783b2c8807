package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "regenerate testdata/corpus/*.golden.json with /usr/bin/python3 and supervisor 4.2.5")

// testEnviron is the environment both Python and Go see in the
// differential test; its order is os.environ's order.
var testEnviron = []string{
	"PATH=/usr/bin:/bin",
	"HOME=/root",
	"TD_VAR=hello",
	"TD_SPACE=a b",
	"TD_PCT=50%",
	"LC_CTYPE=C.UTF-8", // else Python's PEP 538 coercion adds it
}

const testHost = "testhost"

var corpusDirAbs, _ = filepath.Abs("testdata/corpus")

func corpusDir(t testing.TB) string {
	if corpusDirAbs == "" {
		t.Fatal("cannot resolve testdata/corpus")
	}
	return corpusDirAbs
}

// parseArgs applies supervisord command line args with Overrides.Set,
// getopt style.
func parseArgs(args []string) (*Overrides, error) {
	o := &Overrides{Cwd: corpusDirAbs}
	for i := 0; i < len(args); i++ {
		opt, arg, hasArg := strings.Cut(args[i], "=")
		if !strings.HasPrefix(opt, "--") {
			opt, arg, hasArg = args[i][:2], args[i][2:], len(args[i]) > 2
		}
		_, takes := IsOverrideFlag(opt)
		if takes && !hasArg && i+1 < len(args) {
			i++
			arg = args[i]
		}
		if err := o.Set(opt, arg); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func loadArgs(t *testing.T, dir, name string) []string {
	b, err := os.ReadFile(filepath.Join(dir, name+".args"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func TestDifferential(t *testing.T) {
	dir := corpusDir(t)
	confs, err := filepath.Glob(filepath.Join(dir, "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(confs) < 40 {
		t.Fatalf("corpus has %d configs, want >= 40", len(confs))
	}
	errorsSeen := 0
	for _, conf := range confs {
		name := strings.TrimSuffix(filepath.Base(conf), ".conf")
		t.Run(name, func(t *testing.T) {
			skipUnlessRequired(t, filepath.Join(dir, name+".requires"))
			args := loadArgs(t, dir, name)
			golden := filepath.Join(dir, name+".golden.json")
			if *update {
				cmd := exec.Command("/usr/bin/python3", append([]string{"../dump.py", name + ".conf"}, args...)...)
				cmd.Dir = dir
				cmd.Env = testEnviron
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("dump.py: %v\n%s", err, stderr.String())
				}
				out = bytes.ReplaceAll(out, []byte(dir), []byte("$TD"))
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("no golden file (run go test ./config -run TestDifferential -update): %v", err)
			}
			got := goDump(t, dir, name+".conf", args)
			var w, g any
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(w, g); d != "" {
				t.Errorf("Go differs from Python (-python +go):\n%s", d)
			}
		})
	}
	for _, conf := range confs {
		b, err := os.ReadFile(strings.TrimSuffix(conf, ".conf") + ".golden.json")
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte(`{
 "error"`)) {
			errorsSeen++
		}
	}
	if errorsSeen < 15 {
		t.Errorf("corpus has %d broken configs, want >= 15", errorsSeen)
	}
}

// skipUnlessRequired skips a case whose NAME.requires lists a directory
// that does not exist here, or ("empty:DIR") one that is not empty: such
// a config (Debian's own) reads system paths.
func skipUnlessRequired(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Fields(string(b)) {
		if d, ok := strings.CutPrefix(line, "empty:"); ok {
			if entries, err := os.ReadDir(d); err != nil || len(entries) > 0 {
				t.Skipf("needs an empty %s", d)
			}
		} else if st, err := os.Stat(line); err != nil || !st.IsDir() {
			t.Skipf("needs %s", line)
		}
	}
}

// goDump renders the Go loader's result in dump.py's JSON shape.
func goDump(t *testing.T, dir, path string, args []string) []byte {
	opts := LoadOptions{Environ: testEnviron, Hostname: testHost, Cwd: dir, TempDir: "/tmp"}
	var out any
	ov, err := parseArgs(args)
	if err == nil {
		opts.Overrides = ov
		var cfg *Config
		cfg, err = Load(path, opts)
		if err == nil {
			out = dumpConfig(cfg)
		}
	}
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Errorf("error is %T, want *config.Error: %v", err, err)
		}
		out = map[string]any{"error": err.Error()}
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte(dir), []byte("$TD"))
}

func envPairs(e Environment) [][]string {
	out := [][]string{}
	for _, kv := range e {
		out = append(out, []string{kv.Key, kv.Value})
	}
	return out
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func dumpConfig(c *Config) map[string]any {
	s := c.Supervisord
	sup := map[string]any{
		"logfile": s.Logfile, "logfile_maxbytes": s.LogfileMaxbytes,
		"logfile_backups": s.LogfileBackups, "loglevel": int(s.Loglevel),
		"pidfile": s.Pidfile, "umask": int(s.Umask), "nodaemon": s.Nodaemon,
		"silent": s.Silent, "minfds": s.Minfds, "minprocs": s.Minprocs,
		"nocleanup": s.Nocleanup, "strip_ansi": s.StripANSI,
		"childlogdir": s.Childlogdir, "user": nil, "uid": nil, "gid": nil,
		"directory": nullable(s.Directory), "identifier": s.Identifier,
		"environment": envPairs(s.Environment),
	}
	if s.User != nil {
		sup["user"], sup["uid"], sup["gid"] = s.User.Name, s.User.UID, s.User.GID
	}
	servers := []any{}
	for _, h := range c.HTTPServers {
		servers = append(servers, map[string]any{
			"section": h.Section, "name": h.Name, "family": h.Family, "host": h.Host,
			"port": h.Port, "file": h.File, "chmod": int(h.Chmod),
			"chown": []int{h.ChownUID, h.ChownGID}, "username": h.Username, "password": h.Password,
		})
	}
	rpcs := []any{}
	for _, r := range c.RPCInterfaces {
		rpcs = append(rpcs, map[string]any{"name": r.Name, "factory": r.Factory, "options": r.Options})
	}
	groups := []any{}
	for _, g := range c.Groups {
		procs := []any{}
		for _, p := range g.Processes {
			procs = append(procs, dumpProcess(p))
		}
		m := map[string]any{"name": g.Name, "priority": g.Priority, "kind": "program", "processes": procs}
		switch g.Kind {
		case KindEventListener:
			m["kind"], m["buffer_size"], m["events"], m["result_handler"] = "eventlistener", g.BufferSize, g.Events, g.ResultHandler
		case KindFastCGI:
			m["kind"] = "fcgi"
			m["socket"] = map[string]any{"url": g.Socket.URL, "backlog": g.Socket.Backlog,
				"owner": []int{g.Socket.OwnerUID, g.Socket.OwnerGID}, "mode": int(g.Socket.Mode)}
		}
		groups = append(groups, m)
	}
	var ctl any
	if c.Supervisorctl != nil {
		x := c.Supervisorctl
		ctl = map[string]any{"serverurl": x.ServerURL, "username": x.Username, "password": x.Password,
			"prompt": x.Prompt, "history_file": x.HistoryFile}
	}
	strs := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return map[string]any{
		"supervisord": sup, "serverurl": c.ServerURL, "servers": servers,
		"rpcinterfaces": rpcs, "groups": groups, "criticals": strs(c.Criticals),
		"warnings": strs(c.Warnings), "infos": strs(c.Infos), "ctl": ctl,
	}
}

func dumpProcess(p *Process) map[string]any {
	var uid, umask any
	if p.User != nil {
		uid = p.User.UID
	}
	if p.Umask != nil {
		umask = int(*p.Umask)
	}
	ar := map[Autorestart]string{AutorestartAlways: "always", AutorestartNever: "never", AutorestartUnexpected: "unexpected"}[p.Autorestart]
	ch := func(l LogConfig) map[string]any {
		return map[string]any{"logfile": nullable(l.File), "maxbytes": l.Maxbytes, "backups": l.Backups,
			"capture_maxbytes": l.CaptureMaxbytes, "events_enabled": l.EventsEnabled, "syslog": l.Syslog}
	}
	codes := p.Exitcodes
	if codes == nil {
		codes = []int{}
	}
	return map[string]any{
		"name": p.Name, "command": p.Command, "uid": uid, "directory": nullable(p.Directory),
		"umask": umask, "priority": p.Priority, "autostart": p.Autostart, "autorestart": ar,
		"startsecs": p.Startsecs, "startretries": p.Startretries, "stopsignal": p.Stopsignal,
		"stopwaitsecs": p.Stopwaitsecs, "stopasgroup": p.Stopasgroup, "killasgroup": p.Killasgroup,
		"exitcodes": codes, "redirect_stderr": p.RedirectStderr, "environment": envPairs(p.Environment),
		"serverurl": p.ServerURL, "stdout": ch(p.Stdout), "stderr": ch(p.Stderr),
	}
}
