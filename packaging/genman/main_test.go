package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTopics(t *testing.T) {
	list := "\ndefault commands (type help <topic>):\n=====================================\n" +
		"add    exit  \navail  fg    \n\n"
	if got, want := Topics(list), []string{"add", "avail", "exit", "fg"}; !slices.Equal(got, want) {
		t.Errorf("Topics = %v, want %v", got, want)
	}
	if got := Topics("no rule here\nadd exit\n"); len(got) != 0 {
		t.Errorf("Topics without the rule = %v", got)
	}
}

func TestRender(t *testing.T) {
	p := Page{Name: "supervisord", Version: "1.2.3", Date: "2026-12-02", Help: "supervisord -- start things.\n\n" +
		"Usage: supervisord [options]\n\nOptions:\n-c/--configuration FILENAME -- the file\n" +
		"-k/--nocleanup -- keep old logs\n                  at startup\n.dot -- not an option\n"}
	got := p.Render()
	for _, want := range []string{
		".TH SUPERVISORD 1 \"2026-12-02\" \"gosupervisor 1.2.3\" \"User Commands\"\n",
		".SH SYNOPSIS\n.B supervisord\n[options]\n",
		".SH DESCRIPTION\nsupervisord \\-\\- start things.\n",
		".TP\n.B \\-c/\\-\\-configuration FILENAME\nthe file\n",
		".TP\n.B \\-k/\\-\\-nocleanup\nkeep old logs\nat startup\n",
		"\\&.dot \\-\\- not an option\n", // a text line starting with a period is not a request
		".BR supervisorctl (1)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Render lacks %q:\n%s", want, got)
		}
	}
}

// TestRealHelp renders the pages of the real binaries and has man(1) format
// them without warnings, when man is installed.
func TestRealHelp(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir, "../../cmd/supervisord", "../../cmd/supervisorctl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, prog := range []string{"supervisord", "supervisorctl"} {
		page := filepath.Join(dir, prog+".1")
		if err := run(filepath.Join(dir, prog), "1.2.3", "2026-12-02", page); err != nil {
			t.Fatal(err)
		}
		roff, _ := os.ReadFile(page)
		if !strings.Contains(string(roff), ".SH OPTIONS\n") {
			t.Errorf("%s page has no options:\n%s", prog, roff)
		}
		if prog == "supervisorctl" {
			for _, cmd := range []string{"status", "tail", "maintail", "shutdown"} {
				if !strings.Contains(string(roff), ".B "+cmd+"\n") {
					t.Errorf("supervisorctl page lacks command %s", cmd)
				}
			}
		}
		if _, err := exec.LookPath("man"); err == nil {
			cmd := exec.Command("man", "--warnings", "-l", page)
			cmd.Env = append(os.Environ(), "MANWIDTH=80", "MAN_KEEP_STDERR=1")
			out, err := cmd.CombinedOutput()
			if err != nil || strings.Contains(string(out), "warning") {
				t.Errorf("man -l %s: %v\n%s", page, err, out)
			}
		}
	}
}
