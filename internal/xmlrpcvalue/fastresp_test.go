package xmlrpcvalue

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fullDecodeResponse is DecodeResponse's full parser alone.
func fullDecodeResponse(body []byte) (any, error) {
	m, err := decode(body)
	if err != nil {
		return nil, err
	}
	if m.hasFault || len(m.params) != 1 {
		return nil, ErrDecode
	}
	return m.params[0], nil
}

const infoResponse = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n" +
	"<value><struct>\n<member>\n<name>name</name>\n<value><string>p&amp;0&lt;&gt;&#13;\u00e9</string></value>\n</member>\n" +
	"<member>\n<name>pid</name>\n<value><int>123</int></value>\n</member>\n" +
	"<member>\n<name>spawnerr</name>\n<value><string></string></value>\n</member>\n" +
	"<member>\n<name>ok</name>\n<value><boolean>1</boolean></value>\n</member>\n" +
	"<member>\n<name>f</name>\n<value><double>1.5</double></value>\n</member>\n" +
	"<member>\n<name>raw</name>\n<value>text &quot;q&apos;</value>\n</member>\n" +
	"</struct></value>\n</data></array></value>\n</param>\n</params>\n</methodResponse>\n"

// TestDecodePlainResponse: the fast path takes what supervisord answers
// and gives what the full parser gives; the rest goes to the full parser.
func TestDecodePlainResponse(t *testing.T) {
	wrap := func(v string) string {
		return "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n" + v + "</param>\n</params>\n</methodResponse>\n"
	}
	tests := []struct {
		name string
		body string
		fast bool
	}{
		{"process infos", infoResponse, true},
		{"string", wrap("<value><string>x</string></value>\n"), true},
		{"untyped", wrap("<value>x y</value>"), true},
		{"empty untyped", wrap("<value></value>"), true},
		{"i4", wrap("<value><i4>-7</i4></value>"), true},
		{"boolean 0", wrap("<value><boolean>0</boolean></value>"), true},
		{"empty array", wrap("<value><array><data>\n</data></array></value>"), true},
		{"empty struct", wrap("<value><struct></struct></value>"), true},
		{"no declaration", "<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>", true},
		{"hex ref", wrap("<value><string>&#x41;&#66;</string></value>"), true},
		{"fault", "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: x</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n", false},
		{"nil", wrap("<value><nil/></value>"), false},
		{"base64", wrap("<value><base64>eA==</base64></value>"), false},
		{"raw CR", wrap("<value><string>a\rb</string></value>"), false},
		{"control char", wrap("<value><string>a\x01b</string></value>"), false},
		{"bad utf8", wrap("<value><string>a\xffb</string></value>"), false},
		{"unknown entity", wrap("<value><string>&nbsp;</string></value>"), false},
		{"bad char ref", wrap("<value><string>&#1;</string></value>"), false},
		{"cdata end", wrap("<value><string>a]]>b</string></value>"), false},
		{"comment", wrap("<value><!-- c --><int>1</int></value>"), false},
		{"attribute", wrap("<value><int a='1'>1</int></value>"), false},
		{"bad int", wrap("<value><int>x</int></value>"), false},
		{"empty int", wrap("<value><int></int></value>"), false},
		{"empty name", wrap("<value><struct><member><name></name><value>1</value></member></struct></value>"), false},
		{"two params", "<methodResponse><params><param><value>1</value></param><param><value>2</value></param></params></methodResponse>", false},
		{"junk after", infoResponse + "<x/>", false},
		{"truncated", infoResponse[:len(infoResponse)-30], false},
		{"too deep", wrap(strings.Repeat("<value><array><data>", 30) + strings.Repeat("</data></array></value>", 30)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := decodePlainResponse([]byte(tt.body))
			if ok != tt.fast {
				t.Fatalf("fast path took it: %v, want %v", ok, tt.fast)
			}
			if !ok {
				return
			}
			want, err := fullDecodeResponse([]byte(tt.body))
			if err != nil {
				t.Fatalf("fast path took a body the full parser refuses: %v", err)
			}
			if diff := cmp.Diff(want, v); diff != "" {
				t.Errorf("fast path differs (-full +fast):\n%s", diff)
			}
		})
	}
}

