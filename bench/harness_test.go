package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseSpecs(t *testing.T) {
	tests := []struct {
		in      string
		want    []Spec
		wantErr bool
	}{
		{in: "python=/usr/bin/supervisord,ours=", want: []Spec{
			{Name: "python", Path: "/usr/bin/supervisord", Args: defaultArgs},
			{Name: "ours", Path: "", Args: defaultArgs}}},
		{in: " a=/x , b=/y ", want: []Spec{{Name: "a", Path: "/x", Args: defaultArgs}, {Name: "b", Path: "/y", Args: defaultArgs}}},
		{in: "", wantErr: true},
		{in: "/usr/bin/supervisord", wantErr: true},
		{in: "a=/x,a=/y", wantErr: true},
		{in: "a b=/x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSpecs(tt.in, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSpecs(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseSpecs(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	got, err := ParseSpecs("x=/bin/x", []string{"-c", "{conf}"})
	if err != nil || len(got[0].Args) != 2 || got[0].Args[0] != "-c" {
		t.Errorf("custom args not kept: %+v, %v", got, err)
	}
}

func TestConfigGolden(t *testing.T) {
	l := NewLayout("/tmp/bench-x")
	progs := SleepPrograms(2, map[string]string{"stopwaitsecs": "3"})
	progs = append(progs, ShutdownPrograms(1)[0])
	progs[2].Name = "prio"
	got := l.Config(progs)
	golden := filepath.Join("testdata", "supervisord.conf.golden")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("config mismatch (-golden +got):\n%s", diff)
	}
}

func TestParseStatusAndCPU(t *testing.T) {
	status := "Name:\tsupervisord\nVmHWM:\t   50000 kB\nVmRSS:\t   48600 kB\nThreads:\t9\nSigQ:\t0/1\n"
	st, err := parseStatus([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if st.RSSKiB != 48600 || st.HWMKiB != 50000 || st.Threads != 9 {
		t.Errorf("parseStatus = %+v", st)
	}
	if got := st.RSSMiB(); math.Abs(got-47.4609375) > 1e-9 {
		t.Errorf("RSSMiB = %v", got)
	}
	if _, err := parseStatus([]byte("Name:\tx\n")); err == nil {
		t.Error("parseStatus without VmRSS/Threads: want error")
	}
	// the command name may contain spaces and parentheses
	stat := "1234 (python3 (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 1 0 5 0 0"
	cpu, err := parseCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(cpu-3.8) > 1e-9 {
		t.Errorf("parseCPU = %v, want 3.8", cpu)
	}
	if _, err := parseCPU([]byte("1234 (x) S 1 2")); err == nil {
		t.Error("parseCPU on a short line: want error")
	}
}

func TestProcReadersOnSelf(t *testing.T) {
	pid := os.Getpid()
	st, err := ReadStatus(pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.RSSKiB <= 0 || st.Threads < 1 || st.FDs < 3 {
		t.Errorf("ReadStatus(self) = %+v", st)
	}
	if _, err := CPUSeconds(pid); err != nil {
		t.Error(err)
	}
	if rt, err := RunTime(pid); err != nil || rt <= 0 {
		t.Errorf("RunTime(self) = %v, %v", rt, err)
	}
	if f := strings.Fields(LoadAvg()); len(f) != 3 {
		t.Errorf("LoadAvg() = %q", LoadAvg())
	}
	if !Alive(pid) || Alive(1<<30) {
		t.Error("Alive: wrong answer for self or an impossible pid")
	}
}

func TestCountStates(t *testing.T) {
	member := func(name, val string) string {
		return "<member>\n<name>" + name + "</name>\n<value>" + val + "</value>\n</member>\n"
	}
	// Python's layout: one struct per process, members on their own lines
	var py strings.Builder
	py.WriteString("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n")
	for _, s := range []int{20, 20, 10, 200} {
		py.WriteString("<value><struct>\n" + member("statename", "<string>X</string>") +
			member("state", fmt.Sprintf("<int>%d</int>", s)) + member("pid", "<int>7</int>") + "</struct></value>\n")
	}
	py.WriteString("</data></array></value>\n</param>\n</params>\n</methodResponse>\n")
	compact := `<methodResponse><params><param><value><array><data><value><struct><member><name>state</name><value><i4>20</i4></value></member></struct></value><value><struct><member><name>state</name><value> <int> 30 </int></value></member></struct></value></data></array></value></param></params></methodResponse>`
	tests := []struct {
		name         string
		body         string
		want         []int
		match, total int
	}{
		{"python running", py.String(), []int{StateRunning}, 2, 4},
		{"python any of", py.String(), []int{StateStarting, StateFatal}, 2, 4},
		{"compact i4 and spaces", compact, []int{StateRunning, StateBackoff}, 2, 2},
		{"string state ignored", "<name>state</name><value><string>20</string></value>", []int{20}, 0, 0},
		{"empty", "", []int{20}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, n := CountStates([]byte(tt.body), tt.want...)
			if m != tt.match || n != tt.total {
				t.Errorf("CountStates = %d, %d; want %d, %d", m, n, tt.match, tt.total)
			}
		})
	}
}

func TestMethodCallDecodes(t *testing.T) {
	body := MethodCall("supervisor.startProcess", "a<b", 3, true, false)
	for _, want := range []string{"<methodName>supervisor.startProcess</methodName>", "<string>a&lt;b</string>",
		"<int>3</int>", "<boolean>1</boolean>", "<boolean>0</boolean>"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("MethodCall body lacks %q:\n%s", want, body)
		}
	}
	var got map[string]any
	resp := "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>statecode</name>\n<value><int>1</int></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n"
	if err := Decode([]byte(resp), &got); err != nil {
		t.Fatal(err)
	}
	if got["statecode"] != int64(1) {
		t.Errorf("Decode = %#v", got)
	}
	fault := "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: x</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n"
	if err := Decode([]byte(fault), nil); err == nil || !strings.Contains(err.Error(), "BAD_NAME") {
		t.Errorf("Decode(fault) = %v, want BAD_NAME fault", err)
	}
	if err := Decode([]byte("<html>nope</html>"), nil); err == nil {
		t.Error("Decode(html): want error")
	}
}

// fakeServer serves canned HTTP responses on a unix socket: each accepted
// connection reads requests and answers with respond(n) for the n-th
// request overall.
type fakeServer struct {
	sock    string
	ln      net.Listener
	accepts atomic.Int32
	reqs    atomic.Int32
}

func newFakeServer(t *testing.T, respond func(n int, body []byte) string) *fakeServer {
	t.Helper()
	f := &fakeServer{sock: filepath.Join(t.TempDir(), "f.sock")}
	ln, err := net.Listen("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.accepts.Add(1)
			go func(c net.Conn) {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					body, _ := io.ReadAll(req.Body)
					if req.Method != "POST" || req.URL.Path != "/RPC2" || req.Header.Get("Content-Type") != "text/xml" {
						_, _ = io.WriteString(c, "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
						return
					}
					out := respond(int(f.reqs.Add(1)), body)
					if _, err := io.WriteString(c, out); err != nil {
						return
					}
					if strings.Contains(out, "Connection: close") {
						return
					}
				}
			}(c)
		}
	}()
	return f
}

const okBody = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>1</int></value>\n</param>\n</params>\n</methodResponse>\n"

func withLength(extra string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n%sContent-Length: %d\r\n\r\n%s", extra, len(okBody), okBody)
}

func chunked() string {
	half := len(okBody) / 2
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x;ext=1\r\n%s\r\n0\r\nX-Trailer: y\r\n\r\n",
		half, okBody[:half], len(okBody)-half, okBody[half:])
}

