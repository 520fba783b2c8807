package reliability

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	authUser = "admin"
	authPass = "s3cr3t-Pw-7f1e"
)

// authPrograms is one program whose log holds a marker an unauthenticated
// client must never see.
const authPrograms = "[program:p]\ncommand=sh -c 'echo LOG-MARKER-out; echo LOG-MARKER-err >&2; exec sleep 1000'\nstartsecs=0\n"

// routes is every route the HTTP front serves, plus unknown ones (served
// by the static handler).
var routes = []struct{ method, uri string }{
	{"POST", "/RPC2"},
	{"GET", "/RPC2"},
	{"POST", "/RPC2/x"},
	{"GET", "/logtail/p"},
	{"GET", "/logtail/p/stderr"},
	{"GET", "/logtail/p/stdout"},
	{"GET", "/mainlogtail"},
	{"GET", "/"},
	{"GET", "/index.html"},
	{"POST", "/index.html"},
	{"GET", "/index.html?processname=p&action=stop"},
	{"GET", "/tail.html?processname=p"},
	{"GET", "/ok.html"},
	{"GET", "/stylesheets/supervisor.css"},
	{"GET", "/images/button_restart.gif"},
	{"GET", "/nonexistent"},
	{"GET", "/../../etc/passwd"},
	{"HEAD", "/"},
	{"PUT", "/RPC2"},
	{"DELETE", "/index.html"},
	{"OPTIONS", "*"},
	{"BREW", "/"},
}

// badAuth are Authorization headers that must all be refused.
var badAuth = []struct{ name, header string }{
	{"none", ""},
	{"wrong password", "Basic " + base64.StdEncoding.EncodeToString([]byte(authUser+":wrong"))},
	{"wrong user", "Basic " + base64.StdEncoding.EncodeToString([]byte("root:"+authPass))},
	{"password prefix", "Basic " + base64.StdEncoding.EncodeToString([]byte(authUser+":"+authPass[:len(authPass)-1]))},
	{"password longer", "Basic " + base64.StdEncoding.EncodeToString([]byte(authUser+":"+authPass+"x"))},
	{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte(authUser+authPass))},
	{"empty", "Basic "},
	{"bad base64", "Basic !!!!"},
	{"digest scheme", "Digest username=\"admin\""},
	{"bearer", "Bearer " + authPass},
}

// TestAuthEveryRoute: with a password set, every route on both sockets
// refuses every request without the right credentials, and leaks neither
// process data nor log text in the refusal.
func TestAuthEveryRoute(t *testing.T) {
	eachFlavor(t, func(t *testing.T, fl flavor) {
		d := start(t, fl, setup{inet: true, user: authUser, password: authPass, programs: authPrograms})
		d.waitAll(30*time.Second, "RUNNING", 1)
		leaks := []string{"LOG-MARKER", "RUNNING", "supervisor.css", "<methodResponse>"}
		refused, served := 0, 0
		statuses := map[int]int{}
		for _, inet := range []bool{false, true} {
			sockName := map[bool]string{false: "unix", true: "inet"}[inet]
			for _, r := range routes {
				for _, a := range badAuth {
					hdr := ""
					if a.header != "" {
						hdr = "Authorization: " + a.header + "\r\n"
					}
					body := methodCall("supervisor.getAllProcessInfo", "")
					req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: localhost\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s", r.method, r.uri, hdr, len(body), body)
					resp, rb, err := d.roundTrip(inet, []byte(req))
					if err != nil {
						// A dropped connection serves nothing either.
						refused++
						continue
					}
					statuses[resp.StatusCode]++
					// Ours answers 401 (400 for bad base64, as medusa);
					// Python also answers 500 to some malformed headers.
					if resp.StatusCode < 400 || fl.name == "ours" && resp.StatusCode != 401 && resp.StatusCode != 400 {
						t.Errorf("%s %s %s with %s auth: HTTP %d", sockName, r.method, r.uri, a.name, resp.StatusCode)
						continue
					}
					for _, leak := range leaks {
						if strings.Contains(string(rb), leak) {
							t.Errorf("%s %s %s with %s auth: refusal leaks %q", sockName, r.method, r.uri, a.name, leak)
						}
					}
					refused++
				}
				// The right credentials reach the route (so the table
				// tests real routes, not a server that refuses everything).
				good := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(authUser+":"+authPass)) + "\r\n"
				body := methodCall("supervisor.getState", "")
				req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: localhost\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s", r.method, r.uri, good, len(body), body)
				if r.uri == "/mainlogtail" || strings.HasPrefix(r.uri, "/logtail") {
					req = strings.Replace(req, "HTTP/1.1", "HTTP/1.0", 1)
				}
				resp, _, err := d.roundTripHead(inet, []byte(req))
				if err == nil && resp.StatusCode == 401 {
					t.Errorf("%s %s %s with the right credentials: 401", sockName, r.method, r.uri)
				}
				if err == nil {
					served++
				}
			}
		}
		figure(t, fl, "refused", refused)
		figure(t, fl, "refusal_statuses", statuses)
		figure(t, fl, "served_with_credentials", served)
		if !d.exited() {
			var st struct {
				Code int `xmlrpc:"statecode"`
			}
			d.mustCall("supervisor.getState", nil, &st)
		}
	})
}

