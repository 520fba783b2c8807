package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// keptSections is what a read leaves of section name and DEFAULT.
func keptSections(f *iniFile, name string) map[string]map[string]string {
	out := map[string]map[string]string{}
	add := func(s *iniSection) {
		m := map[string]string{}
		for _, k := range s.keys {
			m[k] = s.values[k].text
		}
		out[s.name] = m
	}
	add(f.defaults)
	if s := f.byName[name]; s != nil {
		add(s)
	}
	return out
}

// checkKeepOnly reads text fully and with keepOnly: the errors, the kept
// section (keys in order, values) and DEFAULT must be the same.
func checkKeepOnly(t *testing.T, text string) {
	t.Helper()
	full, part := newIniFile(), newIniFile()
	part.keepOnly = "supervisorctl"
	errFull, errPart := full.read(text, "x.conf"), part.read(text, "x.conf")
	if (errFull == nil) != (errPart == nil) || errFull != nil && errFull.Error() != errPart.Error() {
		t.Fatalf("%q: errors differ: full %v, keepOnly %v", text, errFull, errPart)
	}
	if full.hasSection("supervisorctl") != part.hasSection("supervisorctl") {
		t.Fatalf("%q: has the section: full %v, keepOnly %v", text, full.hasSection("supervisorctl"), part.hasSection("supervisorctl"))
	}
	if d := cmp.Diff(keptSections(full, "supervisorctl"), keptSections(part, "supervisorctl")); d != "" {
		t.Fatalf("%q: kept sections differ (-full +keepOnly):\n%s", text, d)
	}
	for _, s := range []*iniFile{full, part} {
		if s := s.byName["supervisorctl"]; s != nil {
			if d := cmp.Diff(full.byName["supervisorctl"].keys, s.keys); d != "" {
				t.Fatalf("%q: key order differs:\n%s", text, d)
			}
		}
	}
	if len(part.sections) > 1 {
		t.Fatalf("%q: keepOnly kept %d sections", text, len(part.sections))
	}
}

// TestKeepOnly: reading only [supervisorctl] (LoadCtl) gives what the
// full read gives for it and for DEFAULT, and the same parse errors,
// wherever in the file they are.
func TestKeepOnly(t *testing.T) {
	for _, text := range keepOnlySeeds() {
		checkKeepOnly(t, text)
	}
}

func keepOnlySeeds() []string {
	seeds := []string{
		"[program:a]\ncommand=x\n  continued\n\n  after blank\n[supervisorctl]\nserverurl=unix:///s\n",
		"[supervisorctl]\nserverurl = a\n  b\n[program:a]\nbad line\n=x\n[DEFAULT]\nprompt=p\n[supervisorctl]\nSERVERURL=c\n",
		"no section\n[supervisorctl]\n",
		"[program:a]\nx=1 ; comment\n# whole\n\t; indented comment\n  y: 2\n[supervisorctl]\nusername=u # c\n\n",
		"[program:é]\ncommand=é ;c\n[supervisorctl]\npassword=é\n  é#x\n",
		"[a]\n  =\n[supervisorctl]\n=y\nz\n",
		"[program:a]\r\ncommand=x\r  y\r\n[supervisorctl]\r\nprompt=q\r\n",
		"",
		"[program:a]\n",
	}
	confs, _ := filepath.Glob("testdata/corpus/*.conf")
	for _, c := range confs {
		if b, err := os.ReadFile(c); err == nil {
			seeds = append(seeds, string(b))
		}
	}
	return seeds
}

// FuzzKeepOnly is TestKeepOnly on arbitrary text.
func FuzzKeepOnly(f *testing.F) {
	for _, s := range keepOnlySeeds() {
		f.Add(s)
	}
	f.Fuzz(checkKeepOnly)
}
