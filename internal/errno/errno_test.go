package errno

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

func TestGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(names) {
		t.Errorf("%d names, Python has %d", len(names), len(want))
	}
	for k, v := range want {
		n, _ := strconv.Atoi(k)
		if got, ok := Name(syscall.Errno(n)); !ok || got != v {
			t.Errorf("errorcode[%d] = %q, want %q", n, got, v)
		}
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{syscall.ENOENT, "ENOENT"},
		{fmt.Errorf("open x: %w", &os.PathError{Op: "open", Path: "x", Err: syscall.EACCES}), "EACCES"},
		{syscall.Errno(4000), "4000"},
		{fmt.Errorf("plain"), "plain"},
	} {
		if got := NameOr(c.err); got != c.want {
			t.Errorf("NameOr(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestGoldenUpToDate regenerates the golden file with the oracle.
func TestGoldenUpToDate(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	cmd := exec.Command("/usr/bin/python3", "gen.py")
	cmd.Dir = "testdata"
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gen.py: %v", err)
	}
	want, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(want) {
		t.Errorf("testdata/golden.json is stale: run (cd testdata && /usr/bin/python3 gen.py > golden.json)")
	}
}
