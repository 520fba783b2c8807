package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func loadText(t *testing.T, text string) (*Config, string, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "s.conf")
	if err := os.WriteFile(path, []byte("[supervisord]\n"+text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, LoadOptions{Environ: append(testEnviron, "HOME=/home/u", "LIMIT=77"), Hostname: testHost, Cwd: dir, TempDir: "/tmp"})
	return cfg, path, err
}

func findProcess(cfg *Config, group, name string) *Process {
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			if g.Name == group && p.Name == name {
				return p
			}
		}
	}
	return nil
}

func TestLifecycleKeys(t *testing.T) {
	cases := []struct {
		name string
		conf string
		want Lifecycle
	}{
		{"defaults", "[program:a]\ncommand=/bin/cat\n", Lifecycle{RestartBackoffReset: 60}},
		{"all", `[program:db]
command=/bin/cat
[program:a]
command=/bin/cat
depends_on = db, db:* , db:db
restart_delay = 2
restart_backoff_max = 30
restart_backoff_reset = 10
fatal_retry_after = 300
exit_on_fatal = true
exit_on_exit = yes
env_file = ~/a.env, /etc/b.env
rlimits = nofile=65536, core=0, nproc=512:1024, as=unlimited, stack=1:unlimited, NOFILE=%(ENV_LIMIT)s
`, Lifecycle{
			DependsOn: []string{"db", "db:*", "db:db"}, RestartDelay: 2, RestartBackoffMax: 30,
			RestartBackoffReset: 10, FatalRetryAfter: 300, ExitOnFatal: true, ExitOnExit: true,
			EnvFiles: []string{"/home/u/a.env", "/etc/b.env"},
			Rlimits: []Rlimit{
				{"core", 0, 0}, {"nproc", 512, 1024}, {"as", RlimInfinity, RlimInfinity},
				{"stack", 1, RlimInfinity}, {"nofile", 77, 77},
			},
		}},
		{"supervisord exit_on_fatal is the default", "exit_on_fatal=true\n[program:a]\ncommand=/bin/cat\n",
			Lifecycle{RestartBackoffReset: 60, ExitOnFatal: true}},
		{"a program may turn it off", "exit_on_fatal=true\n[program:a]\ncommand=/bin/cat\nexit_on_fatal=false\n",
			Lifecycle{RestartBackoffReset: 60}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, _, err := loadText(t, c.conf)
			if err != nil {
				t.Fatal(err)
			}
			p := findProcess(cfg, "a", "a")
			if d := cmp.Diff(c.want, p.Lifecycle); d != "" {
				t.Errorf("lifecycle (-want +got):\n%s", d)
			}
		})
	}
}

func TestLifecycleKeysInOtherSections(t *testing.T) {
	cfg, _, err := loadText(t, `[fcgi-program:f]
command=/bin/cat
socket=tcp://127.0.0.1:9999
rlimits=nofile=10
depends_on=e
[eventlistener:e]
command=/bin/cat
events=TICK_5
restart_delay=3
`)
	if err != nil {
		t.Fatal(err)
	}
	if p := findProcess(cfg, "f", "f"); len(p.Rlimits) != 1 || p.DependsOn[0] != "e" {
		t.Errorf("fcgi-program: %+v", p.Lifecycle)
	}
	if p := findProcess(cfg, "e", "e"); p.RestartDelay != 3 {
		t.Errorf("eventlistener: %+v", p.Lifecycle)
	}
}

