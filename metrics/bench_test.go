package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"testing"
)

// BenchmarkScrapeEncode is a scrape of 10,000 processes without /proc:
// the cost of the collectors and promhttp's encoding alone.
func BenchmarkScrapeEncode(b *testing.B) {
	src := &fakeSource{state: 1}
	for i := range 10000 {
		src.procs = append(src.procs, Process{Group: fmt.Sprintf("g%04d", i), Name: fmt.Sprintf("p%04d", i), State: 20, PID: 1000 + i, Start: 1700000000,
			Logs: []LogChannel{{"stdout", 1, 0}, {"stderr", 1, 0}}})
	}
	m := New(Options{Source: src})
	for b.Loop() {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, req)
		io.Copy(io.Discard, rec.Body)
	}
}
