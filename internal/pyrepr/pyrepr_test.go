package pyrepr

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// golden is testdata/golden.json, written by testdata/gen.py with
// /usr/bin/python3.
type golden struct {
	Python string `json:"python"`
	Str    []struct {
		In    string `json:"in"`
		Repr  string `json:"repr"`
		ASCII string `json:"ascii"`
	} `json:"str"`
	Bytes []struct {
		In      string `json:"in"`
		Repr    string `json:"repr"`
		Decoded string `json:"decoded"`
	} `json:"bytes"`
	Float []struct {
		Bits string `json:"bits"`
		Repr string `json:"repr"`
	} `json:"float"`
	NonPrintable [][2]rune `json:"nonprintable"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	data, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatalf("read golden file: %v", err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("parse golden file: %v", err)
	}
	if len(g.Str) < 400 || len(g.Bytes) < 200 || len(g.Float) < 300 || len(g.NonPrintable) < 500 {
		t.Fatalf("golden file is short: %d str, %d bytes, %d float, %d ranges",
			len(g.Str), len(g.Bytes), len(g.Float), len(g.NonPrintable))
	}
	return &g
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("golden input %q: %v", s, err)
	}
	return b
}

func TestStrGolden(t *testing.T) {
	for _, tc := range loadGolden(t).Str {
		in := string(unhex(t, tc.In))
		if got := Str(in); got != tc.Repr {
			t.Errorf("Str(%q) = %s, Python repr gives %s", in, got, tc.Repr)
		}
		if got := ASCII(in); got != tc.ASCII {
			t.Errorf("ASCII(%q) = %s, Python ascii gives %s", in, got, tc.ASCII)
		}
		if got := EscapeNonASCII(tc.Repr); got != tc.ASCII {
			t.Errorf("EscapeNonASCII(%s) = %s, Python ascii gives %s", tc.Repr, got, tc.ASCII)
		}
	}
}

func TestBytesGolden(t *testing.T) {
	for _, tc := range loadGolden(t).Bytes {
		in := unhex(t, tc.In)
		if got := Bytes(in); got != tc.Repr {
			t.Errorf("Bytes(%q) = %s, Python repr gives %s", in, got, tc.Repr)
		}
		if got := DecodedOrUndecodable(in); got != tc.Decoded {
			t.Errorf("DecodedOrUndecodable(%q) = %q, supervisord logs %q", in, got, tc.Decoded)
		}
	}
}

func TestFloatGolden(t *testing.T) {
	for _, tc := range loadGolden(t).Float {
		f := math.Float64frombits(binary.BigEndian.Uint64(unhex(t, tc.Bits)))
		if got := Float(f); got != tc.Repr {
			t.Errorf("Float(%v) = %s, Python repr gives %s", f, got, tc.Repr)
		}
	}
}

// TestIsPrintableAllCodePoints compares IsPrintable with Python's
// str.isprintable on every code point.
func TestIsPrintableAllCodePoints(t *testing.T) {
	np := make([]bool, utf8.MaxRune+1)
	for _, r := range loadGolden(t).NonPrintable {
		for c := r[0]; c <= r[1]; c++ {
			np[c] = true
		}
	}
	bad := 0
	for c := rune(0); c <= utf8.MaxRune; c++ {
		if IsPrintable(c) == np[c] {
			bad++
			if bad <= 20 {
				t.Errorf("IsPrintable(%U) = %v, Python says %v", c, IsPrintable(c), !np[c])
			}
		}
	}
	if bad > 20 {
		t.Errorf("... %d code points differ in all", bad)
	}
}

// TestGoldenUpToDate regenerates the golden file with the oracle and
// checks that it matches what is committed.
func TestGoldenUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("asks /usr/bin/python3")
	}
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

// TestExamples spells out the cases callers rely on.
func TestExamples(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"plain", Str("cat"), `'cat'`},
		{"single quote", Str("it's"), `"it's"`},
		{"both quotes", Str(`it's "x"`), `'it\'s "x"'`},
		{"control", Str("a\x00\n\x7f"), `'a\x00\n\x7f'`},
		{"non-ASCII printable", Str("café"), `'café'`},
		{"non-printable NBSP", Str("\u00a0"), `'\xa0'`},
		{"undecodable byte", Str("a\xffb"), `'a\udcffb'`},
		{"U+FFFD is printable", Str("\ufffd"), "'\ufffd'"},
		{"new in Unicode 15", Str("\U0001f6dc"), `'\U0001f6dc'`},
		{"ascii", ASCII("café\U0001f600"), `'caf\xe9\U0001f600'`},
		{"ascii of a dict", EscapeNonASCII(`{'a': "é'x", 'n': 3}`), `{'a': "\xe9'x", 'n': 3}`},
		{"bytes", Bytes([]byte("READY\n")), `b'READY\n'`},
		{"bytes quote", Bytes([]byte("it's\x88")), `b"it's\x88"`},
		{"undecodable text", DecodedOrUndecodable([]byte("\x88\n")), `Undecodable: b'\x88\n'`},
		{"decodable text", DecodedOrUndecodable([]byte("é\n")), "é\n"},
		{"float", Float(0.1), "0.1"},
		{"float whole", Float(3), "3.0"},
		{"float big", Float(1e16), "1e+16"},
		{"float small", Float(1e-5), "1e-05"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

// pyCodePoints is s as Python's os.fsdecode sees it: each byte that is
// not part of valid UTF-8 becomes the surrogate U+DC00+byte.
func pyCodePoints(s string) []rune {
	var out []rune
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = 0xdc00 + rune(s[i])
		}
		out = append(out, r)
		i += size
	}
	return out
}

// parseLiteral reads a Python string or bytes literal as Str, ASCII and
// Bytes write them, and returns its code points (bytes for b'...').
func parseLiteral(lit string, isBytes bool) ([]rune, error) {
	if isBytes {
		if !strings.HasPrefix(lit, "b") {
			return nil, errors.New("no b prefix")
		}
		lit = lit[1:]
	}
	if len(lit) < 2 || (lit[0] != '\'' && lit[0] != '"') || lit[len(lit)-1] != lit[0] {
		return nil, errors.New("not quoted")
	}
	q, body := lit[0], lit[1:len(lit)-1]
	if !utf8.ValidString(body) {
		return nil, errors.New("not valid UTF-8")
	}
	var out []rune
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRuneInString(body[i:])
		i += size
		switch {
		case r == rune(q):
			return nil, fmt.Errorf("unescaped quote at %d", i-1)
		case r < ' ' || r == 0x7f:
			return nil, fmt.Errorf("raw control %#x", r)
		case isBytes && r >= 0x80:
			return nil, fmt.Errorf("raw non-ASCII %#x in bytes", r)
		case r != '\\':
			out = append(out, r)
			continue
		}
		if i >= len(body) {
			return nil, errors.New("trailing backslash")
		}
		e := body[i]
		i++
		width := 0
		switch e {
		case '\\', '\'', '"':
			out = append(out, rune(e))
		case 't':
			out = append(out, '\t')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 'x':
			width = 2
		case 'u':
			width = 4
		case 'U':
			width = 8
		default:
			return nil, fmt.Errorf("unknown escape \\%c", e)
		}
		if width == 0 {
			continue
		}
		if isBytes && e != 'x' {
			return nil, fmt.Errorf("escape \\%c in bytes", e)
		}
		if i+width > len(body) {
			return nil, errors.New("short escape")
		}
		digits := body[i : i+width]
		if strings.ToLower(digits) != digits {
			return nil, fmt.Errorf("upper-case hex %s", digits)
		}
		v, err := strconv.ParseUint(digits, 16, 32)
		if err != nil {
			return nil, fmt.Errorf("escape digits %q: %w", digits, err)
		}
		i += width
		out = append(out, rune(v))
	}
	return out, nil
}

// checkQuote checks repr's choice of quote for text.
func checkQuote(t *testing.T, what, text, lit string) {
	q := byte('\'')
	if strings.Contains(text, "'") && !strings.Contains(text, `"`) {
		q = '"'
	}
	if lit[len(lit)-1] != q {
		t.Errorf("%s(%q) = %s: want quote %c", what, text, lit, q)
	}
}