func TestClientFraming(t *testing.T) {
	tests := []struct {
		name      string
		respond   string
		wantDials int
		wantErr   bool
	}{
		{"content-length keep-alive", withLength(""), 1, false},
		{"chunked keep-alive", chunked(), 1, false},
		{"connection close", withLength("Connection: close\r\n"), 3, false},
		{"http/1.0 no length", "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n" + okBody, 3, false},
		{"500 is an error", "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, func(int, []byte) string { return tt.respond })
			c := NewClient(f.sock, 5*time.Second)
			defer c.Close()
			req := NewRequest(MethodCall("supervisor.getState"))
			for i := 0; i < 3; i++ {
				body, err := c.Do(req)
				if (err != nil) != tt.wantErr {
					t.Fatalf("call %d: err = %v, wantErr %v", i, err, tt.wantErr)
				}
				if !tt.wantErr && string(body) != okBody {
					t.Fatalf("call %d: body = %q", i, body)
				}
			}
			if c.Dials != tt.wantDials {
				t.Errorf("dials = %d, want %d", c.Dials, tt.wantDials)
			}
		})
	}
}

func TestClientTruncatedBody(t *testing.T) {
	f := newFakeServer(t, func(int, []byte) string {
		return "HTTP/1.1 200 OK\r\nContent-Length: 500\r\nConnection: close\r\n\r\nshort"
	})
	c := NewClient(f.sock, 2*time.Second)
	defer c.Close()
	if _, err := c.Do(NewRequest(MethodCall("x"))); err == nil {
		t.Fatal("truncated body: want error")
	}
}

