// Package xmlrpcvalue owns the decoding of XML-RPC bodies into Go values
// with the rules of Python supervisor's own parser, and Python's str() of
// those values. The daemon (rpc) decodes requests with it and supervisorctl
// decodes answers with it, so both read the wire the same way.
package xmlrpcvalue

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/internal/pyint"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// Decoded parameter values use these Go types: int64 (int, i4), bool
// (boolean), string (string, untyped value, base64, unknown tags), float64
// (double), time.Time (dateTime.iso8601), []any (array), map[string]any
// (struct) and nil (an empty unknown tag such as <nil/>).

// MaxDepth is the deepest element nesting a request may have.
const MaxDepth = 64

// ErrDecode marks a body that Python's parser would reject (HTTP 400 for
// a request).
var ErrDecode = errors.New("unmarshallable XML-RPC body")

type xnode struct {
	tag      string
	text     strings.Builder // character data before the first child
	hasText  bool
	children []*xnode
	val      any // value after Python's unmarshalling rules
	conv     bool
}

// DecodeCall parses an XML-RPC methodCall body with the rules of
// supervisor's own parser (supervisor_xmlrpc_handler.loads). It returns the
// method name (empty when there is none) and the parameters (nil when
// <params> is absent). Any error means the body is unmarshallable (HTTP 400).
func DecodeCall(body []byte) (method string, params []any, err error) {
	if method, params, ok := decodeBareCall(body); ok {
		return method, params, nil
	}
	m, err := decode(body)
	return m.method, m.params, err
}

// Fault is a methodResponse's <fault>: its faultCode and faultString
// members.
type Fault struct {
	Code   int64
	String string
}

// DecodeResponse parses a methodResponse body with the same rules: the
// one result value, or the fault. A body with neither, or whose fault is
// not a struct with an int faultCode, is an error wrapping ErrDecode.
func DecodeResponse(body []byte) (result any, fault *Fault, err error) {
	if v, ok := decodePlainResponse(body); ok {
		return v, nil, nil
	}
	m, err := decode(body)
	if err != nil {
		return nil, nil, err
	}
	if m.hasFault {
		s, ok := m.fault.(map[string]any)
		code, okc := s["faultCode"].(int64)
		str, oks := s["faultString"].(string)
		if !ok || !okc || !oks {
			return nil, nil, fmt.Errorf("%w: malformed fault %s", ErrDecode, Str(m.fault))
		}
		return nil, &Fault{Code: code, String: str}, nil
	}
	if len(m.params) != 1 {
		return nil, nil, fmt.Errorf("%w: a response needs one value, got %d", ErrDecode, len(m.params))
	}
	return m.params[0], nil, nil
}

// message is what decode finds: a call's method name and params, or a
// response's params or fault value.
type message struct {
	method   string
	params   []any
	fault    any
	hasFault bool
}

func decode(body []byte) (msg message, err error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var stack []*xnode
	var root *xnode
	for {
		tok, terr := d.Token() // checks that end tags match
		if terr == io.EOF {
			break
		}
		if terr != nil {
			return msg, fmt.Errorf("%w: %v", ErrDecode, terr)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return msg, fmt.Errorf("%w: junk after document element", ErrDecode)
			}
			if len(stack) >= MaxDepth {
				return msg, fmt.Errorf("%w: nesting deeper than %d", ErrDecode, MaxDepth)
			}
			tag := t.Name.Local
			if t.Name.Space != "" {
				// ElementTree names it {uri}local: never a known tag
				tag = "{" + t.Name.Space + "}" + tag
			}
			n := &xnode{tag: tag}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 {
				return msg, fmt.Errorf("%w: unexpected end element", ErrDecode)
			}
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if err := n.finish(); err != nil {
				return msg, err
			}
			switch n.tag {
			case "methodName":
				msg.method = n.rawText()
			case "params":
				msg.params = make([]any, 0, len(n.children))
				for _, c := range n.children {
					msg.params = append(msg.params, c.value())
				}
			case "fault":
				if len(n.children) > 0 {
					msg.fault, msg.hasFault = n.children[0].value(), true
				}
			}
			if n.conv {
				// Python clears converted elements; others (member,
				// name, unknown tags) keep their children.
				n.children = nil
			}
		case xml.CharData:
			if len(stack) > 0 {
				n := stack[len(stack)-1]
				if len(n.children) == 0 {
					n.text.Write(t)
					n.hasText = true
				}
			} else if len(bytes.TrimSpace(t)) > 0 {
				return msg, fmt.Errorf("%w: text outside the document element", ErrDecode)
			}
		}
	}
	if root == nil || len(stack) != 0 {
		return msg, fmt.Errorf("%w: incomplete document", ErrDecode)
	}
	return msg, nil
}

