package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var scrapeProcs = flag.Int("scrape-procs", 1000, "programs BenchmarkScrape runs (ours only: Python has no /metrics)")

// BenchmarkScrape measures GET /metrics on our daemon with -scrape-procs
// sleeping programs: scrape time (p50, max) and the daemon's own CPU per
// scrape (utime+stime delta over the scrapes, so the one /proc pass per
// scrape is included), and the daemon's CPU over an idle window after the
// scrapes (nothing samples /proc when nobody asks).
func BenchmarkScrape(b *testing.B) {
	hideNs(b)
	if suite == nil {
		b.Skip("bench: suite not initialised (run with -bench)")
	}
	var spec *Spec
	for i := range suite.Daemons {
		if suite.Daemons[i].Name == "ours" {
			spec = &suite.Daemons[i]
		}
	}
	if spec == nil {
		b.Skip("no daemon named ours")
	}
	n := *scrapeProcs
	b.Run(fmt.Sprintf("ours/N%d", n), func(b *testing.B) {
		hideNs(b)
		progs := SleepPrograms(n, map[string]string{"stdout_logfile": "NONE"})
		d, err := LaunchConfig(*spec, b.TempDir(), func(l Layout) string {
			conf := strings.Replace(l.Config(progs), "chmod=0700\n", "chmod=0700\nmetrics=true\n", 1)
			// One pipe per program: 10,000 programs need more than the
			// suite's minfds=10000.
			return strings.Replace(conf, "minfds=10000\n", "minfds=20000\n", 1)
		})
		if err != nil {
			b.Fatal(err)
		}
		defer teardown(b, d)
		if _, err := d.WaitAnswer(30*time.Second, 20*time.Millisecond); err != nil {
			b.Fatal(err)
		}
		// At 10,000 a few spawns can fail on a shared box (fork limits);
		// the scrape still reports every program, so 99% RUNNING will do.
		if _, _, err := d.WaitStates(n*99/100, []int{20}, time.Duration(n)*30*time.Millisecond+60*time.Second, 200*time.Millisecond); err != nil {
			b.Fatal(err)
		}
		d.WaitStates(n, []int{20}, 10*time.Second, 200*time.Millisecond)
		cl := d.Client(time.Minute)
		body, err := cl.Do(NewRequest(MethodCall("supervisor.getAllProcessInfo")))
		cl.Close()
		if err != nil {
			b.Fatal(err)
		}
		running, _ := CountStates(body, 20)
		if running < n {
			b.Logf("%d of %d RUNNING; main log spawn errors: %d", running, n, strings.Count(d.Output()+mainLog(d), "spawnerr"))
		}
		b.ReportMetric(float64(running), "running")
		tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", filepath.Join(d.Layout.Sock))
		}}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: time.Minute}
		scrape := func() (int, error) {
			resp, err := c.Get("http://localhost/metrics")
			if err != nil {
				return 0, err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				return 0, fmt.Errorf("GET /metrics: %d", resp.StatusCode)
			}
			if want := fmt.Sprintf(`node_supervisord_state{group="p%04d",name="p%04d"} `, n-1, n-1); !strings.Contains(string(body), want) {
				return 0, fmt.Errorf("scrape lacks %s", want)
			}
			return len(body), err
		}
		if _, err := scrape(); err != nil { // warm up
			b.Fatal(err)
		}
		const scrapes = 20
		cpu0, err := CPUSeconds(d.Pid())
		if err != nil {
			b.Fatal(err)
		}
		var times []time.Duration
		size := 0
		for range scrapes {
			t0 := time.Now()
			if size, err = scrape(); err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(t0))
		}
		cpu1, err := CPUSeconds(d.Pid())
		if err != nil {
			b.Fatal(err)
		}
		idle, err := MeasureIdle(d.Pid(), 5*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		slices.Sort(times)
		b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "scrape-p50-ms")
		b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "scrape-max-ms")
		b.ReportMetric((cpu1-cpu0)/scrapes*1000, "daemon-cpu-ms/scrape")
		b.ReportMetric(float64(size)/1024, "KiB/scrape")
		b.ReportMetric(idle.Per10s(idle.CPU), "idle-cpu-s/10s")
	})
}

func mainLog(d *Daemon) string {
	b, _ := os.ReadFile(d.Layout.MainLog)
	return string(b)
}
