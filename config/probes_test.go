package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/pyint"
)

// loadText loads one config text from a temporary file.
func loadProbesText(t *testing.T, text string) (*Config, string, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "s.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, LoadOptions{Environ: append(testEnviron, "TD_PORT=8080"), Hostname: testHost, Cwd: dir, TempDir: "/tmp"})
	return cfg, path, err
}

func TestProbesDefaultsAndValues(t *testing.T) {
	cfg, _, err := loadProbesText(t, `[supervisord]
[program:plain]
command = /bin/cat
[program:web]
command = /bin/cat
numprocs = 2
process_name = web%(process_num)d
ready = http://127.0.0.1:%(ENV_TD_PORT)s/ready?x=%(process_num)d
ready_timeout = 2.5
ready_interval = 0.25
healthcheck = exec:/bin/sh -c "test -e /tmp"
healthcheck_interval = 30
healthcheck_timeout = 1
healthcheck_retries = 5
memory_max = 512MB
memory_check_interval = 2
[fcgi-program:f]
command = /bin/cat
socket = tcp://127.0.0.1:9999
ready = tcp://localhost:%(ENV_TD_PORT)s
[eventlistener:l]
command = /bin/cat
events = TICK_5
ready = notify
healthcheck = https://[::1]/health
`)
	if err != nil {
		t.Fatal(err)
	}
	procs := map[string]*Process{}
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			procs[p.Name] = p
		}
	}
	plain := procs["plain"].Probes
	if plain.Any() || plain.Ready != nil || plain.Healthcheck != nil || plain.MemoryMax != 0 ||
		plain.ReadyTimeout != 60*time.Second || plain.ReadyInterval != time.Second ||
		plain.HealthcheckInterval != 10*time.Second || plain.HealthcheckTimeout != 5*time.Second ||
		plain.HealthcheckRetries != 3 || plain.MemoryCheckInterval != 5*time.Second {
		t.Errorf("defaults: %+v", plain)
	}
	w1 := procs["web1"].Probes
	if r := w1.Ready; r == nil || r.Kind != CheckHTTP || r.Addr != "127.0.0.1:8080" || r.URL != "http://127.0.0.1:8080/ready?x=1" {
		t.Errorf("web1 ready: %+v", r)
	}
	if w1.ReadyTimeout != 2500*time.Millisecond || w1.ReadyInterval != 250*time.Millisecond ||
		w1.HealthcheckInterval != 30*time.Second || w1.HealthcheckTimeout != time.Second ||
		w1.HealthcheckRetries != 5 || w1.MemoryMax != 512<<20 || w1.MemoryCheckInterval != 2*time.Second || !w1.Any() {
		t.Errorf("web1: %+v", w1)
	}
	if h := w1.Healthcheck; h == nil || h.Kind != CheckExec || h.Command != `/bin/sh -c "test -e /tmp"` {
		t.Errorf("web1 healthcheck: %+v", h)
	}
	if procs["web0"].Probes.Ready.URL != "http://127.0.0.1:8080/ready?x=0" {
		t.Errorf("web0 ready: %+v", procs["web0"].Probes.Ready)
	}
	if r := procs["f"].Probes.Ready; r == nil || r.Kind != CheckTCP || r.Addr != "localhost:8080" {
		t.Errorf("fcgi ready: %+v", r)
	}
	l := procs["l"].Probes
	if l.Ready == nil || l.Ready.Kind != CheckNotify || l.Healthcheck == nil || l.Healthcheck.Kind != CheckHTTPS || l.Healthcheck.Addr != "[::1]:443" {
		t.Errorf("eventlistener: ready %+v health %+v", l.Ready, l.Healthcheck)
	}
}

