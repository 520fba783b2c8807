package shlex

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type answer struct {
	Out []string `json:"out"`
	Err string   `json:"err"`
}

func check(t *testing.T, mode, in string, want answer, got []string, err error) {
	t.Helper()
	if want.Err != "" {
		if err == nil || err.Error() != want.Err {
			t.Errorf("%s(%q): %q %v, want error %q", mode, in, got, err, want.Err)
		}
		return
	}
	if err != nil {
		t.Errorf("%s(%q): %v", mode, in, err)
		return
	}
	if got == nil {
		got = []string{}
	}
	if d := cmp.Diff(want.Out, got); d != "" {
		t.Errorf("%s(%q) (-python +go):\n%s", mode, in, d)
	}
}

func TestGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		In     string `json:"in"`
		Split  answer `json:"split"`
		Tokens answer `json:"tokens"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		got, err := Split(c.In)
		check(t, "split", c.In, c.Split, got, err)
		got, err = Tokens(c.In)
		check(t, "tokens", c.In, c.Tokens, got, err)
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

func FuzzSplit(f *testing.F) {
	for _, s := range []string{`a 'b c' "d\"e"`, `a\`, `"x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := Split(s)
		if err != nil && words != nil {
			t.Fatalf("Split(%q) = %q with error %v", s, words, err)
		}
		if _, err := Tokens(s); err != nil && err != ErrNoClosingQuotation {
			t.Fatalf("Tokens(%q): unexpected error %v", s, err)
		}
	})
}
