package procstat

import (
	"errors"
	"slices"
	"sync"
	"time"
)

// ErrUnsupported is returned by Snapshot where there is no Linux /proc.
var ErrUnsupported = errors.New("procstat: process sampling needs Linux /proc")

// ticksPerSecond is USER_HZ, the unit of the times in /proc/<pid>/stat: 100
// on every architecture Linux and Go support (sysconf needs cgo).
const ticksPerSecond = 100

// Usage is what one process tree uses at the time of a Snapshot.
type Usage struct {
	CPUSeconds float64 // user+system time of the tree, reaped children included
	RSSBytes   int64   // resident memory of the live processes of the tree
	Procs      int     // processes in the tree, the root included
}

// proc is one /proc/<pid>/stat line, reduced to what a tree needs.
type proc struct {
	pid, ppid int32
	ticks     uint64 // utime+stime+cutime+cstime
	rssPages  int64
	// firstChild and nextSibling link the tree: indexes into
	// Snapshot.procs, -1 for none.
	firstChild, nextSibling int32
}

// Snapshot is one pass over /proc. It is immutable and safe for concurrent
// use.
type Snapshot struct {
	Taken    time.Time // when the pass began
	procs    []proc    // sorted by pid
	pageSize int64
}

// Len is the number of processes the pass saw.
func (s *Snapshot) Len() int { return len(s.procs) }

// newSnapshot links procs (in any order) into a tree.
func newSnapshot(taken time.Time, procs []proc, pageSize int64) *Snapshot {
	if !slices.IsSortedFunc(procs, cmpPid) {
		slices.SortFunc(procs, cmpPid)
	}
	s := &Snapshot{Taken: taken, procs: procs, pageSize: pageSize}
	for i := range procs {
		procs[i].firstChild, procs[i].nextSibling = -1, -1
	}
	for i := range procs {
		p := &procs[i]
		if p.ppid == p.pid {
			continue
		}
		if j := s.index(p.ppid); j >= 0 {
			p.nextSibling = procs[j].firstChild
			procs[j].firstChild = int32(i)
		}
	}
	return s
}

func cmpPid(a, b proc) int { return int(a.pid) - int(b.pid) }

// index is the position of pid in s.procs, -1 if the pass did not see it.
func (s *Snapshot) index(pid int32) int {
	i, ok := slices.BinarySearchFunc(s.procs, pid, func(p proc, pid int32) int { return int(p.pid) - int(pid) })
	if !ok {
		return -1
	}
	return i
}

// Tree is the usage of pid and its live descendants. ok is false when pid
// was not running at the time of the snapshot.
func (s *Snapshot) Tree(pid int) (u Usage, ok bool) {
	if pid <= 0 || int64(pid) > 1<<31-1 {
		return Usage{}, false
	}
	root := s.index(int32(pid))
	if root < 0 {
		return Usage{}, false
	}
	var ticks uint64
	var pages int64
	// Every process has one parent, so a walk down from root meets each
	// descendant once; the only possible cycle (pids reused while the pass
	// ran) goes through root itself, which is therefore never re-entered.
	stack := make([]int32, 1, 16)
	stack[0] = int32(root)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		p := &s.procs[i]
		ticks += p.ticks
		pages += p.rssPages
		u.Procs++
		for c := p.firstChild; c >= 0; c = s.procs[c].nextSibling {
			if int(c) != root {
				stack = append(stack, c)
			}
		}
	}
	u.CPUSeconds = float64(ticks) / ticksPerSecond
	u.RSSBytes = pages * s.pageSize
	return u, true
}

// Options tunes a Sampler. Zero values pick the defaults.
type Options struct {
	Root string           // the procfs mount; default "/proc"
	Now  func() time.Time // default time.Now
}

// Sampler takes Snapshots on demand and shares a recent one among callers.
// It owns no goroutine and no timer. Safe for concurrent use.
type Sampler struct {
	opts Options

	mu   sync.Mutex // held while a pass runs, so concurrent callers share it
	last *Snapshot
	buf  []byte // the stat read buffer
}

// New returns a Sampler.
func New(opts Options) *Sampler {
	if opts.Root == "" {
		opts.Root = "/proc"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sampler{opts: opts}
}

// Snapshot returns a snapshot no older than maxAge: the last one when it is
// recent enough, else a new pass over /proc (callers arriving while a pass
// runs wait for it and share it). maxAge 0 always takes a new pass.
func (s *Sampler) Snapshot(maxAge time.Duration) (*Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if s.last != nil && maxAge > 0 {
		if age := now.Sub(s.last.Taken); age >= 0 && age <= maxAge {
			return s.last, nil
		}
	}
	procs, err := s.scan()
	if err != nil {
		return nil, err
	}
	s.last = newSnapshot(now, procs, pageSize())
	return s.last, nil
}