func TestProbesBadValues(t *testing.T) {
	tests := []struct {
		opt, value, want string
	}{
		{"ready", "tcp:127.0.0.1:80", "invalid ready value 'tcp:127.0.0.1:80': want tcp://HOST:PORT"},
		{"ready", "tcp://127.0.0.1", "invalid ready value 'tcp://127.0.0.1': want HOST:PORT"},
		{"ready", "tcp://:80", "invalid ready value 'tcp://:80': no host"},
		{"ready", "tcp://h:0", "invalid ready value 'tcp://h:0': bad port '0'"},
		{"ready", "tcp://h:70000", "invalid ready value 'tcp://h:70000': bad port '70000'"},
		{"ready", "http:///path", "invalid ready value 'http:///path': want http://HOST:PORT/PATH"},
		{"ready", "http://u:p@h:1/", "invalid ready value 'http://u:p@h:1/': credentials in the URL are not supported"},
		{"ready", "https://h:x/", "invalid ready value 'https://h:x/': want https://HOST:PORT/PATH"},
		{"ready", "exec:", "invalid ready value 'exec:': no command after exec:"},
		{"ready", "log:", "invalid ready value 'log:': no regular expression after log:"},
		{"ready", "log:(a", "invalid ready value 'log:(a': error parsing regexp: missing closing ): `(a`"},
		{"ready", "notify:x", "invalid ready value 'notify:x': notify takes no argument"},
		{"ready", "udp://h:1", "invalid ready value 'udp://h:1': want tcp://HOST:PORT, http(s)://HOST:PORT/PATH, exec:COMMAND, log:REGEX or notify"},
		{"healthcheck", "log:ok", "invalid healthcheck value 'log:ok': log: is only available for ready"},
		{"healthcheck", "notify", "invalid healthcheck value 'notify': notify is only available for ready"},
		{"healthcheck", "ftp://h:1", "invalid healthcheck value 'ftp://h:1': want tcp://HOST:PORT, http(s)://HOST:PORT/PATH or exec:COMMAND"},
		{"ready_timeout", "0", "ready_timeout must be a positive number of seconds, not '0'"},
		{"ready_interval", "-1", "ready_interval must be a positive number of seconds, not '-1'"},
		{"healthcheck_interval", "ten", "healthcheck_interval must be a positive number of seconds, not 'ten'"},
		{"healthcheck_timeout", "nan", "healthcheck_timeout must be a positive number of seconds, not 'nan'"},
		{"memory_check_interval", "inf", "memory_check_interval must be a positive number of seconds, not 'inf'"},
		{"healthcheck_retries", "0", "healthcheck_retries must be at least 1, not '0'"},
		{"healthcheck_retries", "x", "invalid literal for int() with base 10: 'x'"},
		{"memory_max", "-5MB", "memory_max must not be negative: '-5MB'"},
		{"memory_max", "lots", "invalid literal for int() with base 10: 'lots'"},
		{"ready", "tcp://h:%(ENV_NOPE)s", "Format string 'tcp://h:%(ENV_NOPE)s' for 'program:x.ready' contains names ('ENV_NOPE') which cannot be expanded. Available names: ENV_HOME, ENV_LC_CTYPE, ENV_PATH, ENV_TD_PCT, ENV_TD_PORT, ENV_TD_SPACE, ENV_TD_VAR, group_name, here, host_node_name, numprocs, process_num, program_name"},
	}
	for _, tt := range tests {
		t.Run(tt.opt+"="+tt.value, func(t *testing.T) {
			_, path, err := loadProbesText(t, "[supervisord]\n[program:x]\ncommand = /bin/cat\n"+tt.opt+" = "+tt.value+"\n")
			want := tt.want + " in section 'program:x' (file: '" + path + "')"
			if err == nil || err.Error() != want {
				t.Errorf("got  %v\nwant %s", err, want)
			}
		})
	}
}

func TestProbesDiff(t *testing.T) {
	base := "[supervisord]\n[program:a]\ncommand = /bin/cat\nready = tcp://127.0.0.1:1\n[program:b]\ncommand = /bin/cat\n"
	old, _, err := loadProbesText(t, base)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, text string
		changed    []string
	}{
		{"same", base, []string{}},
		{"ready changed", strings.Replace(base, "1\n", "2\n", 1), []string{"a"}},
		{"ready removed", strings.Replace(base, "ready = tcp://127.0.0.1:1\n", "", 1), []string{"a"}},
		{"timing added", base + "ready_timeout = 5\n", []string{"b"}},
		{"healthcheck added", base + "healthcheck = tcp://127.0.0.1:3\n", []string{"b"}},
		{"memory added", base + "memory_max = 1GB\n", []string{"b"}},
		{"default spelled out", base + "healthcheck_retries = 3\nmemory_check_interval = 5.0\n", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, _, err := loadProbesText(t, tc.text)
			if err != nil {
				t.Fatal(err)
			}
			_, changed, _ := Diff(old, nc)
			if strings.Join(changed, ",") != strings.Join(tc.changed, ",") {
				t.Errorf("changed %v, want %v", changed, tc.changed)
			}
		})
	}
}

func FuzzParseCheck(f *testing.F) {
	for _, s := range []string{"tcp://h:1", "http://h/p", "https://[::1]:8443/x?y", "exec:/bin/true a 'b c'", "log:^ready$", "notify", "", "tcp://", "log:(", "exec:\"", "http://%zz"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, v string, ready bool) {
		c, err := parseCheck("ready", v, ready)
		if err != nil {
			if c != nil {
				t.Fatalf("%q: check and error", v)
			}
			return
		}
		if c == nil {
			if pyint.Strip(v) != "" {
				t.Fatalf("%q: no check and no error", v)
			}
			return
		}
		switch c.Kind {
		case CheckTCP, CheckHTTP, CheckHTTPS:
			if err := checkHostPort(c.Addr, c.Kind == CheckTCP); err != nil {
				t.Fatalf("%q: accepted bad address %q", v, c.Addr)
			}
		case CheckExec:
			if c.Command == "" {
				t.Fatalf("%q: empty command", v)
			}
		case CheckLog:
			if c.Pattern == nil || !ready {
				t.Fatalf("%q: log check %+v (ready %v)", v, c, ready)
			}
		case CheckNotify:
			if !ready {
				t.Fatalf("%q: notify health check", v)
			}
		default:
			t.Fatalf("%q: kind %d", v, c.Kind)
		}
	})
}
