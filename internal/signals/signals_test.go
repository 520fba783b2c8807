package signals

import (
	"encoding/json"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

type golden struct {
	Names []struct {
		Num  int    `json:"num"`
		Name string `json:"name"`
	} `json:"names"`
	Numbers []struct {
		In  string `json:"in"`
		Num *int   `json:"num"`
		Err string `json:"err"`
	} `json:"numbers"`
	Statuses []struct {
		WS  int    `json:"ws"`
		ES  int    `json:"es"`
		Msg string `json:"msg"`
	} `json:"statuses"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGolden(t *testing.T) {
	g := loadGolden(t)
	if len(g.Names) == 0 || len(g.Numbers) == 0 || len(g.Statuses) == 0 {
		t.Fatal("empty golden file")
	}
	for _, c := range g.Names {
		if got := Name(c.Num); got != c.Name {
			t.Errorf("signame(%d) = %q, want %q", c.Num, got, c.Name)
		}
	}
	for _, c := range g.Numbers {
		got, err := Number(c.In)
		switch {
		case c.Num == nil:
			if err == nil || err.Error() != c.Err {
				t.Errorf("signal_number(%q) = %d %v, want error %q", c.In, got, err, c.Err)
			}
		case err != nil || got != *c.Num:
			t.Errorf("signal_number(%q) = %d %v, want %d", c.In, got, err, *c.Num)
		}
	}
	for _, c := range g.Statuses {
		es, msg := WaitStatus(syscall.WaitStatus(c.WS))
		if es != c.ES || msg != c.Msg {
			t.Errorf("decode_wait_status(%#x) = %d %q, want %d %q", c.WS, es, msg, c.ES, c.Msg)
		}
	}
}

// TestGoldenUpToDate regenerates the golden file with the oracle (Python
// supervisor 4.2.5).
func TestGoldenUpToDate(t *testing.T) {
	if _, err := os.Stat("/usr/lib/python3/dist-packages/supervisor/options.py"); err != nil {
		t.Skipf("needs Python supervisor 4.2.5: %v", err)
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

func FuzzNumber(f *testing.F) {
	for _, s := range []string{"TERM", " 9 ", "sig_dfl", "\u0663"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Number(s)
		if err == nil && !valid(n) {
			t.Fatalf("Number(%q) = %d, not a signal", s, n)
		}
	})
}
