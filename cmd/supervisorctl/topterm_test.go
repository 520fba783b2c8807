package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseKeys(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"q", []string{"q"}},
		{"jjk", []string{"j", "j", "k"}},
		{"\x1b[A\x1b[B", []string{"up", "down"}},
		{"\x1bOA\x1bOB", []string{"up", "down"}},
		{"\x1b[H\x1b[F\x1b[1~\x1b[4~\x1bOH\x1bOF", []string{"home", "end", "home", "end", "home", "end"}},
		{"\x1b", []string{"esc"}},
		{"\x03", []string{"ctrl+c"}},
		{"\x1bq", nil},              // alt+q
		{"\x1b[5~o", []string{"o"}}, // page up: not read
		{"\x1b[", nil},              // cut
		{"é\r\t", []string{"é"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, parseKeys([]byte(tt.in))); diff != "" {
			t.Errorf("parseKeys(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestCutWidth(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{{"abcdef", 3, "abc"}, {"abc", 3, "abc"}, {"ab", 3, "ab"}, {"éèà", 2, "éè"}, {"abc", 0, "abc"}} {
		if got := cutWidth(tt.s, tt.n); got != tt.want {
			t.Errorf("cutWidth(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

// TestNoTerminalQuery: a command on a terminal writes its output and
// nothing else. (bubbletea's init asked the terminal for its background
// colour, "ESC]11;?" and "ESC[6n", before any command, and waited up to
// 5 s for an answer a pty like this one never gives.)
func TestNoTerminalQuery(t *testing.T) {
	needBinaries(t)
	conf := cannedServer(t, 0, nil, nil)
	p := startOnPty(t, ourCtl, t.TempDir(), "-c", conf, "help", "exit")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d: %q", code, p.scr.Raw())
	}
	<-p.readDone
	raw := p.scr.Raw()
	if strings.Contains(raw, "\x1b") {
		t.Errorf("an escape sequence on the terminal: %q", raw)
	}
	if !strings.Contains(raw, "exit\tExit the supervisor shell.") {
		t.Errorf("output %q: want help exit's text", raw)
	}
}