// rawText is Python's elem.text for an element no rule converted: the text,
// or "" for None (only used where Python would use the string).
func (n *xnode) rawText() string { return n.text.String() }

// value is the element's .text after conversion: a converted value, the
// raw text, or nil when the element had no text (Python's None).
func (n *xnode) value() any {
	if n.conv {
		return n.val
	}
	if !n.hasText {
		return nil
	}
	return n.text.String()
}

// textOrNil returns the raw text and whether Python's .text was not None.
func (n *xnode) textOrNil() (string, bool) { return n.text.String(), n.hasText }

func (n *xnode) finish() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: <%s>: %s", ErrDecode, n.tag, fmt.Sprintf(format, a...))
	}
	switch n.tag {
	case "int", "i4":
		s, ok := n.textOrNil()
		if !ok {
			return bad("no text")
		}
		v, err := pyint.Int64(s, 10)
		if err != nil {
			return bad("%v", err)
		}
		n.val = v
	case "boolean":
		s, _ := n.textOrNil()
		n.val = s == "1"
	case "string":
		n.val = n.rawText()
	case "double":
		s, ok := n.textOrNil()
		if !ok {
			return bad("no text")
		}
		v, err := ParseFloat(s)
		if err != nil {
			return bad("%v", err)
		}
		n.val = v
	case "dateTime.iso8601":
		s, ok := n.textOrNil()
		if !ok {
			return bad("no text")
		}
		t, err := time.Parse("20060102T15:04:05", strings.TrimSpace(s))
		if err != nil {
			return bad("%v", err)
		}
		n.val = t
	case "array":
		if len(n.children) == 0 {
			return bad("no data")
		}
		n.val = n.children[0].value()
	case "data":
		l := make([]any, 0, len(n.children))
		for _, c := range n.children {
			l = append(l, c.value())
		}
		n.val = l
	case "struct":
		m := make(map[string]any, len(n.children))
		for _, c := range n.children {
			if len(c.children) != 2 {
				return bad("member needs a name and a value")
			}
			k := c.children[0].value()
			var key string
			switch kv := k.(type) {
			case nil:
			case string:
				key = kv
			default:
				// Python would key the dict by a non-string; no
				// supervisor method can use such a key.
				key = Str(kv)
			}
			m[key] = c.children[1].value()
		}
		n.val = m
	case "base64":
		raw, err := B64Decode(n.rawText())
		if err != nil {
			return bad("%v", err)
		}
		if !utf8.Valid(raw) {
			return bad("base64 payload is not UTF-8")
		}
		n.val = string(raw)
	case "param":
		if len(n.children) == 0 {
			return bad("no value")
		}
		n.val = n.children[0].value()
	case "value":
		if len(n.children) > 0 {
			n.val = n.children[0].value()
		} else {
			n.val = n.rawText()
		}
	default:
		return nil
	}
	n.conv = true
	return nil
}

// ParseFloat parses like Python's float(str).
func ParseFloat(s string) (float64, error) {
	t := strings.TrimSpace(s)
	l := strings.ToLower(strings.TrimLeft(t, "+-"))
	switch l {
	case "inf", "infinity":
		if strings.HasPrefix(t, "-") {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	case "nan":
		return math.NaN(), nil
	}
	if strings.Contains(t, "__") || strings.HasPrefix(l, "0x") || strings.HasPrefix(l, "_") || strings.HasSuffix(l, "_") {
		return 0, fmt.Errorf("could not convert string to float: %s", pyrepr.Str(s))
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return v, nil
		}
		return 0, fmt.Errorf("could not convert string to float: %s", pyrepr.Str(s))
	}
	return v, nil
}

// B64Decode decodes like base64.decodebytes: characters outside the
// alphabet are skipped, padding must be right.
func B64Decode(s string) ([]byte, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=' {
			b.WriteByte(c)
		}
	}
	t := b.String()
	if i := strings.IndexByte(t, '='); i >= 0 {
		// data after the padding is ignored by binascii
		end := i
		for end < len(t) && t[end] == '=' {
			end++
		}
		t = t[:end]
	}
	if rem := len(strings.TrimRight(t, "=")) % 4; rem == 1 {
		return nil, errors.New("invalid base64 length")
	}
	t = strings.TrimRight(t, "=")
	return base64.RawStdEncoding.DecodeString(t)
}
