package rpc

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/logrot"
	"github.com/gosupervisor/gosupervisor/procman"
)

func dial(t testing.TB, sock string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func statusLine(resp []byte) string {
	line, _, _ := bytes.Cut(resp, []byte("\r\n"))
	return string(line)
}

func TestKeepAliveSeveralRequests(t *testing.T) {
	sock, _ := startServer(t, dispatchBackend(t), nil, Options{})
	c, br := dial(t, sock)
	for i := 0; i < 5; i++ {
		if _, err := c.Write(rpcRequest(call("supervisor.getPID"))); err != nil {
			t.Fatal(err)
		}
		resp, err := readResponse(br, c, time.Second)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if !strings.Contains(bodyOf(resp), "<int>4242</int>") {
			t.Fatalf("request %d: %q", i, resp)
		}
	}
}

func TestPipelinedWithStrayCRLFAndEmptyHost(t *testing.T) {
	sock, _ := startServer(t, dispatchBackend(t), nil, Options{})
	body := call("supervisor.getAPIVersion")
	req := fmt.Sprintf("POST /RPC2 HTTP/1.1\r\nHost: \r\nContent-Length: %d\r\n\r\n%s\r\n\r\n", len(body), body)
	got := exchange(t, sock, []byte(req+req), 2)
	if n := strings.Count(string(got), "HTTP/1.1 200 OK"); n != 2 {
		t.Fatalf("got %d OK responses: %q", n, got)
	}
}

func TestExpectContinue(t *testing.T) {
	sock, _ := startServer(t, dispatchBackend(t), nil, Options{})
	c, br := dial(t, sock)
	body := call("supervisor.getAPIVersion")
	fmt.Fprintf(c, "POST /RPC2 HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("got %q %v", line, err)
	}
	br.ReadString('\n')
	c.Write([]byte(body))
	resp, err := readResponse(br, c, time.Second)
	if err != nil || !strings.Contains(bodyOf(resp), "3.0") {
		t.Errorf("%q %v", resp, err)
	}
}

func TestConnectionClose(t *testing.T) {
	sock, _ := startServer(t, dispatchBackend(t), nil, Options{})
	for _, tc := range []struct {
		name, req string
		closes    bool
	}{
		{"1.1 default", "POST /RPC2 HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s", false},
		{"1.1 close", "POST /RPC2 HTTP/1.1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", true},
		{"1.0 default", "POST /RPC2 HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s", true},
		{"1.0 keep-alive", "POST /RPC2 HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: %d\r\n\r\n%s", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, br := dial(t, sock)
			body := call("supervisor.getAPIVersion")
			fmt.Fprintf(c, tc.req, len(body), body)
			resp, err := readResponse(br, c, time.Second)
			if err != nil || statusLine(resp) == "" {
				t.Fatalf("%q %v", resp, err)
			}
			// Waiting for the close may take a loaded box a while;
			// a connection kept open shows as the read timing out.
			wait := 300 * time.Millisecond
			if tc.closes {
				wait = 30 * time.Second
			}
			c.SetReadDeadline(time.Now().Add(wait))
			_, err = br.ReadByte()
			closed := err == io.EOF
			if closed != tc.closes {
				t.Errorf("closed=%v (err %v), want %v", closed, err, tc.closes)
			}
		})
	}
}

