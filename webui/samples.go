package webui

import (
	"sync"
	"time"
)

// historyLen is how many samples a process keeps: at one sample per
// sampleEvery that is the last five minutes.
const (
	historyLen  = 150
	sampleEvery = 2 * time.Second
)

// sample is one point of a process's resource history.
type sample struct {
	at  time.Time
	cpu float64 // percent of one core since the previous sample
	rss int64   // resident bytes
}

// series is a fixed-size ring of samples for one process, plus what the
// next CPU percentage is computed from.
type series struct {
	ring    [historyLen]sample
	n, next int
	pid     int
	lastCPU float64 // cumulative CPU seconds at lastAt
	lastAt  time.Time
	seen    time.Time // last time the process was in the table
}

func (s *series) push(p sample) {
	s.ring[s.next] = p
	s.next = (s.next + 1) % historyLen
	if s.n < historyLen {
		s.n++
	}
}

// points returns the samples oldest first.
func (s *series) points() []sample {
	out := make([]sample, 0, s.n)
	start := (s.next - s.n + historyLen) % historyLen
	for i := 0; i < s.n; i++ {
		out = append(out, s.ring[(start+i)%historyLen])
	}
	return out
}

// history holds one series per process. Memory is bounded by historyLen
// per process in the table; processes gone from the table are dropped.
type history struct {
	mu     sync.Mutex
	byName map[string]*series
}

// record adds a sample for key when the last one is at least sampleEvery
// old (or the pid changed), and returns the series' points. cpuSeconds is
// the cumulative CPU time of the process tree at now.
func (h *history) record(key string, pid int, cpuSeconds float64, rss int64, now time.Time) []sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byName == nil {
		h.byName = map[string]*series{}
	}
	s := h.byName[key]
	if s == nil {
		s = &series{}
		h.byName[key] = s
	}
	s.seen = now
	switch {
	case s.pid != pid || s.lastAt.IsZero():
		// A new spawn: its CPU counter starts again; the first point
		// of a pid has no rate yet.
		s.pid, s.lastCPU, s.lastAt = pid, cpuSeconds, now
		s.push(sample{at: now, rss: rss})
	case now.Sub(s.lastAt) >= sampleEvery:
		dt := now.Sub(s.lastAt).Seconds()
		cpu := max(cpuSeconds-s.lastCPU, 0) / dt * 100
		s.lastCPU, s.lastAt = cpuSeconds, now
		s.push(sample{at: now, cpu: cpu, rss: rss})
	}
	return s.points()
}

// points returns key's samples without recording (a stopped process).
func (h *history) points(key string, now time.Time) []sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.byName[key]; s != nil {
		s.seen = now
		return s.points()
	}
	return nil
}

// prune drops the series of processes not seen since before.
func (h *history) prune(before time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, s := range h.byName {
		if s.seen.Before(before) {
			delete(h.byName, k)
		}
	}
}
