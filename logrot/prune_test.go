package logrot

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gosupervisor/gosupervisor/config"
)

// TestPruneDir: the newest `keep` backups of each log survive (a backup
// and its .gz count once); other logs' backups, the live files and names
// that only look like backups are left alone.
func TestPruneDir(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		specs map[string]int // log path (base) -> keep
		want  []string
	}{
		{"keeps the newest", []string{"a.log", "a-2026-01-01T00-00-00.000.log", "a-2026-01-02T00-00-00.000.log", "a-2026-01-03T00-00-00.000.log"},
			map[string]int{"a.log": 2}, []string{"a-2026-01-02T00-00-00.000.log", "a-2026-01-03T00-00-00.000.log", "a.log"}},
		{"gz counts with its plain twin", []string{"a-2026-01-01T00-00-00.000.log.gz", "a-2026-01-02T00-00-00.000.log", "a-2026-01-02T00-00-00.000.log.gz", "a-2026-01-03T00-00-00.000.log"},
			map[string]int{"a.log": 2}, []string{"a-2026-01-02T00-00-00.000.log", "a-2026-01-02T00-00-00.000.log.gz", "a-2026-01-03T00-00-00.000.log"}},
		{"a log whose name extends another's", []string{"a-b-2026-01-01T00-00-00.000.log", "a-b-2026-01-02T00-00-00.000.log", "a-2026-01-01T00-00-00.000.log"},
			map[string]int{"a.log": 0, "a-b.log": 1}, []string{"a-b-2026-01-02T00-00-00.000.log"}},
		{"not a backup", []string{"a-2026-13-01T00-00-00.000.log", "a-latest.log", "a.log.1", "b-2026-01-01T00-00-00.000.log"},
			map[string]int{"a.log": 0}, []string{"a-2026-13-01T00-00-00.000.log", "a-latest.log", "a.log.1", "b-2026-01-01T00-00-00.000.log"}},
		{"other extensions", []string{"x-2026-01-01T00-00-00.000.txt", "x-2026-01-02T00-00-00.000.txt", "y-2026-01-01T00-00-00.000", "y-2026-01-02T00-00-00.000"},
			map[string]int{"x.txt": 1, "y": 1}, []string{"x-2026-01-02T00-00-00.000.txt", "y-2026-01-02T00-00-00.000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644)
			}
			specs := map[pruneSpec]int{}
			for p, keep := range tc.specs {
				specs[specFor(filepath.Join(dir, p))] = keep
			}
			pruneDir(dir, specs)
			if got := dirNames(t, dir); !slices.Equal(got, tc.want) {
				t.Errorf("left %q, want %q", got, tc.want)
			}
		})
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestHubPrunesMassRotation: 50 logs in one directory, each rotated 6
// times by its sink (lumberjack names the backups): once the Hub's
// pruner is idle each keeps its newest 2 backups, whose contents are the
// last ones written.
func TestHubPrunesMassRotation(t *testing.T) {
	dir := t.TempDir()
	h := NewHub(nil)
	var sinks []*fileSink
	for i := range 50 {
		s, err := h.acquireSink(sinkOptions{Path: filepath.Join(dir, fmt.Sprintf("p%02d.log", i)), MaxBytes: 1 << 20, Backups: 2})
		if err != nil {
			t.Fatal(err)
		}
		sinks = append(sinks, s)
	}
	for r := range 6 {
		for _, s := range sinks {
			if _, err := s.Write([]byte(fmt.Sprintf("round %d\n", r))); err != nil {
				t.Fatal(err)
			}
			if err := s.Rotate(); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.pruner.wait()
	for i, s := range sinks {
		backups, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("p%02d-*.log", i)))
		slices.Sort(backups)
		if len(backups) != 2 {
			t.Fatalf("p%02d: backups %q, want 2", i, backups)
		}
		for j, b := range backups {
			got, _ := os.ReadFile(b)
			if want := fmt.Sprintf("round %d\n", 4+j); string(got) != want {
				t.Errorf("%s holds %q, want %q", b, got, want)
			}
		}
		h.releaseSink(s)
	}
}

// TestMainLogPrunesInline: a sink without a Hub (the main log) prunes as
// it rotates.
func TestMainLogPrunesInline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.log")
	m, err := NewMainLog(MainLogOptions{Logfile: path, Level: config.LevelInfo, Backups: 1, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range 3 {
		m.Log(config.LevelInfo, fmt.Sprint("line ", i))
		if err := m.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	if got := dirNames(t, dir); len(got) != 2 {
		t.Fatalf("files %q, want one backup and the live file", got)
	}
}
