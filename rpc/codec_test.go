package rpc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/xmlrpcvalue"
	"github.com/gosupervisor/gosupervisor/procman"
)

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
	got, err := EncodeResponse(nil, ProcessInfo{Name: "p", Group: "p", Start: 1 << 40, Stop: -1 << 40, Now: 1 << 33, State: procman.Stopped})
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
	got := string(EncodeFault(nil, NewFault(faults.BadName, "x<y")))
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
	_, p, err := xmlrpcvalue.DecodeCall([]byte(body))
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
		m, p, err := xmlrpcvalue.DecodeCall(body)
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