// FuzzDecodePlainResponse: whatever the fast path takes, the full parser
// takes too, with the same value.
func FuzzDecodePlainResponse(f *testing.F) {
	f.Add([]byte(infoResponse))
	f.Add([]byte("<methodResponse><params><param><value><array><data><value><i4>1</i4></value><value>x</value></data></array></value></param></params></methodResponse>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		v, ok := decodePlainResponse(body)
		if !ok {
			return
		}
		want, err := fullDecodeResponse(body)
		if err != nil {
			t.Fatalf("fast path took %q, the full parser refuses it: %v", body, err)
		}
		if diff := cmp.Diff(want, v); diff != "" {
			t.Fatalf("%q: fast path differs (-full +fast):\n%s", body, diff)
		}
	})
}

// structsAsValue runs DecodePlainStructs and builds from its calls what
// DecodeResponse gives: a []any of maps, a repeated name keeping the last
// value.
func structsAsValue(body string) (any, bool) {
	l := []any{}
	_, ok := DecodePlainStructs(body, func(i int) bool {
		if i != len(l) {
			panic("struct index out of order")
		}
		l = append(l, map[string]any{})
		return true
	}, func(m *Member) bool {
		l[len(l)-1].(map[string]any)[m.Name] = m.value()
		return true
	})
	return l, ok
}

// TestDecodePlainStructs: the struct walker takes arrays of structs of
// scalars, gives what DecodePlainResponse gives, and refuses the rest.
func TestDecodePlainStructs(t *testing.T) {
	wrap := func(v string) string {
		return "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n" + v + "</param>\n</params>\n</methodResponse>\n"
	}
	tests := []struct {
		name string
		body string
		take bool
	}{
		{"process infos", infoResponse, true},
		{"empty array", wrap("<value><array><data>\n</data></array></value>"), true},
		{"empty struct", wrap("<value><array><data><value><struct></struct></value></data></array></value>"), true},
		{"repeated member", wrap("<value><array><data><value><struct><member><name>a</name><value><int>1</int></value></member><member><name>a</name><value>x</value></member></struct></value></data></array></value>"), true},
		{"spaces", wrap("<value> <array> <data> <value> <struct> <member> <name>a</name> <value> <i4>1</i4> </value> </member> </struct> </value> </data> </array> </value>"), true},
		{"two structs", wrap("<value><array><data><value><struct><member><name>a</name><value><boolean>1</boolean></value></member></struct></value><value><struct><member><name>b</name><value><double>2.5</double></value></member></struct></value></data></array></value>"), true},
		{"not an array", wrap("<value><string>x</string></value>"), false},
		{"array of strings", wrap("<value><array><data><value>x</value></data></array></value>"), false},
		{"nested array", wrap("<value><array><data><value><struct><member><name>a</name><value><array><data></data></array></value></member></struct></value></data></array></value>"), false},
		{"fault", "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n", false},
		{"junk after", infoResponse + "x", false},
		{"truncated", infoResponse[:len(infoResponse)-40], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := structsAsValue(tt.body)
			if ok != tt.take {
				t.Fatalf("took it: %v, want %v", ok, tt.take)
			}
			if !ok {
				return
			}
			want, ok := decodePlainResponse([]byte(tt.body))
			if !ok {
				t.Fatal("the struct walker took a body DecodePlainResponse refuses")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("differs (-DecodePlainResponse +DecodePlainStructs):\n%s", diff)
			}
		})
	}
	if _, ok := DecodePlainStructs(infoResponse, func(int) bool { return true }, func(*Member) bool { return false }); ok {
		t.Error("a refusing member callback did not stop it")
	}
}

// FuzzDecodePlainStructs: whatever the struct walker takes,
// DecodePlainResponse takes with the same value.
func FuzzDecodePlainStructs(f *testing.F) {
	f.Add(infoResponse)
	f.Add("<methodResponse><params><param><value><array><data><value><struct><member><name>a</name><value><i4>1</i4></value></member></struct></value></data></array></value></param></params></methodResponse>")
	f.Fuzz(func(t *testing.T, body string) {
		got, ok := structsAsValue(body)
		if !ok {
			return
		}
		want, ok := decodePlainResponse([]byte(body))
		if !ok {
			t.Fatalf("%q: the struct walker took it, DecodePlainResponse refuses it", body)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%q: differs (-DecodePlainResponse +DecodePlainStructs):\n%s", body, diff)
		}
	})
}
