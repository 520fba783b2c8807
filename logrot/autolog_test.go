package logrot

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAutoName(t *testing.T) {
	dir := t.TempDir()
	re := regexp.MustCompile(`^sleeper-stdout---svref-[a-z0-9_]{8}\.log$`)
	seen := map[string]bool{}
	for range 50 {
		p, err := AutoName(dir, "sleeper", "svref", "stdout")
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(p) != dir || !re.MatchString(filepath.Base(p)) {
			t.Fatalf("name %q", p)
		}
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 0 {
			t.Fatalf("file %q: %v %v", p, fi, err)
		}
		if seen[p] {
			t.Fatalf("name %q given twice", p)
		}
		seen[p] = true
	}
	if _, err := AutoName(filepath.Join(dir, "missing"), "a", "b", "stdout"); err == nil {
		t.Fatal("AutoName in a missing directory succeeded")
	}
}

// TestCleanupAutoLogs: the names and verdicts come from Python's
// clear_autochildlogdir regex (re.match), identifier "supervisor".
func TestCleanupAutoLogs(t *testing.T) {
	cases := []struct {
		name   string
		remove bool
	}{
		{"prog-stdout---supervisor-abcd1234.log", true},
		{"prog-stdout---supervisor-abcd1234.log.1", true},
		{"prog-stdout---supervisor-abcd1234.log.10", true},
		{"prog-stdout---supervisor-abcd1234-2026-11-25T22-00-00.000.log", true},
		{"prog-stdout---supervisor-abcd1234-2026-11-25T22-00-00.000.log.gz", true},
		{"a---supervisor-b.logfile", true},
		{"x---supervisor-y.log.12345", true},
		{"---supervisor-abcd1234.log", false},
		{"prog-stdout---other-abcd1234.log", false},
		{"prog-stdout---supervisor-.log", false},
		{"prog-stdout---supervisor-x.txt", false},
		{"prog-stdout---supervisorx-abc.log", false},
		{"supervisord.log", false},
		{"prog-stdout---supervisor-a b.log", false},
	}
	dir := t.TempDir()
	var want, keep []string
	for _, c := range cases {
		if err := os.WriteFile(filepath.Join(dir, c.name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if c.remove {
			want = append(want, filepath.Join(dir, c.name))
		} else {
			keep = append(keep, c.name)
		}
	}
	removed, err := CleanupAutoLogs(dir, "supervisor")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(removed)
	sort.Strings(want)
	if diff := cmp.Diff(want, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	ents, _ := os.ReadDir(dir)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	sort.Strings(keep)
	if diff := cmp.Diff(keep, left); diff != "" {
		t.Errorf("left (-want +got):\n%s", diff)
	}
	if _, err := CleanupAutoLogs(filepath.Join(dir, "missing"), "supervisor"); err == nil {
		t.Error("no error for a missing childlogdir")
	}
	// A regex metacharacter in the identifier matches only itself.
	os.WriteFile(filepath.Join(dir, "p-stdout---aXb-abc.log"), nil, 0o600)
	if removed, _ := CleanupAutoLogs(dir, "a.b"); len(removed) != 0 {
		t.Errorf("identifier a.b removed %v", removed)
	}
}
