package xmlrpcvalue

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeTypes(t *testing.T) {
	tests := []struct {
		name  string
		value string // inside <value>...</value>
		want  any
	}{
		{"int", "<int>42</int>", int64(42)},
		{"i4", "<i4>-7</i4>", int64(-7)},
		{"int spaces", "<int> 5 </int>", int64(5)},
		{"int underscore", "<int>1_000</int>", int64(1000)},
		// Python's int(x.text): any Unicode decimal digit, str.strip()'s spaces
		{"int arabic-indic digits", "<int>\u0661\u0662</int>", int64(12)},
		{"int no-break space", "<int>\u00a07\u3000</int>", int64(7)},
		{"int min", "<i4>-9223372036854775808</i4>", int64(math.MinInt64)},
		{"boolean 1", "<boolean>1</boolean>", true},
		{"boolean 0", "<boolean>0</boolean>", false},
		{"boolean true text", "<boolean>true</boolean>", false},
		{"boolean empty", "<boolean/>", false},
		{"string", "<string>a&amp;b</string>", "a&b"},
		{"empty string", "<string></string>", ""},
		{"self-closed string", "<string/>", ""},
		{"untyped", "plain", "plain"},
		{"untyped empty", "", ""},
		{"cdata", "<string><![CDATA[<x>]]></string>", "<x>"},
		{"double", "<double>1.5</double>", 1.5},
		{"double exp", "<double>-2e3</double>", -2000.0},
		{"datetime", "<dateTime.iso8601>20261125T08:17:05</dateTime.iso8601>", time.Date(2026, 11, 25, 8, 17, 5, 0, time.UTC)},
		{"base64", "<base64>c2xlZXBlcg==</base64>", "sleeper"},
		{"base64 newline", "<base64>c2xl\nZXBlcg==\n</base64>", "sleeper"},
		{"i8 is text", "<i8>5</i8>", "5"},
		{"nil", "<nil/>", nil},
		{"unknown with text", "<foo>bar</foo>", "bar"},
		{"array", "<array><data><value><int>1</int></value><value>x</value></data></array>", []any{int64(1), "x"}},
		{"empty array", "<array><data/></array>", []any{}},
		{"struct", "<struct><member><name>a</name><value><int>1</int></value></member><member><name>b</name><value><array><data><value><boolean>1</boolean></value></data></array></value></member></struct>",
			map[string]any{"a": int64(1), "b": []any{true}}},
		{"struct dup key", "<struct><member><name>a</name><value>1</value></member><member><name>a</name><value>2</value></member></struct>", map[string]any{"a": "2"}},
		{"non-ascii", "<string>h\u00e9llo \u2603</string>", "h\u00e9llo \u2603"},
		{"char ref", "<string>&#233;&#x2603;</string>", "\u00e9\u2603"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "<?xml version='1.0'?><methodCall><methodName>m.x</methodName><params><param><value>" + tt.value + "</value></param></params></methodCall>"
			m, p, err := DecodeCall([]byte(body))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if m != "m.x" || len(p) != 1 {
				t.Fatalf("got %q %v", m, p)
			}
			if diff := cmp.Diff(tt.want, p[0]); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeStructure(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantMethod string
		wantParams []any
		wantErr    bool
	}{
		{"no params element", "<methodCall><methodName>a.b</methodName></methodCall>", "a.b", nil, false},
		{"empty params", "<methodCall><methodName>a.b</methodName><params/></methodCall>", "a.b", []any{}, false},
		{"no method", "<methodCall><params/></methodCall>", "", []any{}, false},
		{"other root", "<x><methodName>a.b</methodName></x>", "a.b", nil, false},
		{"encoding decl", "<?xml version='1.0' encoding='iso-8859-1'?><methodCall><methodName>a.b</methodName></methodCall>", "a.b", nil, false},
		{"two params", "<methodCall><methodName>a.b</methodName><params><param><value><int>1</int></value></param><param><value>s</value></param></params></methodCall>", "a.b", []any{int64(1), "s"}, false},
		{"truncated", "<methodCall><methodName>a.b</methodName>", "", nil, true},
		{"bad int", "<methodCall><methodName>a.b</methodName><params><param><value><int>x</int></value></param></params></methodCall>", "", nil, true},
		{"int beyond int64", "<methodCall><methodName>a.b</methodName><params><param><value><int>9223372036854775808</int></value></param></params></methodCall>", "", nil, true},
		{"empty int", "<methodCall><methodName>a.b</methodName><params><param><value><int/></value></param></params></methodCall>", "", nil, true},
		{"bad double", "<methodCall><params><param><value><double>1.2.3</double></value></param></params></methodCall>", "", nil, true},
		{"bad date", "<methodCall><params><param><value><dateTime.iso8601>yesterday</dateTime.iso8601></value></param></params></methodCall>", "", nil, true},
		{"bad base64", "<methodCall><params><param><value><base64>a</base64></value></param></params></methodCall>", "", nil, true},
		{"base64 not utf8", "<methodCall><params><param><value><base64>/w==</base64></value></param></params></methodCall>", "", nil, true},
		{"array without data", "<methodCall><params><param><value><array/></value></param></params></methodCall>", "", nil, true},
		{"member without value", "<methodCall><params><param><value><struct><member><name>a</name></member></struct></value></param></params></methodCall>", "", nil, true},
		{"empty param", "<methodCall><params><param/></params></methodCall>", "", nil, true},
		{"mismatched tags", "<methodCall><methodName>a.b</methodCall>", "", nil, true},
		{"crossed tags", "<methodCall><methodName>a.b</methodName><params><param><value><string>x</value></string></param></params></methodCall>", "", nil, true},
		{"namespaced int is text", "<methodCall><methodName>a.b</methodName><params><param><value><int xmlns='urn:x'>5</int></value></param></params></methodCall>", "a.b", []any{"5"}, false},
		{"junk after root", "<methodCall/><x/>", "", nil, true},
		{"text after root", "<methodCall/>junk", "", nil, true},
		{"empty body", "", "", nil, true},
		{"not xml", "hello", "", nil, true},
		{"invalid utf8", "<methodCall><methodName>a.\xff</methodName></methodCall>", "", nil, true},
		{"doctype entity", "<!DOCTYPE x [<!ENTITY a 'b'>]><methodCall><methodName>&a;</methodName></methodCall>", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, p, err := DecodeCall([]byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want error, got %q %v", m, p)
				}
				if !errors.Is(err, ErrDecode) {
					t.Errorf("error %v is not ErrDecode", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m != tt.wantMethod {
				t.Errorf("method %q, want %q", m, tt.wantMethod)
			}
			if diff := cmp.Diff(tt.wantParams, p); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeDepthLimit(t *testing.T) {
	deep := strings.Repeat("<value><array><data>", MaxDepth) + strings.Repeat("</data></array></value>", MaxDepth)
	body := "<methodCall><methodName>a.b</methodName><params><param>" + deep + "</param></params></methodCall>"
	if _, _, err := DecodeCall([]byte(body)); err == nil {
		t.Fatal("deep nesting accepted")
	}
	ok := strings.Repeat("<value><array><data>", 10) + strings.Repeat("</data></array></value>", 10)
	body = "<methodCall><methodName>a.b</methodName><params><param>" + ok + "</param></params></methodCall>"
	if _, _, err := DecodeCall([]byte(body)); err != nil {
		t.Fatalf("moderate nesting refused: %v", err)
	}
}

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		want      any
		wantFault *Fault
		wantErr   bool
	}{
		{"string", "<?xml version='1.0'?><methodResponse><params><param><value><string>3.0</string></value></param></params></methodResponse>", "3.0", nil, false},
		{"empty string", "<methodResponse><params><param><value><string></string></value></param></params></methodResponse>", "", nil, false},
		{"struct", "<methodResponse><params><param><value><struct><member><name>pid</name><value><int>12</int></value></member><member><name>description</name><value><string></string></value></member></struct></value></param></params></methodResponse>",
			map[string]any{"pid": int64(12), "description": ""}, nil, false},
		{"nil", "<methodResponse><params><param><value><nil/></value></param></params></methodResponse>", nil, nil, false},
		{"fault", "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>10</int></value></member><member><name>faultString</name><value><string>BAD_NAME: x</string></value></member></struct></value></fault></methodResponse>",
			nil, &Fault{Code: 10, String: "BAD_NAME: x"}, false},
		{"fault without code", "<methodResponse><fault><value><struct><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>", nil, nil, true},
		{"no value", "<methodResponse><params></params></methodResponse>", nil, nil, true},
		{"two values", "<methodResponse><params><param><value>a</value></param><param><value>b</value></param></params></methodResponse>", nil, nil, true},
		{"not xml", "Internal Server Error", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, f, err := DecodeResponse([]byte(tt.body))
			if tt.wantErr {
				if err == nil || !errors.Is(err, ErrDecode) {
					t.Fatalf("want an ErrDecode, got %v %v %v", v, f, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantFault, f); diff != "" {
				t.Errorf("fault (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, v); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStr(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, "None"},
		{"a'b", "a'b"},
		{true, "True"},
		{false, "False"},
		{int64(-3), "-3"},
		{1.0, "1.0"},
		{1e22, "1e+22"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02 03:04:05"},
		{[]any{"x", int64(1), nil, []any{}}, "['x', 1, None, []]"},
		{map[string]any{"b": "y", "a": true}, "{'a': True, 'b': 'y'}"},
	}
	for _, tt := range tests {
		if got := Str(tt.v); got != tt.want {
			t.Errorf("Str(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte("<methodResponse><params><param><value><array><data><value><struct><member><name>a</name><value><int>1</int></value></member></struct></value></data></array></value></param></params></methodResponse>"))
	f.Add([]byte("<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		v, fault, err := DecodeResponse(body)
		if err != nil {
			if !errors.Is(err, ErrDecode) {
				t.Fatalf("error %v does not wrap ErrDecode", err)
			}
			return
		}
		if fault != nil && v != nil {
			t.Fatalf("both a fault and a value: %v %v", fault, v)
		}
		_ = Str(v)
	})
}