func TestLifecycleErrors(t *testing.T) {
	cases := []struct {
		name, conf, want string
	}{
		{"bad delay", "[program:a]\ncommand=c\nrestart_delay=soon\n",
			`invalid restart_delay value 'soon': invalid literal for int() with base 10: 'soon' in section 'program:a'`},
		{"negative", "[program:a]\ncommand=c\nfatal_retry_after=-1\n",
			`invalid fatal_retry_after value '-1': must not be negative in section 'program:a'`},
		{"bad bool", "[program:a]\ncommand=c\nexit_on_exit=maybe\n",
			`invalid exit_on_exit value 'maybe': not a valid boolean value: 'maybe' in section 'program:a'`},
		{"supervisord bool", "exit_on_fatal=maybe\n", `not a valid boolean value: 'maybe'`},
		{"rlimit name", "[program:a]\ncommand=c\nrlimits=files=3\n",
			`invalid rlimits value 'files=3': unknown resource 'files'`},
		{"rlimit value", "[program:a]\ncommand=c\nrlimits=nofile=lots\n",
			`invalid rlimits value 'nofile=lots': nofile: 'lots' is not a number or "unlimited"`},
		{"rlimit order", "[program:a]\ncommand=c\nrlimits=nproc=10:5\n",
			`nproc: soft limit 10 is above the hard limit 5`},
		{"rlimit shape", "[program:a]\ncommand=c\nrlimits=nofile\n", `'nofile' is not NAME=SOFT[:HARD]`},
		{"empty env_file", "[program:a]\ncommand=c\nenv_file=a,,b\n", `invalid env_file value 'a,,b': empty path`},
		{"unknown dependency", "[program:a]\ncommand=c\ndepends_on=nope\n",
			`depends_on names unknown program 'nope' in section 'program:a' (file: `},
		{"unknown group", "[program:a]\ncommand=c\ndepends_on=g:*\n", `depends_on names unknown program 'g:*'`},
		{"self", "[program:a]\ncommand=c\ndepends_on=a\n", `depends_on cycle: a -> a in section 'program:a'`},
		{"cycle", "[program:a]\ncommand=c\ndepends_on=b\n[program:b]\ncommand=c\ndepends_on=c\n[program:c]\ncommand=c\ndepends_on=a\n",
			`depends_on cycle: a -> b -> c -> a in section 'program:a'`},
		{"cycle through a group", "[group:g]\nprograms=x,y\n[program:x]\ncommand=c\ndepends_on=z\n[program:y]\ncommand=c\n[program:z]\ncommand=c\ndepends_on=g:*\n",
			`depends_on cycle: g:x -> z -> g:x`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, path, err := loadText(t, c.conf)
			if err == nil {
				t.Fatalf("loaded; want an error containing %q", c.want)
			}
			if _, ok := err.(*Error); !ok {
				t.Errorf("error %T is not a config error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
			if strings.Contains(c.want, "in section") && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %s", err, path)
			}
		})
	}
}

// TestLifecycleDiff checks that changing any issue-13 key marks only that
// program's group as changed, so update restarts only it.
func TestLifecycleDiff(t *testing.T) {
	base := "[program:db]\ncommand=/bin/cat\n[program:a]\ncommand=/bin/cat\n"
	for _, line := range []string{
		"depends_on=db", "restart_delay=1", "restart_backoff_max=5", "restart_backoff_reset=5",
		"fatal_retry_after=5", "exit_on_fatal=true", "exit_on_exit=true", "env_file=/x.env",
		"rlimits=core=0",
	} {
		t.Run(line, func(t *testing.T) {
			old, _, err := loadText(t, base)
			if err != nil {
				t.Fatal(err)
			}
			nw, _, err := loadText(t, base+line+"\n")
			if err != nil {
				t.Fatal(err)
			}
			a, c, r := Diff(old, nw)
			if len(a) != 0 || len(r) != 0 || !cmp.Equal(c, []string{"a"}) {
				t.Errorf("Diff = added %v changed %v removed %v; want changed [a]", a, c, r)
			}
			a, c, r = Diff(nw, nw)
			if len(a)+len(c)+len(r) != 0 {
				t.Errorf("Diff(same) = %v %v %v", a, c, r)
			}
		})
	}
}

func FuzzParseRlimits(f *testing.F) {
	for _, s := range []string{"nofile=65536, core=0, nproc=512:1024", "as=unlimited", "x", "stack=1:0", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := parseRlimits(s)
		if err != nil {
			return
		}
		var parts []string
		for _, r := range rs {
			if r.Soft > r.Hard {
				t.Fatalf("%q: soft above hard in %+v", s, r)
			}
			parts = append(parts, r.String())
		}
		again, err := parseRlimits(strings.Join(parts, ","))
		if err != nil || !cmp.Equal(again, rs) {
			t.Fatalf("%q: round trip %v -> %v, %v", s, rs, again, err)
		}
	})
}

func TestReloadKeepsRunningKey(t *testing.T) {
	for _, c := range []struct {
		conf string
		want bool
		err  string
	}{
		{"", false, ""},
		{"reload_keeps_running = true\n", true, ""},
		{"reload_keeps_running = off\n", false, ""},
		{"reload_keeps_running = sometimes\n", false, `not a valid boolean value: 'sometimes'`},
	} {
		cfg, _, err := loadText(t, c.conf+"[program:a]\ncommand=/bin/cat\n")
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want %q", c.conf, err, c.err)
			}
		case err != nil:
			t.Errorf("%q: %v", c.conf, err)
		case cfg.Supervisord.ReloadKeepsRunning != c.want:
			t.Errorf("%q: %v, want %v", c.conf, cfg.Supervisord.ReloadKeepsRunning, c.want)
		}
	}
}