func TestRunLoadAndLatency(t *testing.T) {
	f := newFakeServer(t, func(_ int, body []byte) string {
		if !strings.Contains(string(body), "supervisor.getState") {
			return "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n"
		}
		return withLength("")
	})
	req := NewRequest(MethodCall("supervisor.getState"))
	// A window long enough for a loaded box to schedule all four clients
	// (a client never scheduled in it dials nothing).
	r, err := RunLoad(f.sock, req, 4, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.Calls < 4 || r.Errors != 0 || r.Dials != 4 || r.PerSecond <= 0 || r.Latency.N != int(r.Calls) {
		t.Errorf("RunLoad = %+v", r)
	}
	// 4 load connections + the validation connection
	if got := f.accepts.Load(); got != 5 {
		t.Errorf("server accepted %d connections, want 5", got)
	}
	lat, size, err := Latency(f.sock, req, 20, 30*time.Second)
	if err != nil || len(lat) != 20 || size != len(okBody) {
		t.Errorf("Latency = %d samples, size %d, %v", len(lat), size, err)
	}
	lat, _, err = LatencyBudget(f.sock, req, 1000, time.Nanosecond)
	if err != nil || len(lat) != 3 {
		t.Errorf("LatencyBudget with no budget = %d samples (%v), want the minimum 3", len(lat), err)
	}
	if _, err := RunLoad(filepath.Join(t.TempDir(), "none.sock"), req, 1, time.Millisecond); err == nil {
		t.Error("RunLoad on a missing socket: want error")
	}
}

func TestSummarize(t *testing.T) {
	var xs []time.Duration
	for i := 100; i >= 1; i-- {
		xs = append(xs, time.Duration(i)*time.Millisecond)
	}
	s := Summarize(xs)
	if s.N != 100 || s.Min != time.Millisecond || s.Max != 100*time.Millisecond ||
		s.P50 != 51*time.Millisecond || s.P99 != 99*time.Millisecond || s.Mean != 50500*time.Microsecond {
		t.Errorf("Summarize = %+v", s)
	}
	if (Summarize(nil) != Stats{}) {
		t.Error("Summarize(nil) not zero")
	}
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 2, 3}, 2.5}} {
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestMainLogParsers(t *testing.T) {
	evs, err := ParseMainLog(filepath.Join("testdata", "main.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 16 {
		t.Errorf("%d events, want 16 (continuation line skipped)", len(evs))
	}
	gaps := RespawnGaps(evs, "r")
	if diff := cmp.Diff([]time.Duration{1004 * time.Millisecond, 1054 * time.Millisecond}, gaps); diff != "" {
		t.Errorf("RespawnGaps mismatch (-want +got):\n%s", diff)
	}
	if g := RespawnGaps(evs, "p0001"); len(g) != 0 {
		t.Errorf("RespawnGaps(p0001) = %v, want none", g)
	}
	order := StoppedOrder(evs)
	if diff := cmp.Diff([]string{"r", "p0002", "p0001"}, order); diff != "" {
		t.Errorf("StoppedOrder mismatch (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		names []string
		want  int
	}{{[]string{"p0003", "p0002", "p0001"}, 0}, {[]string{"p0001", "p0002", "p0003"}, 2}, {[]string{"p0002", "p0003", "p0001"}, 1}, {nil, 0}} {
		if got := Inversions(tt.names); got != tt.want {
			t.Errorf("Inversions(%v) = %d, want %d", tt.names, got, tt.want)
		}
	}
}

func TestChildTimes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ev")
	data := "s 100.000000\ne 100.000500\ns 100.002500\ne 100.003000\ns 101,003000\ngarbage\n"
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	gaps, starts, err := ChildTimes(p)
	if err != nil {
		t.Fatal(err)
	}
	if starts != 3 || len(gaps) != 2 {
		t.Fatalf("starts %d gaps %v", starts, gaps)
	}
	if d := gaps[0] - 2*time.Millisecond; d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("gap[0] = %v, want 2ms", gaps[0])
	}
	if d := gaps[1] - time.Second; d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("gap[1] = %v, want 1s (comma decimal separator)", gaps[1])
	}
}

