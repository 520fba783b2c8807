package logrot

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// pyQuote picks the quote Python's repr uses: ' unless the text contains '
// and no ".
func pyQuote(hasSingle, hasDouble bool) byte {
	if hasSingle && !hasDouble {
		return '"'
	}
	return '\''
}

// pyStrRepr renders s the way Python's repr() renders a str; used for
// process names in main log lines ('name' stdout output:).
func pyStrRepr(s string) string {
	q := pyQuote(strings.Contains(s, "'"), strings.Contains(s, `"`))
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case strconv.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		case r < 0x10000:
			b.WriteString(`\u`)
			b.WriteString(strconv.FormatInt(int64(r)|0x10000, 16)[1:])
		default:
			b.WriteString(`\U`)
			b.WriteString(strconv.FormatInt(int64(r)|0x100000000, 16)[1:])
		}
	}
	b.WriteByte(q)
	return b.String()
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// pyBytesRepr renders p the way Python's repr() renders bytes (b'...').
func pyBytesRepr(p []byte) string {
	var hasSingle, hasDouble bool
	for _, c := range p {
		if c == '\'' {
			hasSingle = true
		} else if c == '"' {
			hasDouble = true
		}
	}
	q := pyQuote(hasSingle, hasDouble)
	var b strings.Builder
	b.Grow(len(p) + 3)
	b.WriteByte('b')
	b.WriteByte(q)
	for _, c := range p {
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == q:
			b.WriteByte('\\')
			b.WriteByte(q)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex2(c))
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyDecodedText is what Python logs for child output in the main log: the
// UTF-8 text, or "Undecodable: b'...'" when it is not valid UTF-8.
func pyDecodedText(p []byte) string {
	if utf8.Valid(p) {
		return string(p)
	}
	return "Undecodable: " + pyBytesRepr(p)
}
