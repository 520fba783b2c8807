package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary text to the loader as a supervisord.conf: it
// must return a config or an *Error, never panic or hang.
func FuzzLoad(f *testing.F) {
	confs, _ := filepath.Glob("testdata/corpus/*.conf")
	for _, c := range confs {
		if b, err := os.ReadFile(c); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("[supervisord]\n[program:x]\ncommand=%(process_num)*d %(a)s %\n")
	f.Add("[supervisord]\nenvironment=A='x\"y',B=\"#c\nd\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(text, "include") && (strings.Contains(text, "/") || strings.Contains(text, "..")) {
			t.Skip("includes may only name files beside the config")
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "supervisord.conf")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := newLoader(LoadOptions{Environ: testEnviron, Hostname: testHost, Cwd: dir, TempDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		l.maxProcs = 100
		cfg, err := l.load(path)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if cfg != nil {
				t.Fatal("config and error both returned")
			}
			return
		}
		if cfg == nil {
			t.Fatal("neither config nor error")
		}
		for _, g := range cfg.Groups {
			for _, p := range g.Processes {
				if p == nil {
					t.Fatal("nil process")
				}
			}
		}
		Diff(cfg, cfg)
	})
}