func TestResultsTableAndJSON(t *testing.T) {
	r := NewResults("python", []string{"python", "ours"})
	lat := Figure{ID: "lat", Title: "latency", Unit: "ms", Target: 5, HasTarget: true}
	tput := Figure{ID: "tput", Title: "throughput", Unit: "calls/s", Better: Higher}
	idle := Figure{ID: "idle", Title: "idle", Unit: "cpu-s"}
	r.Record(lat, "python", 500)
	r.Record(lat, "ours", 4)
	r.Record(tput, "python", 1000)
	r.Record(tput, "ours", 20000)
	r.Record(idle, "python", 0.04)
	r.Record(idle, "ours", 0)
	r.Fail(Figure{ID: "bad", Title: "broken", Unit: "ms"}, "ours", errors.New("daemon exited\nrc=1"))
	r.Note(tput, "ours", "8 clients")
	r.SetMeta("loadavg at start", "1.00 2.00 3.00")
	if x, ok := r.Ratio(lat, "ours"); !ok || x != 125 {
		t.Errorf("lower-is-better ratio = %v, %v; want 125", x, ok)
	}
	if x, ok := r.Ratio(tput, "ours"); !ok || x != 20 {
		t.Errorf("higher-is-better ratio = %v, %v; want 20", x, ok)
	}
	if x, ok := r.Ratio(idle, "ours"); !ok || !math.IsInf(x, 1) {
		t.Errorf("ratio against a zero reading = %v, %v; want +Inf", x, ok)
	}
	info := Figure{ID: "disk", Title: "disk", Unit: "MiB/s", NoRatio: true}
	r.Record(info, "python", 100)
	r.Record(info, "ours", 300)
	if _, ok := r.Ratio(info, "ours"); ok {
		t.Error("NoRatio figure has a ratio")
	}
	if _, ok := r.Ratio(lat, "python"); ok {
		t.Error("baseline has no ratio against itself")
	}
	got := r.Table()
	golden := filepath.Join("testdata", "table.golden")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("table mismatch (-golden +got):\n%s", diff)
	}
	js, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"baseline": "python"`, `"ours": 125`, `"ours": 20`, `"daemon exited\nrc=1"`, `"loadavg at start": "1.00 2.00 3.00"`, `"better": "higher"`, `"better": "lower"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON lacks %s:\n%s", want, js)
		}
	}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
}

