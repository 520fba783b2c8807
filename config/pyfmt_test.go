package config

import "testing"

// TestPyPercentASCII: %a of the whole dict is ascii(dict), not the
// ascii() of its repr's text. Expected values are Python 3.11's
// ('%a' % {'a': "é'x", 'n': 3} and so on).
func TestPyPercentASCII(t *testing.T) {
	d := newExpansions()
	d.setStr("a", "é'x")
	d.setInt("n", 3)
	for _, tc := range []struct{ format, want string }{
		{"%a", `{'a': "\xe9'x", 'n': 3}`},
		{"%.3a", `{'a`},
		{"%(a)a", `"\xe9'x"`},
		{"%r", `{'a': "é'x", 'n': 3}`},
		{"%(a)r", `"é'x"`},
		{"%(n)a", `3`},
	} {
		got, err := pyPercent(tc.format, d)
		if err != nil || got != tc.want {
			t.Errorf("%q %% d = %q, %v; Python gives %q", tc.format, got, err, tc.want)
		}
	}
}