func FuzzStr(f *testing.F) {
	for _, s := range []string{"", "it's", `"'`, "a\xffb", "\U0001f6dc", "\u00a0\u2028", "\ufffd", "\\\t\n\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := pyCodePoints(s)
		if a, e := ASCII(s), EscapeNonASCII(Str(s)); a != e {
			t.Fatalf("ASCII(%q) = %s, EscapeNonASCII(Str) = %s", s, a, e)
		}
		for _, asciiOnly := range []bool{false, true} {
			what, lit := "Str", Str(s)
			if asciiOnly {
				what, lit = "ASCII", ASCII(s)
			}
			got, err := parseLiteral(lit, false)
			if err != nil {
				t.Fatalf("%s(%q) = %s: %v", what, s, lit, err)
			}
			if string(got) != string(want) || len(got) != len(want) {
				t.Fatalf("%s(%q) = %s reads back as %U, want %U", what, s, lit, got, want)
			}
			checkQuote(t, what, s, lit)
			for i, r := range lit {
				if asciiOnly && r >= 0x80 {
					t.Fatalf("ASCII(%q) = %s: non-ASCII %U at %d", s, lit, r, i)
				}
				if r >= 0x80 && !IsPrintable(r) {
					t.Fatalf("Str(%q) = %s: raw non-printable %U at %d", s, lit, r, i)
				}
			}
		}
	})
}

