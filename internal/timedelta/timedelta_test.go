package timedelta

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestExamples(t *testing.T) {
	for sec, want := range map[int64]string{
		0: "0:00:00", 14: "0:00:14", 86400 + 2*3600 + 3*60 + 4: "1 day, 2:03:04",
		3*86400 + 5: "3 days, 0:00:05", -1: "-1 day, 23:59:59", -86401: "-2 days, 23:59:59",
	} {
		if got := String(sec); got != want {
			t.Errorf("String(%d) = %q, want %q", sec, got, want)
		}
	}
}

// TestPython compares String with str(timedelta(seconds=n)).
func TestPython(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	var secs []int64
	for _, n := range []int64{0, 1, 59, 60, 3599, 3600, 86399, 86400, 86401, 2 * 86400, 1 << 31, 999999 * 86400} {
		secs = append(secs, n, -n)
	}
	for n := int64(-200000); n <= 200000; n += 7919 {
		secs = append(secs, n)
	}
	var in strings.Builder
	for _, n := range secs {
		fmt.Fprintln(&in, n)
	}
	cmd := exec.Command("/usr/bin/python3", "-c", "import sys, datetime\nfor l in sys.stdin: print(datetime.timedelta(seconds=int(l)))")
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(want) != len(secs) {
		t.Fatalf("%d answers for %d inputs", len(want), len(secs))
	}
	for i, n := range secs {
		if got := String(n); got != want[i] {
			t.Errorf("timedelta(seconds=%d): %q, want %q", n, got, want[i])
		}
	}
}
