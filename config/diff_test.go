package config

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDiffDifferential compares Diff with supervisord's diff_to_active on
// pairs of configs in testdata/diff (golden files from diffdump.py).
func TestDiffDifferential(t *testing.T) {
	dir, err := filepath.Abs("testdata/diff")
	if err != nil {
		t.Fatal(err)
	}
	olds, _ := filepath.Glob(filepath.Join(dir, "*.old.conf"))
	if len(olds) == 0 {
		t.Fatal("no diff cases")
	}
	for _, old := range olds {
		name := strings.TrimSuffix(filepath.Base(old), ".old.conf")
		t.Run(name, func(t *testing.T) {
			golden := filepath.Join(dir, name+".golden.json")
			if *update {
				cmd := exec.Command("/usr/bin/python3", "../diffdump.py", name+".old.conf", name+".new.conf")
				cmd.Dir = dir
				cmd.Env = testEnviron
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("diffdump.py: %v", err)
				}
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			var want map[string][]string
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			opts := LoadOptions{Environ: testEnviron, Hostname: testHost, Cwd: dir, TempDir: "/tmp"}
			oc, err := Load(name+".old.conf", opts)
			if err != nil {
				t.Fatal(err)
			}
			nc, err := Load(name+".new.conf", opts)
			if err != nil {
				t.Fatal(err)
			}
			a, c, r := Diff(oc, nc)
			got := map[string][]string{"added": a, "changed": c, "removed": r}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Diff differs from Python (-python +go):\n%s", d)
			}
			if a, c, r := Diff(nil, nc); len(a) != len(nc.Groups) || len(c)+len(r) != 0 {
				t.Errorf("Diff(nil, new) = %v %v %v, want every group added", a, c, r)
			}
			if a, c, r := Diff(nc, nc); len(a)+len(c)+len(r) != 0 {
				t.Errorf("Diff(new, new) = %v %v %v, want nothing", a, c, r)
			}
		})
	}
}

func TestDiffAutoLogIgnored(t *testing.T) {
	auto := &Process{Name: "a", Stdout: LogConfig{File: LogAuto}}
	path := &Process{Name: "a", Stdout: LogConfig{File: "/var/log/a-stdout---supervisor-x.log"}}
	other := &Process{Name: "a", Stdout: LogConfig{File: "/var/log/b.log"}}
	none := &Process{Name: "a", Stdout: LogConfig{File: LogNone}}
	for _, tc := range []struct {
		a, b *Process
		want bool
	}{
		{auto, path, true}, {path, auto, true}, {auto, none, true},
		{path, other, false}, {none, other, false}, {path, path, true},
	} {
		if got := tc.a.Equal(tc.b); got != tc.want {
			t.Errorf("%q.Equal(%q) = %v, want %v", tc.a.Stdout.File, tc.b.Stdout.File, got, tc.want)
		}
	}
}