func FuzzBytes(f *testing.F) {
	for _, s := range []string{"", "READY\n", "it's", `"'`, "\x00\x88\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		lit := Bytes(p)
		got, err := parseLiteral(lit, true)
		if err != nil {
			t.Fatalf("Bytes(%q) = %s: %v", p, lit, err)
		}
		if len(got) != len(p) {
			t.Fatalf("Bytes(%q) = %s reads back as %d bytes", p, lit, len(got))
		}
		for i, r := range got {
			if r != rune(p[i]) {
				t.Fatalf("Bytes(%q) = %s: byte %d reads back as %#x", p, lit, i, r)
			}
		}
		checkQuote(t, "Bytes", string(p), lit[1:])
		text := DecodedOrUndecodable(p)
		if utf8.Valid(p) != (text == string(p)) || (!utf8.Valid(p) && text != "Undecodable: "+lit) {
			t.Fatalf("DecodedOrUndecodable(%q) = %q", p, text)
		}
	})
}

func FuzzFloat(f *testing.F) {
	for _, v := range []float64{0, 1, 0.1, 1e16, 1e-5, math.Inf(1), math.NaN(), math.Copysign(0, -1)} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		s := Float(v)
		if math.IsNaN(v) {
			if s != "nan" {
				t.Fatalf("Float(NaN) = %s", s)
			}
			return
		}
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || back != v || math.Signbit(back) != math.Signbit(v) {
			t.Fatalf("Float(%v) = %s reads back as %v (%v)", v, s, back, err)
		}
		if math.IsInf(v, 0) {
			return
		}
		abs := math.Abs(v)
		exp := strings.ContainsAny(s, "e")
		if want := abs != 0 && (abs < 1e-4 || abs >= 1e16); exp != want {
			t.Fatalf("Float(%v) = %s: exponent form %v, want %v", v, s, exp, want)
		}
		if !exp && !strings.Contains(s, ".") {
			t.Fatalf("Float(%v) = %s: no decimal point", v, s)
		}
	})
}