func TestHTTPErrors(t *testing.T) {
	sock, _ := startServer(t, dispatchBackend(t), nil, Options{MaxBodyBytes: 1024, MaxHeaderBytes: 2048})
	tests := []struct {
		name, req, status string
	}{
		{"get rpc2", "GET /RPC2 HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"no length", "POST /RPC2 HTTP/1.1\r\n\r\n", "HTTP/1.1 411 Length Required"},
		{"chunked body", "POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 411 Length Required"},
		{"body too large", "POST /RPC2 HTTP/1.1\r\nContent-Length: 4096\r\n\r\n", "HTTP/1.1 413 Request Entity Too Large"},
		{"bad length", "POST /RPC2 HTTP/1.1\r\nContent-Length: x\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"head too large", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 4096) + "\r\n\r\n", "HTTP/1.1 431 Request Header Fields Too Large"},
		{"garbage line", "HELLO\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"bad header", "GET / HTTP/1.1\r\nno colon\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"bad xml", "POST /RPC2 HTTP/1.1\r\nContent-Length: 5\r\n\r\n<a><b", "HTTP/1.1 400 Bad Request"},
		{"http 2", "GET / HTTP/2.0\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported"},
		{"logtail unknown", "GET /logtail/nosuch HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"},
		{"logtail group", "GET /logtail/g:* HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"},
		{"logtail bad channel", "GET /logtail/solo/stdin HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"},
		{"logtail no file", "GET /logtail/solo/stderr HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"},
		{"mainlogtail post", "POST /mainlogtail HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"static put", "PUT /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"ui bad action", "GET /?action=explode HTTP/1.1\r\n\r\n", "HTTP/1.1 500 Internal Server Error"},
		{"ui action without name", "GET /?action=start HTTP/1.1\r\n\r\n", "HTTP/1.1 500 Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exchange(t, sock, []byte(tt.req), 1)
			if statusLine(got) != tt.status {
				t.Errorf("got %q, want %q", statusLine(got), tt.status)
			}
			if !bytes.Contains(got, []byte("\r\nServer: Medusa/1.12\r\nDate: ")) {
				t.Errorf("missing Server/Date headers: %q", got)
			}
		})
	}
}

func TestBadRequestsAreLogged(t *testing.T) {
	var mu sync.Mutex
	var logs []string
	sock, _ := startServer(t, dispatchBackend(t), nil, Options{ErrorLog: func(m string) {
		mu.Lock()
		logs = append(logs, m)
		mu.Unlock()
	}})
	exchange(t, sock, rpcRequest("<methodCall><methodName>x</methodName>"), 1)
	exchange(t, sock, rpcRequest("<methodCall><params></params></methodCall>"), 1)
	exchange(t, sock, rpcRequest(call("supervisor.getProcessInfo", "<int>5</int>")), 1)
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"XML-RPC request data '<methodCall><methodName>x</methodName>' is invalid: unmarshallable",
		"XML-RPC request data '<methodCall><params></params></methodCall>' is invalid: no method name",
	}
	if len(logs) != 3 || logs[0] != want[0] || logs[1] != want[1] || !strings.Contains(logs[2], "AttributeError") {
		t.Errorf("logs %q", logs)
	}
}

func TestSlowClientTimesOut(t *testing.T) {
	sock, _ := startServer(t, dispatchBackend(t), nil, Options{ReadTimeout: 200 * time.Millisecond, IdleTimeout: 400 * time.Millisecond})
	// a request that never completes
	c, br := dial(t, sock)
	c.Write([]byte("POST /RPC2 HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc"))
	// the server must close it (ReadTimeout) long before our deadline
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(br); err != nil {
		t.Fatalf("read: %v", err)
	}
	// an idle keep-alive connection is closed too
	c2, br2 := dial(t, sock)
	c2.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(br2); err != nil {
		t.Fatalf("idle read: %v", err)
	}
}

// TestBlockingCallDoesNotStallOthers: getState is answered while a
// waited startProcess is still blocked in the backend (its gate closed).
func TestBlockingCallDoesNotStallOthers(t *testing.T) {
	b := dispatchBackend(t)
	b.startGate, b.startEntered = make(chan struct{}), make(chan struct{}, 1)
	sock, _ := startServer(t, b, nil, Options{})
	done := make(chan []byte)
	go func() {
		done <- exchange(t, sock, rpcRequest(call("supervisor.startProcess", "<string>g:p2</string>", "<boolean>1</boolean>")), 1)
	}()
	<-b.startEntered
	answered := make(chan []byte, 1)
	go func() { answered <- exchange(t, sock, rpcRequest(call("supervisor.getState")), 1) }()
	var got []byte
	select {
	case got = <-answered:
	case <-time.After(30 * time.Second): // never, unless calls are serialized
		close(b.startGate)
		t.Fatal("getState is stuck behind a blocked startProcess")
	}
	select {
	case blocked := <-done:
		t.Fatalf("start returned before its gate opened: %q", blocked)
	default:
	}
	close(b.startGate)
	if !strings.Contains(string(got), "RUNNING") {
		t.Errorf("getState: %q", got)
	}
	blocked := <-done
	if !strings.Contains(bodyOf(blocked), "<boolean>1</boolean>") {
		t.Errorf("start: %q", blocked)
	}
	info, _ := b.ProcessInfo("g:p2")
	if info.State != procman.Running {
		t.Errorf("start returned before RUNNING: %d", info.State)
	}
}

