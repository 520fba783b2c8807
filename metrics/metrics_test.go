package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/procstat"
)

type fakeSource struct {
	state int
	procs []Process
}

func (f *fakeSource) State() int           { return f.state }
func (f *fakeSource) Processes() []Process { return f.procs }

func scrape(t *testing.T, h http.Handler, accept string) (contentType, body string) {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return rec.Header().Get("Content-Type"), string(b)
}

func TestScrape(t *testing.T) {
	self := os.Getpid()
	burnCPU(t, 50*time.Millisecond)
	src := &fakeSource{state: 1, procs: []Process{
		{Group: "web", Name: "web_00", State: 20, PID: self, Start: 1700000000, Restarts: 3,
			Logs: []LogChannel{{"stdout", 1234, 0}, {"stderr", 5, 7}}},
		{Group: "job", Name: "job", State: 100, ExitStatus: 2, Start: 1700000000},
		{Group: "job", Name: "never", State: 0},
	}}
	m := New(Options{Source: src, Sampler: procstat.New(procstat.Options{})})
	m.CountRPC("supervisor.getState", "")
	m.CountRPC("supervisor.startProcess", "BAD_NAME")
	m.CountRPC("supervisor.startProcess", "BAD_NAME")
	m.CountEvent("PROCESS_STATE_RUNNING")

	ct, body := scrape(t, m.Handler(), "")
	if !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the Prometheus text format", ct)
	}
	wantLines := []string{
		`supervisord_up 1`,
		`supervisord_state 1`,
		`node_supervisord_up{group="web",name="web_00"} 1`,
		`node_supervisord_up{group="job",name="job"} 0`,
		`node_supervisord_state{group="job",name="job"} 100`,
		`node_supervisord_exit_status{group="job",name="job"} 2`,
		`node_supervisord_start_time_seconds{group="web",name="web_00"} 1.7e+09`,
		`supervisord_process_restarts_total{group="web",name="web_00"} 3`,
		`supervisord_process_restarts_total{group="job",name="never"} 0`,
		`supervisord_process_log_bytes_total{channel="stdout",group="web",name="web_00"} 1234`,
		`supervisord_process_log_bytes_dropped_total{channel="stderr",group="web",name="web_00"} 7`,
		`supervisord_rpc_requests_total{fault="none",method="supervisor.getState"} 1`,
		`supervisord_rpc_requests_total{fault="BAD_NAME",method="supervisor.startProcess"} 2`,
		`supervisord_events_total{type="PROCESS_STATE_RUNNING"} 1`,
	}
	for _, l := range wantLines {
		if !strings.Contains(body, "\n"+l+"\n") {
			t.Errorf("scrape lacks %q", l)
		}
	}
	for _, absent := range []string{
		`node_supervisord_start_time_seconds{group="job",name="job"}`, // not running
		`supervisord_process_cpu_seconds_total{group="job"`,
		`supervisord_process_resident_memory_bytes{group="job"`,
	} {
		if strings.Contains(body, absent) {
			t.Errorf("scrape has %q", absent)
		}
	}
	// The test process itself stands for a running child: its figures
	// come from /proc.
	for _, name := range []string{"supervisord_process_cpu_seconds_total", "supervisord_process_resident_memory_bytes"} {
		re := regexp.MustCompile(`\n` + name + `\{group="web",name="web_00"\} (\S+)\n`)
		mm := re.FindStringSubmatch(body)
		if mm == nil {
			t.Errorf("scrape lacks %s of web_00", name)
			continue
		}
		if v, err := strconv.ParseFloat(mm[1], 64); err != nil || v <= 0 {
			t.Errorf("%s = %q, want > 0", name, mm[1])
		}
	}
	for _, family := range []string{"go_goroutines", "process_resident_memory_bytes", "process_cpu_seconds_total"} {
		if !strings.Contains(body, "\n"+family+" ") {
			t.Errorf("scrape lacks client_golang's %s", family)
		}
	}

	ct, body = scrape(t, m.Handler(), "application/openmetrics-text; version=1.0.0")
	if !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Errorf("Content-Type = %q, want OpenMetrics", ct)
	}
	if !strings.HasSuffix(body, "# EOF\n") || !strings.Contains(body, "# TYPE supervisord_process_restarts counter\n") {
		t.Errorf("OpenMetrics body lacks # EOF or the restarts counter family:\n%s", body)
	}
}

func TestScrapeSamplerError(t *testing.T) {
	src := &fakeSource{state: 1, procs: []Process{{Group: "a", Name: "a", State: 20, PID: 4242, Start: 1}}}
	var logged []string
	m := New(Options{
		Source:   src,
		Sampler:  procstat.New(procstat.Options{Root: t.TempDir() + "/missing"}),
		ErrorLog: func(msg string) { logged = append(logged, msg) },
	})
	_, body := scrape(t, m.Handler(), "")
	if !strings.Contains(body, `node_supervisord_up{group="a",name="a"} 1`) {
		t.Errorf("a failed /proc pass lost the rest of the scrape:\n%s", body)
	}
	if len(logged) == 0 || !strings.Contains(strings.Join(logged, "\n"), "sample /proc") {
		t.Errorf("ErrorLog got %q, want the sampling error", logged)
	}
}

// burnCPU spins until this process has used d of CPU time, so /proc shows
// more than zero ticks.
func burnCPU(t *testing.T, d time.Duration) {
	for {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		if time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= d {
			return
		}
	}
}
