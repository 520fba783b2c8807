package xmlrpcvalue

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fullDecodeCall is DecodeCall without the fast path.
func fullDecodeCall(body []byte) (string, []any, error) {
	m, err := decode(body)
	return m.method, m.params, err
}

// TestDecodeBareCall: the fast path takes the bodies clients send for calls
// without parameters and gives what the full parser gives; anything else
// it leaves to the full parser.
func TestDecodeBareCall(t *testing.T) {
	tests := []struct {
		name string
		body string
		fast bool
	}{
		{"xmlrpc.client", "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getState</methodName>\n<params>\n</params>\n</methodCall>\n", true},
		{"kolo", `<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>supervisor.getVersion</methodName></methodCall>`, true},
		{"no declaration, empty params", "<methodCall><methodName>a.b</methodName><params/></methodCall>", true},
		{"no params", "<methodCall><methodName>system.listMethods</methodName></methodCall>", true},
		{"crlf and tabs", "<?xml version=\"1.0\"?>\r\n\t<methodCall>\r\n<methodName>a_b.c1</methodName>\r\n<params>\t</params></methodCall>\r\n", true},
		{"trailing space", "<methodCall><methodName>a</methodName></methodCall>   \n", true},
		{"a parameter", "<methodCall><methodName>a.b</methodName><params><param><value>x</value></param></params></methodCall>", false},
		{"empty name", "<methodCall><methodName></methodName></methodCall>", false},
		{"entity in name", "<methodCall><methodName>a&amp;b</methodName></methodCall>", false},
		{"space in name", "<methodCall><methodName> a.b</methodName></methodCall>", false},
		{"latin-1 declaration", "<?xml version='1.0' encoding='iso-8859-1'?><methodCall><methodName>a.b</methodName></methodCall>", false},
		{"version 1.1", "<?xml version='1.1'?><methodCall><methodName>a.b</methodName></methodCall>", false},
		{"other root", "<x><methodName>a.b</methodName></x>", false},
		{"junk after", "<methodCall><methodName>a.b</methodName></methodCall><x/>", false},
		{"text after", "<methodCall><methodName>a.b</methodName></methodCall>x", false},
		{"truncated", "<methodCall><methodName>a.b</methodName>", false},
		{"comment", "<methodCall><!-- c --><methodName>a.b</methodName></methodCall>", false},
		{"params twice", "<methodCall><methodName>a.b</methodName><params/><params/></methodCall>", false},
		{"bom", "\ufeff<methodCall><methodName>a.b</methodName></methodCall>", false},
		{"nul after", "<methodCall><methodName>a.b</methodName></methodCall>\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, p, ok := decodeBareCall([]byte(tt.body))
			if ok != tt.fast {
				t.Fatalf("fast path took it: %v, want %v", ok, tt.fast)
			}
			wm, wp, werr := fullDecodeCall([]byte(tt.body))
			if !ok {
				return
			}
			if werr != nil {
				t.Fatalf("fast path took a body the full parser refuses: %v", werr)
			}
			if m != wm || !cmp.Equal(p, wp) || (p == nil) != (wp == nil) {
				t.Errorf("fast path %q %#v, full parser %q %#v", m, p, wm, wp)
			}
		})
	}
}

// FuzzDecodeBareCall: whatever the fast path takes, the full parser takes
// too, with the same method and parameters.
func FuzzDecodeBareCall(f *testing.F) {
	f.Add([]byte("<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getState</methodName>\n<params>\n</params>\n</methodCall>\n"))
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>supervisor.getVersion</methodName></methodCall>`))
	f.Add([]byte("<methodCall><methodName>a.b</methodName><params/></methodCall>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, p, ok := decodeBareCall(body)
		if !ok {
			return
		}
		wm, wp, err := fullDecodeCall(body)
		if err != nil {
			t.Fatalf("fast path took %q, the full parser refuses it: %v", body, err)
		}
		if m != wm || !cmp.Equal(p, wp) || (p == nil) != (wp == nil) {
			t.Fatalf("%q: fast path %q %#v, full parser %q %#v", body, m, p, wm, wp)
		}
	})
}
