package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/internal/xmlrpcvalue"
)

// statusAnswer writes a getAllProcessInfo answer for n RUNNING programs
// as supervisord writes it (members in its order, one per line).
func statusAnswer(n int) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n")
	for i := range n {
		writeRunningInfo(&b, fmt.Sprintf("p%04d", i), 10000+i)
	}
	b.WriteString("</data></array></value>\n</param>\n</params>\n</methodResponse>\n")
	return b.Bytes()
}

// infoAnswer is a getProcessInfo answer for a RUNNING program.
func infoAnswer(name string, pid int) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n")
	writeRunningInfo(&b, name, pid)
	b.WriteString("</param>\n</params>\n</methodResponse>\n")
	return b.Bytes()
}

// writeRunningInfo writes the process info struct of a RUNNING program.
func writeRunningInfo(b *bytes.Buffer, name string, pid int) {
	member := func(name, typ, v string) {
		fmt.Fprintf(b, "<member>\n<name>%s</name>\n<value><%s>%s</%s></value>\n</member>\n", name, typ, v, typ)
	}
	b.WriteString("<value><struct>\n")
	member("name", "string", name)
	member("group", "string", name)
	member("start", "int", "1796279587")
	member("stop", "int", "0")
	member("now", "int", "1796279637")
	member("state", "int", "20")
	member("statename", "string", "RUNNING")
	member("spawnerr", "string", "")
	member("exitstatus", "int", "0")
	member("logfile", "string", "/tmp/logs/"+name+".log")
	member("stdout_logfile", "string", "/tmp/logs/"+name+".log")
	member("stderr_logfile", "string", "")
	member("pid", "int", fmt.Sprint(pid))
	member("description", "string", fmt.Sprintf("pid %d, uptime 0:00:50", pid))
	b.WriteString("</struct></value>\n")
}

// cannedDaemon answers getVersion and getAllProcessInfo on a unix socket
// with fixed bodies; it returns a config file naming the socket, with n
// program sections as a real supervisord.conf has them.
func cannedDaemon(tb testing.TB, n int) string {
	all := statusAnswer(n)
	return cannedServer(tb, n, map[string][]byte{"supervisor.getAllProcessInfo": all}, nil)
}

// versionAnswer is getVersion's answer.
const versionAnswer = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>3.0</string></value>\n</param>\n</params>\n</methodResponse>\n"

// cannedServer serves XML-RPC calls from answers (method name -> body;
// getVersion is answered unless given) and other paths with other, on a
// unix socket; it returns a config file naming the socket, with n program
// sections.
func cannedServer(tb testing.TB, n int, answers map[string][]byte, other http.Handler) string {
	dir := tb.TempDir()
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/RPC2" {
			if other == nil {
				http.NotFound(w, r)
				return
			}
			other.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		method, _, err := xmlrpcvalue.DecodeCall(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		answer, ok := answers[method]
		if !ok && method == "supervisor.getVersion" {
			answer, ok = []byte(versionAnswer), true
		}
		if !ok {
			http.Error(w, "unexpected call "+method, http.StatusBadRequest)
			return
		}
		// as supervisord answers: with a Content-Length
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		w.Write(answer)
	})}
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	var conf strings.Builder
	fmt.Fprintf(&conf, "[unix_http_server]\nfile=%s\n\n[supervisord]\nlogfile=%s/supervisord.log\n\n", sock, dir)
	fmt.Fprintf(&conf, "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n")
	fmt.Fprintf(&conf, "[supervisorctl]\nserverurl=unix://%s\n\n", sock)
	for i := range n {
		fmt.Fprintf(&conf, "[program:p%04d]\ncommand=/bin/sleep 100000\nredirect_stderr=true\nstartsecs=0\nstdout_logfile=/tmp/logs/p%04d.log\n\n", i, i)
	}
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkStatus runs the shipped `status` command (config read,
// upcheck, getAllProcessInfo, decoding, the table) against a canned
// answer for 1,000 and 6,000 programs: the client's own cost (with the
// canned server's), without process start.
func BenchmarkStatus(b *testing.B) {
	for _, n := range []int{1000, 6000} {
		b.Run(fmt.Sprintf("N%d", n), func(b *testing.B) {
			conf := cannedDaemon(b, n)
			var out bytes.Buffer
			for b.Loop() {
				out.Reset()
				if code := run([]string{"supervisorctl", "-c", conf, "status"}, strings.NewReader(""), &out, io.Discard, nil); code != 0 {
					b.Fatalf("exit %d: %s", code, out.String())
				}
			}
			if got := strings.Count(out.String(), " RUNNING "); got != n {
				b.Fatalf("%d RUNNING lines, want %d", got, n)
			}
		})
	}
}
