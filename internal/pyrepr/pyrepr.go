// Package pyrepr owns Python 3's text renderings of values as supervisord
// 4.2.5 shows them in messages and logs: repr() and ascii() of a str,
// repr() of bytes and of a float, and supervisord's "Undecodable: b'...'"
// fallback for child output. The oracle is /usr/bin/python3 (3.11, Unicode
// 14.0); testdata/golden.json holds its answers.
//
// A Go string may hold bytes that are not valid UTF-8, which a Python str
// cannot. Str and ASCII treat each such byte as Python's os.fsdecode does
// (surrogateescape: byte 0xff is the lone surrogate U+DCFF, shown \udcff),
// which is what Python holds for a name or value read from the
// environment, argv or the file system.
package pyrepr

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// quote is the quote repr uses: ' unless the text holds ' and no ".
func quote(hasSingle, hasDouble bool) byte {
	if hasSingle && !hasDouble {
		return '"'
	}
	return '\''
}

// Str is Python's repr() of a str: 'text', or "text" when it holds ' and
// no "; \\, the quote, \t, \n and \r escaped, other non-printable code
// points as \xNN, \uNNNN or \UNNNNNNNN.
func Str(s string) string { return strRepr(s, false) }

// ASCII is Python's ascii() of a str: Str with every non-ASCII code point
// escaped as well.
func ASCII(s string) string { return strRepr(s, true) }

// EscapeNonASCII is the step ascii() adds to repr(): given the repr of
// any object (a dict's, say), it escapes each non-ASCII code point as
// \xNN, \uNNNN or \UNNNNNNNN. ASCII(s) is EscapeNonASCII(Str(s)).
func EscapeNonASCII(repr string) string {
	i := 0
	for i < len(repr) && repr[i] < utf8.RuneSelf {
		i++
	}
	if i == len(repr) {
		return repr
	}
	var b strings.Builder
	b.Grow(len(repr) + 8)
	b.WriteString(repr[:i])
	for _, r := range repr[i:] {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r <= 0xff:
			writeHex(&b, `\x`, r, 2)
		case r <= 0xffff:
			writeHex(&b, `\u`, r, 4)
		default:
			writeHex(&b, `\U`, r, 8)
		}
	}
	return b.String()
}

func strRepr(s string, asciiOnly bool) string {
	q := quote(strings.IndexByte(s, '\'') >= 0, strings.IndexByte(s, '"') >= 0)
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(q)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			writeByte(&b, c, q)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = 0xdc00 + rune(c) // surrogateescape: never printable
		}
		switch {
		case !asciiOnly && IsPrintable(r):
			b.WriteString(s[i : i+size])
		case r <= 0xff:
			writeHex(&b, `\x`, r, 2)
		case r <= 0xffff:
			writeHex(&b, `\u`, r, 4)
		default:
			writeHex(&b, `\U`, r, 8)
		}
		i += size
	}
	b.WriteByte(q)
	return b.String()
}

// writeByte writes one byte as both str and bytes reprs do: the quote q
// and \\ escaped, \t \n \r by name, printable ASCII as is and any other
// byte as \xNN (str calls it for ASCII only).
func writeByte(b *strings.Builder, c, q byte) {
	switch {
	case c == q || c == '\\':
		b.WriteByte('\\')
		b.WriteByte(c)
	case c == '\t':
		b.WriteString(`\t`)
	case c == '\n':
		b.WriteString(`\n`)
	case c == '\r':
		b.WriteString(`\r`)
	case c < ' ' || c >= 0x7f:
		writeHex(b, `\x`, rune(c), 2)
	default:
		b.WriteByte(c)
	}
}

// writeHex writes prefix and r as width lowercase hex digits.
func writeHex(b *strings.Builder, prefix string, r rune, width int) {
	b.WriteString(prefix)
	for shift := 4 * (width - 1); shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(r>>shift)&0xf])
	}
}

// Bytes is Python's repr() of bytes: b'...' (b"..." when the data holds '
// and no "), with \\, the quote, \t, \n and \r escaped, printable ASCII as
// is and every other byte as \xNN.
func Bytes(p []byte) string {
	var hasSingle, hasDouble bool
	for _, c := range p {
		switch c {
		case '\'':
			hasSingle = true
		case '"':
			hasDouble = true
		}
	}
	q := quote(hasSingle, hasDouble)
	var b strings.Builder
	b.Grow(len(p) + 3)
	b.WriteByte('b')
	b.WriteByte(q)
	for _, c := range p {
		writeByte(&b, c, q)
	}
	b.WriteByte(q)
	return b.String()
}

// DecodedOrUndecodable is the text supervisord logs for child output:
// data.decode('utf-8'), or 'Undecodable: %r' % data when that fails.
func DecodedOrUndecodable(p []byte) string {
	if utf8.Valid(p) {
		return string(p)
	}
	return "Undecodable: " + Bytes(p)
}

// Float is Python's repr() of a float: the shortest digits that read back
// to f, in exponent form below 1e-4 and from 1e16 on, "inf", "-inf" and
// "nan" for the special values.
func Float(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS) // FormatFloat always writes one
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		es := strconv.Itoa(exp)
		if len(es) < 2 {
			es = "0" + es
		}
		return mant + "e" + sign + es
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