func TestFormatValue(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{{0, "0"}, {12345.6, "12346"}, {123.45, "123.5"}, {1.234, "1.23"}, {0.01234, "0.0123"}} {
		if got := FormatValue(tt.v); got != tt.want {
			t.Errorf("FormatValue(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// TestHarnessAgainstPython drives a real Python supervisord through the
// launcher, the raw client and the /proc readers (no timing asserted), and
// checks the subreaper cleanup catches what a SIGKILLed daemon leaves.
func TestHarnessAgainstPython(t *testing.T) {
	const py = "/usr/bin/supervisord"
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no Python supervisord: %v", err)
	}
	spec := Spec{Name: "python", Path: py, Args: defaultArgs}
	d, st, err := LaunchAndWait(spec, t.TempDir(), SleepPrograms(3, nil), DefaultOptions(true))
	if d != nil {
		defer func() { d.Stop(time.Second); ReapOrphans(time.Second) }()
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.N != 3 || st.FirstAnswer <= 0 || st.AllRunning < st.FirstAnswer || st.Polls < 1 {
		t.Errorf("startup = %+v", st)
	}
	c := d.Client(10 * time.Second)
	defer c.Close()
	var infos []map[string]any
	if err := c.Call(&infos, "supervisor.getAllProcessInfo"); err != nil {
		t.Fatal(err)
	}
	if len(infos) != 3 || infos[0]["name"] != "p0000" {
		t.Errorf("getAllProcessInfo = %v", infos)
	}
	if err := c.Call(nil, "supervisor.getProcessInfo", "nope"); err == nil || !strings.Contains(err.Error(), "BAD_NAME") {
		t.Errorf("getProcessInfo(nope) = %v, want BAD_NAME fault", err)
	}
	if s, err := ReadStatus(d.Pid()); err != nil || s.RSSKiB == 0 || s.Threads < 1 {
		t.Errorf("ReadStatus(daemon) = %+v, %v", s, err)
	}
	kids := ChildrenOf(d.Pid())
	if len(kids) != 3 {
		t.Fatalf("daemon has %d children, want 3", len(kids))
	}
	// SIGKILL leaves the three sleeps behind; they are re-parented to us.
	if err := d.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.Done()
	time.Sleep(50 * time.Millisecond)
	found, left := ReapOrphans(time.Second)
	if found != 3 || left != 0 {
		t.Errorf("ReapOrphans = found %d, left %d; want 3, 0", found, left)
	}
	for _, k := range kids {
		if Alive(k.Pid) {
			t.Errorf("child %d still alive", k.Pid)
		}
	}
}

// TestMeasurePipeCopy moves bytes through a pipe with the writer on the
// reader's CPU and on another, and checks every byte reached the file and
// both threads' CPU was counted.
func TestMeasurePipeCopy(t *testing.T) {
	a, b, ok := twoCPUs()
	if !ok {
		t.Skip("needs two CPUs")
	}
	for _, tc := range []struct {
		name           string
		writer, reader int
		nbytes         int64
	}{
		{"same CPU", b, b, 8 << 20},
		{"other CPU", a, b, 8 << 20},
		{"not a multiple of the write size", a, b, 3<<20 + 17},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := MeasurePipeCopy(t.TempDir(), tc.nbytes, tc.writer, tc.reader)
			if err != nil {
				t.Fatal(err)
			}
			if r.ReaderCPU <= 0 || r.WriterCPU <= 0 || r.Splices < 1 {
				t.Errorf("got %+v, want CPU counted on both threads and at least one splice", r)
			}
		})
	}
	if _, err := MeasurePipeCopy(t.TempDir(), 1<<20, -1, b); err == nil {
		t.Error("pinning to CPU -1: want an error")
	}
}
