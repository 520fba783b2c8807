package pyint

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode"

	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

type golden struct {
	Parse []struct {
		In   string       `json:"in"`
		Base int          `json:"base"`
		Int  *json.Number `json:"int"`
		Err  string       `json:"err"`
	} `json:"parse"`
	Space []rune `json:"space"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&g); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestParseGolden compares Parse with Python's int(s, base).
func TestParseGolden(t *testing.T) {
	for _, c := range loadGolden(t).Parse {
		got, err := Parse(c.In, c.Base)
		var want big.Int
		if c.Int != nil {
			want.SetString(c.Int.String(), 10)
		}
		switch {
		case c.Int == nil:
			if err == nil || err.Error() != c.Err {
				t.Errorf("int(%q, %d): %d %v, want error %q", c.In, c.Base, got, err, c.Err)
			}
		case err != nil:
			t.Errorf("int(%q, %d): %v, want %s", c.In, c.Base, err, c.Int)
		case want.CmpAbs(big.NewInt(int64(Clamp))) > 0:
			if got != Clamp*want.Sign() {
				t.Errorf("int(%q, %d) = %d, want clamped %s", c.In, c.Base, got, c.Int)
			}
		case int64(got) != want.Int64():
			t.Errorf("int(%q, %d) = %d, want %s", c.In, c.Base, got, c.Int)
		}
	}
}

// TestInt64Golden compares Int64 with Python's int(s, base): the exact
// value within int64, ErrRange beyond it, Python's error otherwise.
func TestInt64Golden(t *testing.T) {
	for _, c := range loadGolden(t).Parse {
		got, err := Int64(c.In, c.Base)
		var want big.Int
		if c.Int != nil {
			want.SetString(c.Int.String(), 10)
		}
		switch {
		case c.Int == nil:
			if err == nil || err.Error() != c.Err || errors.Is(err, ErrRange) {
				t.Errorf("Int64(%q, %d): %d %v, want error %q", c.In, c.Base, got, err, c.Err)
			}
		case !want.IsInt64():
			if !errors.Is(err, ErrRange) || err.Error() != "integer out of range: "+pyrepr.Str(c.In) {
				t.Errorf("Int64(%q, %d): %d %v, want ErrRange", c.In, c.Base, got, err)
			}
		case err != nil || got != want.Int64():
			t.Errorf("Int64(%q, %d) = %d %v, want %s", c.In, c.Base, got, err, c.Int)
		}
	}
}

// TestIsSpaceGolden compares IsSpace with str.isspace() up to U+3000 (the
// last space Python knows) and checks nothing above it is a space.
func TestIsSpaceGolden(t *testing.T) {
	want := map[rune]bool{}
	for _, r := range loadGolden(t).Space {
		want[r] = true
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if IsSpace(r) != want[r] {
			t.Errorf("IsSpace(%U) = %v", r, IsSpace(r))
		}
	}
	if got := Strip("\u3000 a b\t\n"); got != "a b" {
		t.Errorf("Strip: %q", got)
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

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", " 1_0 ", "-0o7", "\u0663"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, base := range []int{8, 10} {
			v, err := Parse(s, base)
			if err != nil && v != 0 {
				t.Fatalf("Parse(%q, %d) = %d with error %v", s, base, v, err)
			}
			// Int64 agrees with Parse wherever neither clamps
			w, err64 := Int64(s, base)
			if (err == nil) != (err64 == nil || errors.Is(err64, ErrRange)) {
				t.Fatalf("Parse(%q, %d): %v; Int64: %v", s, base, err, err64)
			}
			if err64 == nil && w > -int64(Clamp) && w < int64(Clamp) && int64(v) != w {
				t.Fatalf("Parse(%q, %d) = %d; Int64 = %d", s, base, v, w)
			}
		}
	})
}

// TestPlainDigitsMatchesParse: the fast path gives what the general path
// gives (checked by parsing with a leading space, which skips it).
func TestPlainDigitsMatchesParse(t *testing.T) {
	for _, base := range []int{8, 10} {
		for _, s := range []string{"0", "7", "8", "9", "0755", "999", "0010", "123456789012345678", "777777777777777777"} {
			want, werr := Parse(" "+s, base)
			got, ok := plainDigits(s, base)
			if ok != (werr == nil) || (ok && got != want) {
				t.Errorf("plainDigits(%q, %d) = %d, %v; Parse = %d, %v", s, base, got, ok, want, werr)
			}
		}
	}
}

// TestStripMatchesTrimFunc: the ASCII fast path of Strip is str.strip().
func TestStripMatchesTrimFunc(t *testing.T) {
	for _, s := range []string{"", " ", "a", " a ", "\t\na b\x1c\x1f", "\u3000 a\u3000", " \u00a0x\u0085 ", "é", " é ", "x\u2028", "\x0b\x0c"} {
		if got, want := Strip(s), strings.TrimFunc(s, IsSpace); got != want {
			t.Errorf("Strip(%q) = %q, want %q", s, got, want)
		}
	}
}
