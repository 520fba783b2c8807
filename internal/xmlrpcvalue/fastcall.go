package xmlrpcvalue

import "bytes"

// decodeBareCall is DecodeCall for the commonest request, a call without
// parameters as xmlrpc.client, supervisorctl and kolo/xmlrpc write it
// (getState, getAllProcessInfo, getVersion): an optional XML declaration
// of version 1.0, then <methodCall>, <methodName> with a plain dotted name,
// an optional empty <params>, and nothing else but whitespace. It decodes
// that shape without the XML tokenizer and its garbage, giving exactly what
// the full parser gives; ok is false for anything else, which the full
// parser then decides.
func decodeBareCall(body []byte) (method string, params []any, ok bool) {
	b := body
	for _, decl := range xmlDecls {
		if bytes.HasPrefix(b, decl) {
			b = b[len(decl):]
			break
		}
	}
	b = skipSpace(b)
	if b, ok = cutPrefix(b, "<methodCall>"); !ok {
		return "", nil, false
	}
	b = skipSpace(b)
	if b, ok = cutPrefix(b, "<methodName>"); !ok {
		return "", nil, false
	}
	n := 0
	for n < len(b) && isNameByte(b[n]) {
		n++
	}
	if n == 0 {
		return "", nil, false
	}
	name := b[:n]
	if b, ok = cutPrefix(b[n:], "</methodName>"); !ok {
		return "", nil, false
	}
	b = skipSpace(b)
	if rest, found := cutPrefix(b, "<params/>"); found {
		b, params = rest, []any{}
	} else if rest, found := cutPrefix(b, "<params>"); found {
		if b, ok = cutPrefix(skipSpace(rest), "</params>"); !ok {
			return "", nil, false
		}
		params = []any{}
	}
	b = skipSpace(b)
	if b, ok = cutPrefix(b, "</methodCall>"); !ok {
		return "", nil, false
	}
	if len(skipSpace(b)) != 0 {
		return "", nil, false
	}
	return string(name), params, true
}

// xmlDecls are the declarations the fast path knows (the full parser
// accepts these and ignores them).
var xmlDecls = [][]byte{
	[]byte("<?xml version='1.0'?>"),
	[]byte(`<?xml version="1.0"?>`),
	[]byte(`<?xml version="1.0" encoding="UTF-8"?>`),
	[]byte(`<?xml version='1.0' encoding='UTF-8'?>`),
	[]byte(`<?xml version="1.0" encoding="utf-8"?>`),
	[]byte(`<?xml version='1.0' encoding='utf-8'?>`),
}

func cutPrefix(b []byte, p string) ([]byte, bool) {
	if len(b) < len(p) || string(b[:len(p)]) != p {
		return b, false
	}
	return b[len(p):], true
}

// skipSpace drops the XML whitespace b starts with.
func skipSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

// isSpace reports whether c is XML whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_'
}
