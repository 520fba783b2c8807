package xmlrpcvalue

import (
	"strings"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/internal/pyint"
)

// decodePlainResponse is DecodeResponse for the common answer: a
// methodResponse with one value built of <string>, <int>, <i4>,
// <boolean>, <double>, untyped text, <array> and <struct>, elements
// without attributes, whitespace between them, and the five predefined
// entities and character references in text (what supervisord writes for
// getAllProcessInfo). It gives exactly what the full parser gives; ok is
// false for anything else (a fault, comments, CDATA, other tags, raw CR
// or control characters, deep nesting), which the full parser decides.
func decodePlainResponse(body []byte) (result any, ok bool) {
	return DecodePlainResponse(string(body))
}

// DecodePlainResponse is DecodeResponse's fast path alone, on a body
// already held as a string: ok is false for a body it does not take
// (DecodeResponse then decides). A body it takes has no character XML
// forbids. Member names and plain text values are substrings of body: no
// allocation per string, and they keep body alive.
func DecodePlainResponse(body string) (result any, ok bool) {
	p := plainParser{s: body}
	for _, decl := range xmlDecls {
		if p.eat(string(decl)) {
			break
		}
	}
	p.space()
	for _, tag := range []string{"<methodResponse>", "<params>", "<param>"} {
		if !p.eat(tag) {
			return nil, false
		}
		p.space()
	}
	v, ok := p.value(4)
	if !ok {
		return nil, false
	}
	p.space()
	for _, tag := range []string{"</param>", "</params>", "</methodResponse>"} {
		if !p.eat(tag) {
			return nil, false
		}
		p.space()
	}
	return v, p.i == len(p.s)
}

// plainDepth bounds the nesting the fast path takes, well inside MaxDepth.
const plainDepth = MaxDepth - 8

type plainParser struct {
	s string // the body
	i int    // where the rest of it starts (an index: moving it is no pointer write)
	// members is the member count of the last struct: the size hint for
	// the next one (an array's structs are alike)
	members int
}

func (p *plainParser) eat(s string) bool {
	if !strings.HasPrefix(p.s[p.i:], s) {
		return false
	}
	p.i += len(s)
	return true
}

func (p *plainParser) space() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// value parses <value>...</value> at element depth d.
func (p *plainParser) value(d int) (any, bool) {
	if d > plainDepth || !p.eat("<value>") {
		return nil, false
	}
	text, ok := p.text()
	if !ok {
		return nil, false
	}
	if p.eat("</value>") {
		return text, true
	}
	if strings.TrimLeft(text, " \t\n") != "" {
		return nil, false
	}
	var v any
	switch {
	case p.eat("<string>"):
		if v, ok = p.text(); !ok || !p.eat("</string>") {
			return nil, false
		}
	case p.eat("<int>"):
		v, ok = p.int("</int>")
	case p.eat("<i4>"):
		v, ok = p.int("</i4>")
	case p.eat("<boolean>"):
		var s string
		if s, ok = p.text(); !ok || !p.eat("</boolean>") {
			return nil, false
		}
		v = s == "1"
	case p.eat("<double>"):
		var s string
		if s, ok = p.text(); !ok || s == "" || !p.eat("</double>") {
			return nil, false
		}
		f, err := ParseFloat(s)
		if err != nil {
			return nil, false
		}
		v = f
	case p.eat("<array>"):
		p.space()
		if !p.eat("<data>") {
			return nil, false
		}
		l := []any{}
		for {
			p.space()
			if p.eat("</data>") {
				break
			}
			e, ok := p.value(d + 3)
			if !ok {
				return nil, false
			}
			l = append(l, e)
		}
		p.space()
		if !p.eat("</array>") {
			return nil, false
		}
		v = l
	case p.eat("<struct>"):
		m := make(map[string]any, p.members)
		for {
			p.space()
			if p.eat("</struct>") {
				break
			}
			if !p.eat("<member>") {
				return nil, false
			}
			p.space()
			if !p.eat("<name>") {
				return nil, false
			}
			k, ok := p.text()
			if !ok || k == "" || !p.eat("</name>") {
				return nil, false
			}
			p.space()
			e, ok := p.value(d + 3)
			if !ok {
				return nil, false
			}
			p.space()
			if !p.eat("</member>") {
				return nil, false
			}
			m[k] = e
		}
		p.members = len(m)
		v = m
	default:
		return nil, false
	}
	if !ok {
		return nil, false
	}
	p.space()
	if !p.eat("</value>") {
		return nil, false
	}
	return v, true
}

func (p *plainParser) int(end string) (any, bool) {
	s, ok := p.text()
	if !ok || s == "" || !p.eat(end) {
		return nil, false
	}
	n, err := pyint.Int64(s, 10)
	if err != nil {
		return nil, false
	}
	return n, true
}

// text reads character data up to the next '<', decoding entities as
// encoding/xml does; it refuses what it does not handle exactly like it.
func (p *plainParser) text() (string, bool) {
	i := p.i
	simple := true
	for i < len(p.s) && p.s[i] != '<' {
		c := p.s[i]
		switch {
		case c == '&' || c >= utf8.RuneSelf:
			simple = false
		case c < 0x20 && c != '\t' && c != '\n':
			return "", false // CR is normalized by the full parser
		case c == '>' && i >= p.i+2 && p.s[i-1] == ']' && p.s[i-2] == ']':
			return "", false
		}
		i++
	}
	if i == len(p.s) {
		return "", false
	}
	raw := p.s[p.i:i]
	p.i = i
	if simple {
		return raw, true
	}
	var sb strings.Builder
	for j := 0; j < len(raw); {
		c := raw[j]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(raw[j:])
			if r == utf8.RuneError && size == 1 || !xmlChar(r) {
				return "", false
			}
			sb.WriteString(raw[j : j+size])
			j += size
			continue
		}
		if c != '&' {
			sb.WriteByte(c)
			j++
			continue
		}
		end := -1
		for k := j + 1; k < len(raw) && k < j+12; k++ {
			if raw[k] == ';' {
				end = k
				break
			}
		}
		if end < 0 {
			return "", false
		}
		switch ent := raw[j+1 : end]; ent {
		case "amp":
			sb.WriteByte('&')
		case "lt":
			sb.WriteByte('<')
		case "gt":
			sb.WriteByte('>')
		case "quot":
			sb.WriteByte('"')
		case "apos":
			sb.WriteByte('\'')
		default:
			r, ok := charRef(ent)
			if !ok {
				return "", false
			}
			sb.WriteRune(r)
		}
		j = end + 1
	}
	return sb.String(), true
}

// charRef decodes the body of a plain character reference ("#13",
// "#x1F600") to a character XML allows.
func charRef(ent string) (rune, bool) {
	if len(ent) < 2 || ent[0] != '#' {
		return 0, false
	}
	digits, base := ent[1:], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if digits == "" {
		return 0, false
	}
	var n rune
	for _, c := range []byte(digits) {
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return 0, false
		}
		n = n*rune(base) + d
		if n > utf8.MaxRune {
			return 0, false
		}
	}
	return n, xmlChar(n)
}

// xmlChar is encoding/xml's isInCharacterRange.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
