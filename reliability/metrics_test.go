package reliability

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// metric reads one sample of the daemon's /metrics (ours, with
// setup.metrics): the series whose name and labels start with series,
// e.g. `go_goroutines` or `supervisord_process_log_bytes_dropped_total{channel="stdout",group="w",name="w"}`.
func (d *daemon) metric(series string) (float64, error) {
	tr := d.transport(false)
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", "http://localhost/metrics", nil)
	if d.user != "" {
		req.SetBasicAuth(d.user, d.password)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("/metrics: HTTP %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(name, series) {
			continue
		}
		if i := strings.IndexByte(value, ' '); i >= 0 {
			value = value[:i]
		}
		return strconv.ParseFloat(value, 64)
	}
	return 0, fmt.Errorf("/metrics: no series %s", series)
}
