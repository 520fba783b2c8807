package logrot

import (
	"cmp"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ChunkSize is the most one read takes from a pipe (Python reads 128 KiB).
const ChunkSize = 128 << 10

// defaultPipe is a new pipe's capacity on Linux.
const defaultPipe = 64 << 10

// drainReads bounds how many reads Close makes to empty a pipe.
const drainReads = 64

// errorReportEvery rate-limits "log write failed" lines in the main log.
const errorReportEvery = 10 * time.Second

// Hub holds what every Channel shares: the read buffer pool and the syslog
// connection. Create one per supervisord.
type Hub struct {
	pool sync.Pool
	// stampPool holds the buffers lines are stamped into (timestamps).
	stampPool sync.Pool
	syslog    *Syslog
	inUse     atomic.Int64 // buffers taken from the pool and not yet returned

	// sinks shares one open file between every Channel that logs to the
	// same path (stdout_logfile = stderr_logfile, or several processes on
	// one file): one lock, one size count, one rotation. Python opens one
	// handler per channel, each rotating on its own.
	sinkMu sync.Mutex
	sinks  map[string]*sharedSink

	work chan task // to an idle worker (see do)

	chMu     sync.Mutex
	channels map[*Channel]struct{} // open channels, for ChannelStats

	pruner pruner // removes surplus backups after rotations (prune.go)

	poller     *poller
	privileged bool         // the kernel's per-user pipe page limits do not apply
	grown      atomic.Int64 // pipes grown while not privileged (see grow)
	batching   atomic.Int64 // busy pipes whose workers pause between reads (napper)
}

type sharedSink struct {
	sink *fileSink
	refs int
}

// acquireSink opens opt.Path, or shares the sink already open on it (the
// newest rotation settings then apply to every channel on the path).
func (h *Hub) acquireSink(opt sinkOptions) (*fileSink, error) {
	key := filepath.Clean(opt.Path)
	h.sinkMu.Lock()
	defer h.sinkMu.Unlock()
	if sh, ok := h.sinks[key]; ok {
		sh.refs++
		sh.sink.setOptions(opt) // the newest configuration wins
		return sh.sink, nil
	}
	s, err := openSink(opt)
	if err != nil {
		return nil, err
	}
	s.mu.Lock() // its RotateEvery timer may already run
	s.pruner = &h.pruner
	s.mu.Unlock()
	h.sinks[key] = &sharedSink{sink: s, refs: 1}
	return s, nil
}

// releaseSink closes s when its last Channel lets go of it.
func (h *Hub) releaseSink(s *fileSink) error {
	key := filepath.Clean(s.opt.Path)
	h.sinkMu.Lock()
	sh, ok := h.sinks[key]
	if ok && sh.sink == s {
		sh.refs--
		if sh.refs > 0 {
			h.sinkMu.Unlock()
			return nil
		}
		delete(h.sinks, key)
	}
	h.sinkMu.Unlock()
	return s.Close()
}

// NewHub returns a Hub whose channels send syslog lines through s (nil: a
// connection tagged "supervisord" is made on first use).
func NewHub(s *Syslog) *Hub {
	if s == nil {
		s = NewSyslog("supervisord")
	}
	h := &Hub{syslog: s, sinks: make(map[string]*sharedSink), work: make(chan task),
		channels: make(map[*Channel]struct{}),
		poller:   newPoller(), privileged: pipeLimitsExempt()}
	h.stampPool.New = func() any {
		b := make([]byte, 0, ChunkSize+ChunkSize/4)
		return &b
	}
	h.pool.New = func() any {
		b := make([]byte, ChunkSize)
		return &b
	}
	return h
}

// workerIdle is how long an idle Hub worker waits for more work before
// it exits.
const workerIdle = 500 * time.Millisecond

// task is work handed to a Hub worker.
type task struct {
	f func()
}

// spawn runs f on a worker goroutine without waiting for it. Workers are
// started on demand (one per concurrently busy pipe, so a blocked target
// never holds up another channel) and exit when idle: the deep call chains
// of writing and hooks grow the workers' stacks, and nothing waits on an
// idle pipe but the poller.
func (h *Hub) spawn(f func()) {
	t := task{f: f}
	select {
	case h.work <- t:
	default:
		go h.worker(t)
	}
}

func (h *Hub) worker(t task) {
	timer := time.NewTimer(workerIdle)
	defer timer.Stop()
	for {
		t.f()
		timer.Reset(workerIdle)
		select {
		case t = <-h.work:
		case <-timer.C:
			return
		}
	}
}

// Close closes the shared syslog connection.
func (h *Hub) Close() error { return h.syslog.Close() }

func (h *Hub) getBuf() *[]byte {
	h.inUse.Add(1)
	return h.pool.Get().(*[]byte)
}

func (h *Hub) putBuf(b *[]byte) {
	h.inUse.Add(-1)
	h.pool.Put(b)
}

// BuffersInUse is how many read buffers are held right now (readers that
// are between a read and the end of handling it). Idle pipes hold none.
func (h *Hub) BuffersInUse() int64 { return h.inUse.Load() }

// ChannelStats is one open channel's counters with the names that
// identify it (metrics label them by group, process and channel).
type ChannelStats struct {
	Group   string
	Process string
	Channel string // "stdout" or "stderr"
	Stats
}

// ChannelStats returns the counters of every open channel, sorted by
// group, process and channel. A channel's counters start at zero when it
// is created (a process added, the daemon reloaded) and are gone once it
// is closed. Reading them takes no lock that capture holds.
func (h *Hub) ChannelStats() []ChannelStats {
	h.chMu.Lock()
	out := make([]ChannelStats, 0, len(h.channels))
	for c := range h.channels {
		out = append(out, ChannelStats{Group: c.cfg.GroupName, Process: c.cfg.ProcessName, Channel: c.cfg.Channel, Stats: c.Stats()})
	}
	h.chMu.Unlock()
	slices.SortFunc(out, func(a, b ChannelStats) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Process, b.Process), cmp.Compare(a.Channel, b.Channel))
	})
	return out
}

func (h *Hub) register(c *Channel) {
	h.chMu.Lock()
	h.channels[c] = struct{}{}
	h.chMu.Unlock()
}

func (h *Hub) unregister(c *Channel) {
	h.chMu.Lock()
	delete(h.channels, c)
	h.chMu.Unlock()
}
