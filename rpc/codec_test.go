package rpc

import (
	"bytes"
	"encoding/xml"
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
			m, p, err := Decode([]byte(body))
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
			m, p, err := Decode([]byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want error, got %q %v", m, p)
				}
				if !errors.Is(err, errDecode) {
					t.Errorf("error %v is not errDecode", err)
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
	if _, _, err := Decode([]byte(body)); err == nil {
		t.Fatal("deep nesting accepted")
	}
	ok := strings.Repeat("<value><array><data>", 10) + strings.Repeat("</data></array></value>", 10)
	body = "<methodCall><methodName>a.b</methodName><params><param>" + ok + "</param></params></methodCall>"
	if _, _, err := Decode([]byte(body)); err != nil {
		t.Fatalf("moderate nesting refused: %v", err)
	}
}

func TestEncodeResponse(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string // the <value> part
	}{
		{"int", 5, "<value><int>5</int></value>\n"},
		{"int64 not capped", int64(1) << 40, "<value><int>1099511627776</int></value>\n"},
		{"negative int64", int64(-1) << 40, "<value><int>-1099511627776</int></value>\n"},
		{"true", true, "<value><boolean>1</boolean></value>\n"},
		{"false", false, "<value><boolean>0</boolean></value>\n"},
		{"string escapes", "a&b<c>d\"e'", "<value><string>a&amp;b&lt;c&gt;d\"e'</string></value>\n"},
		{"utf8", "h\u00e9 \u2603", "<value><string>h\u00e9 \u2603</string></value>\n"},
		{"tab newline", "a\tb\nc", "<value><string>a\tb\nc</string></value>\n"},
		{"cr", "a\r\nb", "<value><string>a&#13;\nb</string></value>\n"},
		{"control chars", "a\x01b\x1b[31m\x00", "<value><string>a\uFFFDb\uFFFD[31m\uFFFD</string></value>\n"},
		{"invalid utf8", "ok\xff\xfe!", "<value><string>ok\uFFFD\uFFFD!</string></value>\n"},
		{"cut multibyte", "\xe2\x98", "<value><string>\uFFFD\uFFFD</string></value>\n"},
		{"noncharacter", "\uFFFE\uFFFF", "<value><string>\uFFFD\uFFFD</string></value>\n"},
		{"double", 1.5, "<value><double>1.5</double></value>\n"},
		{"double int", 2.0, "<value><double>2.0</double></value>\n"},
		{"empty array", []any{}, "<value><array><data>\n</data></array></value>\n"},
		{"array", []any{1, "x"}, "<value><array><data>\n<value><int>1</int></value>\n<value><string>x</string></value>\n</data></array></value>\n"},
		{"strings", []string{"a"}, "<value><array><data>\n<value><string>a</string></value>\n</data></array></value>\n"},
		{"struct", Struct{{"b", 1}, {"a&", "x"}}, "<value><struct>\n<member>\n<name>b</name>\n<value><int>1</int></value>\n</member>\n<member>\n<name>a&amp;</name>\n<value><string>x</string></value>\n</member>\n</struct></value>\n"},
		{"result", Result{"p", "g", 80, "OK"}, "<value><struct>\n<member>\n<name>name</name>\n<value><string>p</string></value>\n</member>\n<member>\n<name>group</name>\n<value><string>g</string></value>\n</member>\n<member>\n<name>status</name>\n<value><int>80</int></value>\n</member>\n<member>\n<name>description</name>\n<value><string>OK</string></value>\n</member>\n</struct></value>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeResponse(nil, tt.v)
			if err != nil {
				t.Fatal(err)
			}
			want := "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n" + tt.want + "</param>\n</params>\n</methodResponse>\n"
			if string(got) != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
			// Whatever the input, the output is well-formed XML.
			d := xml.NewDecoder(bytes.NewReader(got))
			for {
				_, err := d.Token()
				if err != nil {
					if err.Error() != "EOF" {
						t.Errorf("not well-formed: %v", err)
					}
					break
				}
			}
		})
	}
}

func TestEncodeRefusesUnknownTypes(t *testing.T) {
	for _, v := range []any{nil, struct{}{}, map[string]any{}, []any{nil}, math.NaN} {
		if _, err := EncodeResponse(nil, v); err == nil {
			t.Errorf("%T encoded", v)
		}
	}
}

func TestProcessInfoTimestampsCapped(t *testing.T) {
	got, err := EncodeResponse(nil, ProcessInfo{Name: "p", Group: "p", Start: 1 << 40, Stop: -1 << 40, Now: 1 << 33, State: ProcStopped})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<name>start</name>\n<value><int>2147483647</int>", "<name>stop</name>\n<value><int>-2147483648</int>", "<name>now</name>\n<value><int>2147483647</int>"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("missing %q", want)
		}
	}
}

func TestEncodeFault(t *testing.T) {
	got := string(EncodeFault(nil, NewFault(BadName, "x<y")))
	want := "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: x&lt;y</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n"
	if got != want {
		t.Errorf("got %q", got)
	}
}

// TestRoundTrip encodes a value and decodes it back as a request param.
func TestRoundTrip(t *testing.T) {
	in := []any{int64(3), true, "a&<>\r\n\tz \u00e9", []any{"x", int64(-1)}}
	enc, err := EncodeResponse(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(strings.Replace(string(enc), "<methodResponse>", "<methodCall><methodName>x.y</methodName>", 1), "</methodResponse>", "</methodCall>", 1)
	_, p, err := Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{in}, p); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName><params/></methodCall>"))
	f.Add([]byte("<methodCall><methodName>system.multicall</methodName><params><param><value><array><data><value><struct><member><name>methodName</name><value>supervisor.getPID</value></member></struct></value></data></array></value></param></params></methodCall>"))
	f.Add([]byte("<methodCall><params><param><value><base64>c2xlZXBlcg==</base64></value></param><param><value><double>1e5</double></value></param><param><value><dateTime.iso8601>20200101T00:00:00</dateTime.iso8601></value></param><param><value><nil/></value></param></params></methodCall>"))
	f.Add([]byte("<a><b><c/></b>"))
	b := newFakeBackend()
	b.addProc("g", "p")
	d := NewDispatcher(b, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		m, p, err := Decode(body)
		if err != nil {
			return
		}
		// Whatever decodes must dispatch and encode without panicking,
		// and the answer must be well-formed XML.
		if m == "" || strings.Contains(m, "multicall") && len(body) > 4096 {
			return
		}
		v, err := d.Call(t.Context(), m, p)
		var out []byte
		if err != nil {
			var fl *Fault
			if !errors.As(err, &fl) {
				return
			}
			out = EncodeFault(nil, fl)
		} else if out, err = EncodeResponse(nil, v); err != nil {
			t.Fatalf("encode %T: %v", v, err)
		}
		dec := xml.NewDecoder(bytes.NewReader(out))
		for {
			if _, err := dec.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("response not well-formed: %v\n%s", err, out)
				}
				break
			}
		}
	})
}
