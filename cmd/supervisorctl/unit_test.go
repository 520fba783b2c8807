package main

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kolo/xmlrpc"

	"github.com/gosupervisor/gosupervisor/internal/getopt"
	"github.com/gosupervisor/gosupervisor/internal/states"
	"github.com/gosupervisor/gosupervisor/internal/xmlrpcvalue"
)

// A getAllProcessInfo answer as Python's supervisord writes it, with the
// empty <string></string> it sends for an empty description or spawnerr.
const processInfoResponse = `<?xml version='1.0'?>
<methodResponse>
<params>
<param>
<value><array><data>
<value><struct>
<member>
<name>name</name>
<value><string>manual</string></value>
</member>
<member>
<name>description</name>
<value><string></string></value>
</member>
<member>
<name>spawnerr</name>
<value><string></string></value>
</member>
<member>
<name>pid</name>
<value><int>0</int></value>
</member>
<member>
<name>inuse</name>
<value><boolean>1</boolean></value>
</member>
<member>
<name>logfile</name>
<value><string>/tmp/a &amp; b &lt;c&gt; é</string></value>
</member>
</struct></value>
</data></array></value>
</param>
</params>
</methodResponse>
`

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want any
		err  error
	}{
		{"process info", processInfoResponse, []any{map[string]any{
			"name": "manual", "description": "", "spawnerr": "", "pid": int64(0), "inuse": true,
			"logfile": "/tmp/a & b <c> é"}}, nil},
		{"untyped value is a string, spaces kept", "<methodResponse><params><param><value> 4.2.5 </value></param></params></methodResponse>", " 4.2.5 ", nil},
		{"nil", "<methodResponse><params><param><value><nil/></value></param></params></methodResponse>", nil, nil},
		{"32-bit ints", "<methodResponse><params><param><value><array><data><value><int>2147483647</int></value><value><i4>-2147483648</i4></value></data></array></value></param></params></methodResponse>",
			[]any{int64(2147483647), int64(-2147483648)}, nil},
		{"empty array", "<methodResponse><params><param><value><array><data></data></array></value></param></params></methodResponse>", []any{}, nil},
		{"double and base64", "<methodResponse><params><param><value><array><data><value><double>1.5</double></value><value><base64>c2xlZXBlcg==</base64></value></data></array></value></param></params></methodResponse>",
			[]any{1.5, "sleeper"}, nil},
		{"fault", "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: nosuch</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n",
			nil, &rpcFault{Code: 10, String: "BAD_NAME: nosuch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeResponse(tt.body)
			if tt.err != nil {
				if err == nil || err.Error() != tt.err.Error() {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestKoloEmptyString records why the response decoder is ours: kolo's
// leaves an empty <string></string> undecoded (nil in a map), which
// would make every empty description vanish.
func TestKoloEmptyString(t *testing.T) {
	var got []map[string]any
	if err := xmlrpc.Response(processInfoResponse).Unmarshal(&got); err != nil {
		t.Skipf("kolo fails outright: %v", err)
	}
	if len(got) == 1 && got[0]["description"] == "" {
		t.Skip("kolo now decodes empty strings; the own decoder could go")
	}
	ours, err := decodeResponse(processInfoResponse)
	if err != nil || ours.([]any)[0].(map[string]any)["description"] != "" {
		t.Fatalf("our decoder: %v %v", ours, err)
	}
}

// TestEncodeCall checks the client's own methodCall encoder against
// kolo/xmlrpc's, whose bodies supervisorctl sent before, and against the
// daemon's decoder.
func TestEncodeCall(t *testing.T) {
	tests := []struct {
		method string
		args   []any
	}{
		{"supervisor.getAllProcessInfo", nil},
		{"supervisor.startProcess", []any{"group:name"}},
		{"supervisor.readProcessStdoutLog", []any{"a", -1600, 0}},
		{"supervisor.sendProcessStdin", []any{"x", "<a & b> \"q\" 'é'\t\r\n\x01"}},
		{"supervisor.stopProcess", []any{"x", true}},
		{"supervisor.stopProcess", []any{"x", false}},
		{"supervisor.readLog", []any{-2147483648, 2147483647}},
	}
	for _, tt := range tests {
		got, err := encodeCall(tt.method, tt.args)
		if err != nil {
			t.Fatalf("%s%v: %v", tt.method, tt.args, err)
		}
		want, err := xmlrpc.EncodeMethodCall(tt.method, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s%v:\n got %s\nwant %s", tt.method, tt.args, got, want)
		}
		method, params, err := xmlrpcvalue.DecodeCall(got)
		if err != nil || method != tt.method || len(params) != len(tt.args) {
			t.Errorf("%s%v: decoded as %q %v (%v)", tt.method, tt.args, method, params, err)
		}
	}
	if _, err := encodeCall("m", []any{1.5}); err == nil {
		t.Error("a float parameter was encoded")
	}
}

// TestInvalidCharacter checks the expat-style position of a control
// character supervisord sends raw from a log (non-ASCII characters count
// as the &#N; references Python's transport turns them into).
func TestInvalidCharacter(t *testing.T) {
	body := "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>é\x01</string></value>\n"
	_, err := decodeResponse(body)
	var pe *parseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a parseError", err)
	}
	if want := "not well-formed (invalid token): line 5, column 21"; pe.Error() != want {
		t.Errorf("got %q, want %q", pe.Error(), want)
	}
}

func TestGetopt(t *testing.T) {
	tests := []struct {
		args    []string
		opts    []getopt.Opt
		rest    []string
		wantErr string
	}{
		{[]string{"-c", "f", "status", "-x"}, []getopt.Opt{{Name: "-c", Arg: "f"}}, []string{"status", "-x"}, ""},
		{[]string{"-icf", "a"}, []getopt.Opt{{Name: "-i"}, {Name: "-c", Arg: "f"}}, []string{"a"}, ""},
		{[]string{"--conf=x", "--serverurl", "u", "--", "-c"}, []getopt.Opt{{Name: "--configuration", Arg: "x"}, {Name: "--serverurl", Arg: "u"}}, []string{"-c"}, ""},
		{[]string{"-", "x"}, nil, []string{"-", "x"}, ""},
		{[]string{"--h"}, nil, nil, "option --h not a unique prefix"},
		{[]string{"--help=1"}, nil, nil, "option --help must not have an argument"},
		{[]string{"--user"}, nil, nil, "option --username requires argument"},
		{[]string{"-p"}, nil, nil, "option -p requires argument"},
		{[]string{"-iz"}, nil, nil, "option -z not recognized"},
		{[]string{"--history-file=x"}, nil, nil, "option --history-file not recognized"},
	}
	for _, tt := range tests {
		opts, rest, err := cmdline.Parse(tt.args)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("getopt(%q) err = %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("getopt(%q): %v", tt.args, err)
			continue
		}
		if d := cmp.Diff(tt.opts, opts, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("getopt(%q) opts (-want +got):\n%s", tt.args, d)
		}
		if d := cmp.Diff(tt.rest, rest); d != "" {
			t.Errorf("getopt(%q) rest (-want +got):\n%s", tt.args, d)
		}
	}
}

func TestIsURL(t *testing.T) {
	for s, want := range map[string]bool{
		"http://localhost:9001": true, "unix:///tmp/s.sock": true, "localhost:9001": true,
		"foo": false, "http://": false, "9001:x": false, "": false, "a+b.c-d:x": true,
	} {
		if got := isURL(s); got != want {
			t.Errorf("isURL(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestPyIntArg(t *testing.T) {
	for s, want := range map[string]int{"100": 100, "+5": 5, "-3": -3, "1_000": 1000, " 7": 7, "\u0661\u0662": 12} {
		if got, ok := pyIntArg(s); !ok || got != want {
			t.Errorf("pyIntArg(%q) = %d %v, want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "x", "1__0", "_1", "1_", "--1", "0x10"} {
		if _, ok := pyIntArg(s); ok {
			t.Errorf("pyIntArg(%q) accepted", s)
		}
	}
}

func TestParseline(t *testing.T) {
	tests := []struct{ line, cmd, arg string }{
		{"  status  foo  ", "status", "foo"},
		{"status:foo", "status", ":foo"},
		{"? tail", "help", "tail"},
		{"tail-f x", "tail", "-f x"},
		{"*x", "", "*x"},
	}
	for _, tt := range tests {
		cmd, arg, _, _ := parseline(tt.line)
		if cmd != tt.cmd || arg != tt.arg {
			t.Errorf("parseline(%q) = %q, %q; want %q, %q", tt.line, cmd, arg, tt.cmd, tt.arg)
		}
	}
}

func TestColumnize(t *testing.T) {
	var out bytes.Buffer
	c := &controller{out: &out}
	words := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu")
	columnize(c, words, 30)
	want := "alpha  delta    eta    kappa \nbeta   epsilon  theta  lambda\ngamma  zeta     iota   mu    \n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestPyException(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&protocolError{Code: 500, Reason: "Internal Server Error"}, "error: <class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1/RPC2: 500 Internal Server Error>: file: /usr/lib/python3/dist-packages/supervisor/xmlrpc.py line: 539"},
		{&rpcFault{Code: 6, String: "SHUTDOWN_STATE"}, "error: <class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>: file: /usr/lib/python3.11/xmlrpc/client.py line: 668"},
		{&unknownResultError{code: 30, name: "foo", line: 761}, "error: <class 'ValueError'>, Unknown result code 30 for foo: file: /usr/lib/python3/dist-packages/supervisor/supervisorctl.py line: 761"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		c := &controller{out: &out}
		c.reportError(tt.err)
		if got := strings.TrimSuffix(out.String(), "\n"); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestDecodeAnswer(t *testing.T) {
	info := map[string]any{"name": "web", "group": "g", "description": "pid 3, uptime 0:00:01", "start": int64(1),
		"stop": int64(0), "now": int64(2), "state": int64(20), "statename": "RUNNING", "spawnerr": "", "exitstatus": int64(0),
		"logfile": "/l", "stdout_logfile": "/l", "stderr_logfile": "", "pid": int64(3)}
	var got []processInfo
	if err := decodeAnswer([]any{info}, reflect.ValueOf(&got).Elem()); err != nil {
		t.Fatal(err)
	}
	want := []processInfo{{Name: "web", Group: "g", Description: "pid 3, uptime 0:00:01", Start: 1, Now: 2, State: states.Running,
		StateName: "RUNNING", Logfile: "/l", StdoutLogfile: "/l", PID: 3}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	bad := []struct {
		name string
		v    any
		dst  any
	}{
		{"missing member", map[string]any{"name": "x"}, &processInfo{}},
		{"string for int", []any{map[string]any{"name": "a", "group": "a", "status": "80", "description": ""}}, &[]result{}},
		{"struct for list", map[string]any{}, &[]result{}},
		{"int for string", int64(3), new(string)},
		{"nested list type", []any{[]any{[]any{int64(1)}}}, &configChanges{}},
	}
	for _, tt := range bad {
		if err := decodeAnswer(tt.v, reflect.ValueOf(tt.dst).Elem()); err == nil {
			t.Errorf("%s: decoded %v without error", tt.name, tt.dst)
		}
	}
	var ch configChanges
	if err := decodeAnswer([]any{[]any{[]any{"a"}, []any{}, []any{"c"}}}, reflect.ValueOf(&ch).Elem()); err != nil {
		t.Fatal(err)
	}
	if a, c, r := ch.lists(); !reflect.DeepEqual(a, []string{"a"}) || len(c) != 0 || !reflect.DeepEqual(r, []string{"c"}) {
		t.Errorf("lists: %v %v %v", a, c, r)
	}
}