// roundTripHead is roundTrip that returns once the response head is read
// (for streams that never end).
func (d *daemon) roundTripHead(inet bool, req []byte) (*httpHead, []byte, error) {
	c, err := d.dial(inet)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(req); err != nil {
		return nil, nil, err
	}
	var buf [512]byte
	n, err := c.Read(buf[:])
	if n == 0 {
		return nil, nil, err
	}
	var h httpHead
	if _, err := fmt.Sscanf(string(buf[:n]), "HTTP/%s %d", &h.proto, &h.StatusCode); err != nil {
		return nil, buf[:n], fmt.Errorf("status line %q: %w", buf[:n], err)
	}
	return &h, buf[:n], nil
}

type httpHead struct {
	proto      string
	StatusCode int
}

// TestSecretNotLogged: at loglevel blather (the most verbose), with calls
// that pass and fail authentication, the password appears neither in the
// main log nor on the daemon's output, in clear or base64.
func TestSecretNotLogged(t *testing.T) {
	eachFlavor(t, func(t *testing.T, fl flavor) {
		d := start(t, fl, setup{inet: true, user: authUser, password: authPass, programs: authPrograms, loglevel: "blather"})
		d.waitAll(30*time.Second, "RUNNING", 1)
		var st struct {
			Code int `xmlrpc:"statecode"`
		}
		d.mustCall("supervisor.getState", nil, &st)
		d.mustCall("supervisor.stopProcess", []any{"p"}, nil)
		d.mustCall("supervisor.startProcess", []any{"p"}, nil)
		for _, a := range badAuth {
			req := "POST /RPC2 HTTP/1.1\r\nHost: x\r\nAuthorization: " + a.header + "\r\nContent-Length: 4\r\n\r\nxxxx"
			d.roundTrip(false, []byte(req))
			d.roundTrip(true, []byte(req))
		}
		// A malformed body that quotes the password is logged by both
		// daemons (Python: "XML-RPC request data ... is invalid"): that is
		// the client's text, not the daemon's secret, and is left out here.
		d.stop(60 * time.Second)
		secrets := []string{authPass, base64.StdEncoding.EncodeToString([]byte(authUser + ":" + authPass))}
		for where, text := range map[string]string{"main log": d.mainLog(), "output": d.out.String()} {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("%s: the %s holds the secret %q", fl.name, where, s)
				}
			}
		}
		figure(t, fl, "main_log_bytes", len(d.mainLog()))
	})
}

