package rpc

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var reNow = regexp.MustCompile(`<name>now</name>\n<value><int>\d+</int>`)

// TestArgumentMatrix replays every method with a dozen argument shapes
// (wrong counts, wrong types, unknown names) that Python's supervisord
// answered in testdata/golden/matrix.json, and expects the same HTTP status
// and the same response body.
func TestArgumentMatrix(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/matrix.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Method  string
		Request string
		Status  int
		Body    string
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 400 {
		t.Fatalf("only %d matrix cases", len(cases))
	}
	capturedDir, _ := os.ReadFile("testdata/golden/tmpdir.txt")
	oldDir := strings.TrimSpace(string(capturedDir))
	dir := t.TempDir()
	b := goldenBackend(t, dir, oldDir)
	sock, _ := startServer(t, b, nil, Options{})
	rePID := regexp.MustCompile(`<int>(\d+)</int>`)
	for i, c := range cases {
		if c.Method == "supervisor.getPID" && c.Status == 200 {
			if m := rePID.FindStringSubmatch(c.Body); m != nil {
				b.mu.Lock()
				b.pid, _ = strconv.Atoi(m[1]) // Python's own pid
				b.mu.Unlock()
			}
		}
		got := exchange(t, sock, rpcRequest(c.Request), 1)
		status, _ := strconv.Atoi(strings.Fields(statusLine(got) + " x x")[1])
		if status != c.Status {
			t.Errorf("#%d %s %q: status %d, Python %d (%.300q)", i, c.Method, c.Request, status, c.Status, bodyOf(got))
			continue
		}
		if status != 200 {
			continue
		}
		isFault := strings.Contains(c.Body, "<fault>")
		switch c.Method {
		case "supervisor.readLog", "supervisor.readMainLog", "system.methodHelp":
			// Python's own main log, and our own help texts
			if !isFault {
				continue
			}
		}
		want := strings.ReplaceAll(c.Body, oldDir, dir)
		g := reNow.ReplaceAllString(bodyOf(got), "now")
		w := reNow.ReplaceAllString(want, "now")
		if g != w {
			t.Errorf("#%d %s %q:\n got %.600q\nwant %.600q", i, c.Method, c.Request, g, w)
		}
	}
}