func TestManyConcurrentClients(t *testing.T) {
	sock, _ := startServer(t, dispatchBackend(t), nil, Options{})
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("unix", sock)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for j := 0; j < 5; j++ {
				c.Write(rpcRequest(call("supervisor.getState")))
				resp, err := readResponse(br, c, time.Second)
				if err != nil || statusLine(resp) != "HTTP/1.1 200 OK" {
					errs <- fmt.Sprintf("%v %q", err, statusLine(resp))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func basic(user, pass string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestAuth(t *testing.T) {
	b := dispatchBackend(t)
	plain, _ := startServer(t, b, &Credentials{Username: "user", Password: "123"}, Options{})
	sha, _ := startServer(t, b, &Credentials{Username: "user", Password: "{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"}, Options{})
	upper, _ := startServer(t, b, &Credentials{Username: "user", Password: "{SHA}A94A8FE5CCB19BA61C4C0873D391E987982FBBD3"}, Options{})
	tests := []struct {
		name, sock, header, status string
	}{
		{"plain ok", plain, basic("user", "123"), "200"},
		{"plain wrong", plain, basic("user", "1234"), "401"},
		{"plain wrong user", plain, basic("root", "123"), "401"},
		{"plain sha of it", plain, basic("user", "{SHA}123"), "401"},
		{"no header", plain, "X-Nothing: 1", "401"},
		{"digest", plain, "Authorization: Digest abc", "401"},
		{"scheme case", plain, "authorization: bAsIc " + base64.StdEncoding.EncodeToString([]byte("user:123")), "200"},
		{"no colon", plain, "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("user")), "401"},
		{"bad base64", plain, "Authorization: Basic a", "400"},
		{"colon in password", plain, basic("user", "123:"), "401"},
		{"sha ok", sha, basic("user", "test"), "200"},
		{"sha wrong", sha, basic("user", "tes"), "401"},
		{"sha hash as password", sha, basic("user", "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"), "401"},
		{"sha uppercase config never matches", upper, basic("user", "test"), "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exchange(t, tt.sock, rpcRequest(call("supervisor.getAPIVersion"), tt.header), 1)
			if s := statusLine(got); !strings.Contains(s, " "+tt.status+" ") {
				t.Fatalf("status %q, want %s", s, tt.status)
			}
			if tt.status == "401" {
				for _, h := range []string{"\r\nConnection: close\r\n", "\r\nWWW-Authenticate: Basic realm=\"default\"\r\n"} {
					if !bytes.Contains(got, []byte(h)) {
						t.Errorf("missing %q in %q", h, got)
					}
				}
			}
		})
	}
	// every route is protected
	for _, path := range []string{"/RPC2", "/logtail/solo", "/mainlogtail", "/", "/index.html?action=stopall", "/tail.html?processname=solo", "/ok.html", "/stylesheets/supervisor.css", "/images", "/nosuch"} {
		got := exchange(t, plain, []byte("GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"), 1)
		if s := statusLine(got); s != "HTTP/1.1 401 Unauthorized" {
			t.Errorf("GET %s without auth: %q", path, s)
		}
	}
	if s := statusLine(exchange(t, plain, []byte("POST /RPC2 HTTP/1.1\r\n\r\n"), 1)); s != "HTTP/1.1 401 Unauthorized" {
		t.Errorf("POST without length or auth: %q", s)
	}
	if c := b.Calls(); len(c) != 0 {
		t.Errorf("unauthenticated requests reached the backend: %v", c)
	}
	got := exchange(t, plain, []byte("GET /ok.html HTTP/1.1\r\n"+basic("user", "123")+"\r\n\r\n"), 1)
	if bodyOf(got) != "OK" {
		t.Errorf("authorized ok.html: %q", got)
	}
}

func TestLogtailFollow(t *testing.T) {
	b := dispatchBackend(t)
	solo := b.groups["solo"][0]
	big := strings.Repeat("x", 2000) + "tail-start\n"
	os.WriteFile(solo.stderr, []byte(big), 0o600)
	sock, _ := startServer(t, b, nil, Options{Follower: logrot.Files{Poll: 20 * time.Millisecond}})
	c, br := dial(t, sock)
	// the tail -f client: empty Host, stray CRLF
	c.Write([]byte("GET /logtail/solo/stderr HTTP/1.1\r\nHost: \r\nAccept-Encoding: chunked\r\nAccept: */*\r\nUser-agent: Supervisor HTTP Client\r\n\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var head []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
		head = append(head, strings.TrimSpace(line))
	}
	want := []string{"HTTP/1.1 200 OK", "Server: Medusa/1.12", "Date", "Last-Modified", "Content-Type: text/plain;charset=utf-8", "X-Accel-Buffering: no", "Transfer-Encoding: chunked"}
	if len(head) != len(want) {
		t.Fatalf("head %q", head)
	}
	for i := range want {
		if !strings.HasPrefix(head[i], want[i]) {
			t.Errorf("header %d: %q, want %q", i, head[i], want[i])
		}
	}
	readChunk := func() string {
		var n int
		if _, err := fmt.Fscanf(br, "%x\r\n", &n); err != nil {
			t.Fatalf("chunk size: %v", err)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	var first string
	for len(first) < 1024 {
		first += readChunk()
	}
	if first != big[len(big)-1024:] {
		t.Errorf("first chunk is not the last 1024 bytes: %q", first)
	}
	f, _ := os.OpenFile(solo.stderr, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("err line\n")
	f.Close()
	if got := readChunk(); got != "err line\n" {
		t.Errorf("appended chunk %q", got)
	}
	os.WriteFile(solo.stderr, []byte("new\n"), 0o600)
	if got := readChunk(); got != "==> File truncated <==\n" {
		t.Errorf("truncation chunk %q", got)
	}
	if got := readChunk(); got != "new\n" {
		t.Errorf("after truncation %q", got)
	}
	// rotation: the path now names a new file
	os.Rename(solo.stderr, solo.stderr+".1")
	os.WriteFile(solo.stderr, []byte("rotated\n"), 0o600)
	if got := readChunk(); got != "rotated\n" {
		t.Errorf("after rotation %q", got)
	}
}

func TestMainLogtailAndShutdownEndsStreams(t *testing.T) {
	b := dispatchBackend(t)
	sock, srv := startServer(t, b, nil, Options{Follower: logrot.Files{Poll: 20 * time.Millisecond}})
	c, br := dial(t, sock)
	c.Write([]byte("GET /mainlogtail HTTP/1.1\r\nHost: \r\n\r\n"))
	resp := readUntil(br, c, []byte("9\r\nerr line\n\r\n"), 30*time.Second)
	if !bytes.Contains(resp, []byte("9\r\nerr line\n\r\n")) || bytes.Contains(resp, []byte("X-Accel")) {
		t.Fatalf("mainlogtail: %q", resp)
	}
	done := make(chan error)
	go func() { done <- srv.Shutdown(t.Context()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Shutdown blocked on a log stream")
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(br); err != nil {
		t.Errorf("stream not closed: %v", err)
	}
}

func TestWebUI(t *testing.T) {
	b := dispatchBackend(t)
	sock, _ := startServer(t, b, nil, Options{})
	page := exchange(t, sock, []byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 1)
	for _, want := range []string{"HTTP/1.1 200 OK", "Content-Type: text/html;charset=utf-8", "Pragma: no-cache", "Cache-Control: no-cache",
		"Expires: Thu, 01 Jan 1970 00:00:00 GMT", ">running<", ">stopped<", "g:p1", "solo", "action=stop", "action=restart", "action=start",
		"logtail/g%3Ap1/stderr", "Not started", "pid 11, uptime"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if i, j := bytes.Index(page, []byte(">g:p1<")), bytes.Index(page, []byte(">solo<")); i < 0 || j < i {
		t.Errorf("rows not sorted by group")
	}
	tests := []struct {
		req, location string
	}{
		{"GET /index.html?processname=g%3Ap1&action=stop HTTP/1.1\r\nHost: myhost:9001\r\n\r\n", "http://myhost:9001/?message=Process%20g%3Ap1%20stopped"},
		{"GET /?processname=g:p1&action=start HTTP/1.1\r\nHost: myhost:9001\r\n\r\n", "http://myhost:9001/?message=Process%20g%3Ap1%20started"},
		{"GET /?processname=g:p1&action=start HTTP/1.1\r\nHost: h\r\n\r\n", "http://h/?message=ERROR%3A%20Process%20g%3Ap1%3A%20already%20started"},
		{"GET /?processname=solo&action=stop HTTP/1.1\r\nHost: h\r\n\r\n", "http://h/?message=unexpected%20rpc%20fault%20%5B70%5D%20NOT_RUNNING%3A%20solo"},
		{"GET /?processname=nosuch&action=start HTTP/1.1\r\nHost: h\r\n\r\n", "http://h/?message=No%20such%20process%20named%20nosuch"},
		{"GET /?processname=solo&action=clearlog HTTP/1.1\r\nHost: h\r\n\r\n", "http://h/?message=Log%20for%20solo%20cleared"},
		{"GET /?processname=g:p1&action=restart HTTP/1.1\r\nHost: h:80\r\n\r\n", "http://h/?message=Process%20g%3Ap1%20restarted"},
		{"POST /index.html HTTP/1.1\r\nHost: h\r\nContent-Length: 15\r\n\r\naction=stopall&", "http://h/?message=All%20stopped%20at%20"},
		{"GET /?action=restartall HTTP/1.1\r\n\r\n", "http:///?message=All%20restarted%20at%20"},
	}
	for _, tt := range tests {
		got := exchange(t, sock, []byte(tt.req), 1)
		if statusLine(got) != "HTTP/1.1 301 Moved Permanently" {
			t.Errorf("%q: %q", tt.req, statusLine(got))
			continue
		}
		loc := ""
		for _, l := range strings.Split(string(got), "\r\n") {
			if v, ok := strings.CutPrefix(l, "Location: "); ok {
				loc = v
			}
		}
		if !strings.HasPrefix(loc, strings.Replace(tt.location, "http:///", "http://<unix domain socket>:"+sock+"/", 1)) {
			t.Errorf("%q: Location %q, want %q", tt.req, loc, tt.location)
		}
	}
	msg := exchange(t, sock, []byte("GET /?message=Hello%20%3Cb%3E HTTP/1.1\r\n\r\n"), 1)
	if !bytes.Contains(msg, []byte("Hello &lt;b&gt;")) {
		t.Errorf("message not shown escaped")
	}
	tail := exchange(t, sock, []byte("GET /tail.html?processname=solo HTTP/1.1\r\n\r\n"), 1)
	if !bytes.Contains(tail, []byte("<pre>err line\n</pre>")) || !bytes.Contains(tail, []byte("tail.html?processname=solo&amp;limit=1024")) {
		t.Errorf("tail page: %q", tail)
	}
	tail = exchange(t, sock, []byte("GET /tail.html?processname=g:p1 HTTP/1.1\r\n\r\n"), 1)
	if !bytes.Contains(tail, []byte("No file for g:p1")) {
		t.Errorf("tail page without file: %q", tail)
	}
	tail = exchange(t, sock, []byte("GET /tail.html HTTP/1.1\r\n\r\n"), 1)
	if !bytes.Contains(tail, []byte("No process name found")) {
		t.Errorf("tail page without name: %q", tail)
	}
	css := exchange(t, sock, []byte("GET /stylesheets/supervisor.css HTTP/1.1\r\n\r\n"), 1)
	if statusLine(css) != "HTTP/1.1 200 OK" {
		t.Errorf("css: %q", statusLine(css))
	}
}

func TestInvalidLogBytesStayWellFormed(t *testing.T) {
	b := dispatchBackend(t)
	solo := b.groups["solo"][0]
	os.WriteFile(solo.stdout, []byte("ok \x1b[31mred\x1b[0m \xff\xfe cut\xe2\x98"), 0o600)
	sock, _ := startServer(t, b, nil, Options{})
	got := exchange(t, sock, rpcRequest(call("supervisor.readProcessStdoutLog", "<string>solo</string>", "<int>0</int>", "<int>0</int>")), 1)
	if statusLine(got) != "HTTP/1.1 200 OK" {
		t.Fatalf("%q", got)
	}
	if !strings.Contains(bodyOf(got), "<string>ok \uFFFD[31mred\uFFFD[0m \uFFFD\uFFFD cut\uFFFD\uFFFD</string>") {
		t.Errorf("body %q", bodyOf(got))
	}
}

func TestListenUnix(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "x.sock")
	cfg := ListenConfig{Section: "unix_http_server", Family: "unix", File: sock, Chmod: 0o760, ChownUID: -1, ChownGID: -1}
	l, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Lstat(sock)
	if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o760 {
		t.Fatalf("socket mode %v %v", st.Mode(), err)
	}
	if _, err := os.Lstat(fmt.Sprintf("%s.%d", sock, os.Getpid())); !os.IsNotExist(err) {
		t.Errorf("temporary socket left behind: %v", err)
	}
	// a live socket is never clobbered
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if _, err := Listen(cfg); err == nil || !strings.Contains(err.Error(), "Another program is already listening") {
		t.Fatalf("second Listen on a live socket: %v", err)
	}
	if _, err := os.Lstat(sock); err != nil {
		t.Fatalf("live socket removed: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("Close left the socket file: %v", err)
	}
	// a stale socket (nobody listening) is replaced
	ul, _ := net.Listen("unix", sock)
	ul.(*net.UnixListener).SetUnlinkOnClose(false)
	ul.Close()
	l2, err := Listen(cfg)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	if !l2.StaleRemoved || l.StaleRemoved {
		t.Errorf("StaleRemoved: %v then %v", l.StaleRemoved, l2.StaleRemoved)
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatalf("dial replaced socket: %v", err)
	}
	c.Close()
	l2.Close()
	// a regular file is not a socket: refuse and keep it
	os.WriteFile(sock, []byte("data"), 0o600)
	if _, err := Listen(cfg); err == nil {
		t.Error("Listen replaced a regular file")
	}
	if b, _ := os.ReadFile(sock); string(b) != "data" {
		t.Error("regular file clobbered")
	}
}

func TestListenChown(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	sock := filepath.Join(t.TempDir(), "c.sock")
	l, err := Listen(ListenConfig{Section: "unix_http_server", Family: "unix", File: sock, ChownUID: 1, ChownGID: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if sys.Uid != 1 || sys.Gid != 2 || st.Mode().Perm() != 0o700 {
		t.Errorf("owner %d:%d mode %v, want 1:2 0700", sys.Uid, sys.Gid, st.Mode().Perm())
	}
}

// TestShutdownClosesIdleConnections runs Shutdown while many keep-alive
// connections go back and forth between busy and idle.
func TestShutdownClosesIdleConnections(t *testing.T) {
	for round := 0; round < 5; round++ {
		sock, srv := startServer(t, dispatchBackend(t), nil, Options{})
		var wg sync.WaitGroup
		for i := 0; i < 30; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("unix", sock)
				if err != nil {
					return
				}
				defer c.Close()
				br := bufio.NewReader(c)
				for j := 0; j < 20; j++ {
					if _, err := c.Write(rpcRequest(call("supervisor.getPID"))); err != nil {
						return
					}
					if _, err := readResponse(br, c, time.Second); err != nil {
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(round) * 5 * time.Millisecond)
		done := make(chan error, 1)
		go func() { done <- srv.Shutdown(t.Context()) }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Shutdown hung")
		}
		wg.Wait()
	}
}
