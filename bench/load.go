package bench

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Stats summarizes a sample of durations.
type Stats struct {
	N                  int
	Min, P50, P90, P99 time.Duration
	Max, Mean          time.Duration
}

// Summarize computes Stats (nearest-rank percentiles) of xs.
func Summarize(xs []time.Duration) Stats {
	if len(xs) == 0 {
		return Stats{}
	}
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	pct := func(p float64) time.Duration {
		i := int(p/100*float64(len(s)-1) + 0.5)
		return s[i]
	}
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	return Stats{N: len(s), Min: s[0], P50: pct(50), P90: pct(90), P99: pct(99),
		Max: s[len(s)-1], Mean: sum / time.Duration(len(s))}
}

// Ms converts a duration to float milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Latency sends req n times, one at a time, over one kept-alive connection
// and returns each round trip (request written to last body byte read) and
// the size of the last response. The first response is decoded to make sure
// it is not a fault.
func Latency(sock string, req Request, n int, timeout time.Duration) ([]time.Duration, int, error) {
	c := NewClient(sock, timeout)
	defer c.Close()
	body, err := c.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("warm-up call: %w", err)
	}
	if err := Decode(body, nil); err != nil {
		return nil, 0, err
	}
	lat := make([]time.Duration, 0, n)
	size := 0
	for i := 0; i < n; i++ {
		t := time.Now()
		body, err := c.Do(req)
		if err != nil {
			return lat, size, fmt.Errorf("call %d: %w", i, err)
		}
		lat = append(lat, time.Since(t))
		size = len(body)
	}
	return lat, size, nil
}

// Throughput is the result of a closed-loop load run.
type Throughput struct {
	Clients   int
	Calls     int64
	Errors    int64
	Dials     int // connections opened in total (== Clients when keep-alive holds)
	Elapsed   time.Duration
	PerSecond float64
	Latency   Stats // per-call round trips, all clients
}

// RunLoad runs clients goroutines, each with its own kept-alive connection,
// sending req back to back for window, and counts completed calls.
func RunLoad(sock string, req Request, clients int, window time.Duration) (Throughput, error) {
	// validate once
	c0 := NewClient(sock, 10*time.Second)
	body, err := c0.Do(req)
	if err == nil {
		err = Decode(body, nil)
	}
	c0.Close()
	if err != nil {
		return Throughput{}, fmt.Errorf("load warm-up: %w", err)
	}
	var calls, errs atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	dials := make([]int, clients)
	lats := make([][]time.Duration, clients)
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := NewClient(sock, 30*time.Second)
			defer c.Close()
			lat := make([]time.Duration, 0, 4096)
			for !stop.Load() {
				t := time.Now()
				if _, err := c.Do(req); err != nil {
					errs.Add(1)
					continue
				}
				lat = append(lat, time.Since(t))
				calls.Add(1)
			}
			dials[i] = c.Dials
			lats[i] = lat
		}(i)
	}
	time.Sleep(window)
	stop.Store(true)
	wg.Wait()
	el := time.Since(start)
	r := Throughput{Clients: clients, Calls: calls.Load(), Errors: errs.Load(), Elapsed: el}
	var all []time.Duration
	for i := range dials {
		r.Dials += dials[i]
		all = append(all, lats[i]...)
	}
	r.Latency = Summarize(all)
	r.PerSecond = float64(r.Calls) / el.Seconds()
	if r.Errors > 0 && r.Calls == 0 {
		return r, fmt.Errorf("load: all %d calls failed", r.Errors)
	}
	return r, nil
}
