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
	if !p.head() {
		return nil, false
	}
	v, ok := p.value(4)
	if !ok || !p.tail() {
		return nil, false
	}
	return v, true
}

// Member is one struct member of a plain answer: its name and its
// scalar value, in the field Kind names.
type Member struct {
	Name  string
	Kind  Kind
	Str   string // String: <string> or an untyped value
	Int   int64  // Int: <int> or <i4>
	Bool  bool   // Bool: <boolean>
	Float float64
}

// Kind is the type of a Member's value.
type Kind int

// The kinds of scalar values.
const (
	String Kind = iota
	Int
	Bool
	Double
)

// value is the Go value DecodeResponse gives for m's.
func (m *Member) value() any {
	switch m.Kind {
	case Int:
		return m.Int
	case Bool:
		return m.Bool
	case Double:
		return m.Float
	}
	return m.Str
}

// DecodePlainStructs is DecodePlainResponse for an answer that is an
// array of structs of scalars (getAllProcessInfo, the result lists of
// startAllProcesses and the like), without building a map per struct: it
// calls begin with each struct's index, then member with each of its
// members in body order (a name may repeat: DecodeResponse keeps the
// last). Either returning false stops it. n is the number of structs; ok
// is false when the body is not such an answer or a callback refused,
// and then DecodeResponse decides. Strings are substrings of body.
func DecodePlainStructs(body string, begin func(i int) bool, member func(m *Member) bool) (n int, ok bool) {
	p := plainParser{s: body}
	if !p.head() || !p.open(4) || !p.eat("<array>") {
		return 0, false
	}
	p.space()
	if !p.eat("<data>") {
		return 0, false
	}
	var m Member
	for {
		p.space()
		if p.eat("</data>") {
			break
		}
		if !p.open(7) || !p.eat("<struct>") || !begin(n) {
			return 0, false
		}
		n++
		for {
			p.space()
			if p.eat("</struct>") {
				break
			}
			name, ok := p.memberName()
			if !ok {
				return 0, false
			}
			m = Member{Name: name}
			if !p.scalarValue(10, &m) {
				return 0, false
			}
			p.space()
			if !p.eat("</member>") || !member(&m) {
				return 0, false
			}
		}
		if !p.close() {
			return 0, false
		}
	}
	p.space()
	if !p.eat("</array>") || !p.close() || !p.tail() {
		return 0, false
	}
	return n, true
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

// head reads what precedes the answer's value: the XML declaration,
// <methodResponse>, <params> and <param>.
func (p *plainParser) head() bool {
	for _, decl := range xmlDecls {
		if p.eat(string(decl)) {
			break
		}
	}
	p.space()
	for _, tag := range []string{"<methodResponse>", "<params>", "<param>"} {
		if !p.eat(tag) {
			return false
		}
		p.space()
	}
	return true
}

// tail reads what follows the answer's value, up to the end of the body.
func (p *plainParser) tail() bool {
	p.space()
	for _, tag := range []string{"</param>", "</params>", "</methodResponse>"} {
		if !p.eat(tag) {
			return false
		}
		p.space()
	}
	return p.i == len(p.s)
}

// open reads <value> at element depth d and the whitespace after it,
// before a typed element.
func (p *plainParser) open(d int) bool {
	if d > plainDepth || !p.eat("<value>") {
		return false
	}
	text, ok := p.text()
	return ok && strings.TrimLeft(text, " \t\n") == ""
}

// close reads the whitespace after a typed element and </value>.
func (p *plainParser) close() bool {
	p.space()
	return p.eat("</value>")
}

// memberName reads <member> and <name>...</name> with the whitespace
// around them.
func (p *plainParser) memberName() (string, bool) {
	if !p.eat("<member>") {
		return "", false
	}
	p.space()
	if !p.eat("<name>") {
		return "", false
	}
	k, ok := p.text()
	if !ok || k == "" || !p.eat("</name>") {
		return "", false
	}
	p.space()
	return k, true
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
			k, ok := p.memberName()
			if !ok {
				return nil, false
			}
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
		var s Member
		if !p.scalar(&s) {
			return nil, false
		}
		v = s.value()
	}
	if !p.close() {
		return nil, false
	}
	return v, true
}

// scalarValue parses <value>...</value> at element depth d holding a
// scalar (typed or untyped) into m.
func (p *plainParser) scalarValue(d int, m *Member) bool {
	if d > plainDepth || !p.eat("<value>") {
		return false
	}
	text, ok := p.text()
	if !ok {
		return false
	}
	if p.eat("</value>") {
		m.Kind, m.Str = String, text
		return true
	}
	return strings.TrimLeft(text, " \t\n") == "" && p.scalar(m) && p.close()
}

// scalar parses a typed scalar element into m.
func (p *plainParser) scalar(m *Member) bool {
	var ok bool
	switch {
	case p.eat("<string>"):
		m.Kind = String
		m.Str, ok = p.text()
		return ok && p.eat("</string>")
	case p.eat("<int>"):
		m.Kind = Int
		m.Int, ok = p.int("</int>")
	case p.eat("<i4>"):
		m.Kind = Int
		m.Int, ok = p.int("</i4>")
	case p.eat("<boolean>"):
		var s string
		if s, ok = p.text(); !ok || !p.eat("</boolean>") {
			return false
		}
		m.Kind, m.Bool = Bool, s == "1"
	case p.eat("<double>"):
		var s string
		if s, ok = p.text(); !ok || s == "" || !p.eat("</double>") {
			return false
		}
		f, err := ParseFloat(s)
		if err != nil {
			return false
		}
		m.Kind, m.Float = Double, f
	}
	return ok
}

func (p *plainParser) int(end string) (int64, bool) {
	s, ok := p.text()
	if !ok || s == "" || !p.eat(end) {
		return 0, false
	}
	n, err := pyint.Int64(s, 10)
	if err != nil {
		return 0, false
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