// TestUnixSocketModeAndOwner: chmod and chown of [unix_http_server] are
// honoured, and a user the mode excludes cannot connect.
func TestUnixSocketModeAndOwner(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to chown the socket and to connect as another user")
	}
	cases := []struct {
		chmod    string
		mode     os.FileMode
		nobodyOK bool
	}{
		{"0700", 0o700, false},
		{"0770", 0o770, false},
		{"0777", 0o777, true},
	}
	eachFlavor(t, func(t *testing.T, fl flavor) {
		for _, c := range cases {
			t.Run(c.chmod, func(t *testing.T) {
				d := start(t, fl, setup{dir: publicDir(t), chmod: c.chmod})
				st, err := os.Lstat(d.sock)
				if err != nil {
					t.Fatal(err)
				}
				if got := st.Mode().Perm(); got != c.mode {
					t.Errorf("socket mode %o, want %o", got, c.mode)
				}
				if st.Sys().(*syscall.Stat_t).Uid != 0 {
					t.Errorf("socket owner %d, want 0", st.Sys().(*syscall.Stat_t).Uid)
				}
				ok := connectAsNobody(t, d.sock)
				if ok != c.nobodyOK {
					t.Errorf("nobody connecting to a %s socket: connected=%v, want %v", c.chmod, ok, c.nobodyOK)
				}
			})
		}
		t.Run("chown", func(t *testing.T) {
			// chown=nobody:nogroup with mode 0700: nobody owns it and may
			// connect.
			d := start(t, fl, setup{dir: publicDir(t), chmod: "0700", chown: "nobody:nogroup"})
			st, err := os.Lstat(d.sock)
			if err != nil {
				t.Fatal(err)
			}
			sys := st.Sys().(*syscall.Stat_t)
			if sys.Uid != 65534 || sys.Gid != 65534 || st.Mode().Perm() != 0o700 {
				t.Errorf("socket %d:%d mode %o, want 65534:65534 mode 700", sys.Uid, sys.Gid, st.Mode().Perm())
			}
			if !connectAsNobody(t, d.sock) {
				t.Errorf("nobody cannot connect to the socket it owns")
			}
		})
	})
}

// publicDir is a temporary directory every user may traverse (t.TempDir's
// parent is private to root).
func publicDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "reliability-public-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// connectAsNobody tries to connect to a unix socket as uid/gid 65534.
func connectAsNobody(t *testing.T, sock string) bool {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])", sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil && !strings.Contains(string(out), "PermissionError") {
		t.Fatalf("connect as nobody: %v: %s", err, out)
	}
	return err == nil
}

// TestLiveSocketNotTakenOver: a second daemon on the same socket path
// refuses to start, and the first keeps its socket and keeps answering.
func TestLiveSocketNotTakenOver(t *testing.T) {
	eachFlavor(t, func(t *testing.T, fl flavor) {
		d := start(t, fl, setup{programs: authPrograms})
		st1, err := os.Stat(d.sock)
		if err != nil {
			t.Fatal(err)
		}
		// The second daemon: its own log and pidfile, the same socket.
		dir2 := t.TempDir()
		conf := writeConfig(t, setup{}, dir2, 0)
		text, _ := os.ReadFile(conf)
		os.WriteFile(conf, []byte(strings.Replace(string(text), filepath.Join(dir2, "s.sock"), d.sock, 1)), 0o644)
		cmd := exec.Command(fl.bin, "-n", "-c", conf)
		done := make(chan struct{})
		var out []byte
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("the second daemon did not give up: %s", out)
		}
		figure(t, fl, "second_daemon", fmt.Sprintf("%v: %q", err, strings.TrimSpace(string(out))))
		if err == nil {
			t.Errorf("the second daemon exited 0")
		}
		st2, err2 := os.Stat(d.sock)
		if err2 != nil || !os.SameFile(st1, st2) {
			t.Errorf("the live socket was replaced or removed (%v)", err2)
		}
		var s struct {
			Code int `xmlrpc:"statecode"`
		}
		d.mustCall("supervisor.getState", nil, &s)
	})
}
