package pyrepr

import "unicode"

// IsPrintable is Python 3.11's str.isprintable() for one code point: not
// in categories Cc, Cf, Cs, Co, Cn, Zl, Zp or Zs other than the ASCII
// space. Go's tables are Unicode 15.0 and Python 3.11's are 14.0, so the
// code points 15.0 assigned are not printable here either
// (TestIsPrintableAllCodePoints checks every code point against Python).
func IsPrintable(r rune) bool {
	return unicode.IsPrint(r) && !newInUnicode15(r)
}

// newInUnicode15 reports the code points Unicode 15.0 assigned, which Go
// prints and Python 3.11 (Unicode 14.0) does not.
func newInUnicode15(r rune) bool {
	switch {
	case r < 0xcf3:
		return false
	case r == 0xcf3,
		r == 0xece,
		0x10efd <= r && r <= 0x10eff,
		0x1123f <= r && r <= 0x11241,
		0x11b00 <= r && r <= 0x11b09,
		0x11f00 <= r && r <= 0x11f10,
		0x11f12 <= r && r <= 0x11f3a,
		0x11f3e <= r && r <= 0x11f59,
		r == 0x1342f,
		0x13440 <= r && r <= 0x13455,
		r == 0x1b132,
		r == 0x1b155,
		0x1d2c0 <= r && r <= 0x1d2d3,
		0x1df25 <= r && r <= 0x1df2a,
		0x1e030 <= r && r <= 0x1e06d,
		r == 0x1e08f,
		0x1e4d0 <= r && r <= 0x1e4f9,
		r == 0x1f6dc,
		0x1f774 <= r && r <= 0x1f776,
		0x1f77b <= r && r <= 0x1f77f,
		r == 0x1f7d9,
		0x1fa75 <= r && r <= 0x1fa77,
		0x1fa87 <= r && r <= 0x1fa88,
		0x1faad <= r && r <= 0x1faaf,
		0x1fabb <= r && r <= 0x1fabd,
		r == 0x1fabf,
		0x1face <= r && r <= 0x1facf,
		0x1fada <= r && r <= 0x1fadb,
		r == 0x1fae8,
		0x1faf7 <= r && r <= 0x1faf8,
		r == 0x2b739,
		0x31350 <= r && r <= 0x323af:
		return true
	}
	return false
}
