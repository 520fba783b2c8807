package rpc

import (
	"sync"
	"time"
)

// answerBufs recycles the buffers XML-RPC answers are encoded into.
// Small answers use Go heap buffers from a sync.Pool. Large ones
// (getAllProcessInfo: 1.2 MB at 1,000 processes, 7 MB at 6,000) are
// mapped outside the Go heap where the platform allows it: in the heap
// such a buffer, pooled or not, counts as live heap (raising the GC goal
// by twice its size), and once dropped its pages stay resident until a
// GC and the scavenger give them back, so an idle daemon's RSS held its
// last large answer and the garbage of the ones before (issue 19: 82 MiB
// after the RPC load at 6,000 programs, 51 MiB before it). One idle
// mapping is kept for the next large answer and unmapped once none was
// written for largeLinger: a client calling back to back (its next
// request follows within a millisecond or two) does not fault 7 MB in per
// call (1.5-4.5 ms on the 2-core box), and a daemon that has answered
// holds none (a client that decodes the answer first, as supervisorctl
// does for 20-40 ms at 6,000 programs, finds it given back).
type answerBufs struct {
	small sync.Pool // *[]byte of at most maxSmallAnswer

	mu      sync.Mutex
	spare   []byte    // one idle mapping, nil when none
	lastPut time.Time // when the last large answer was written
	armed   bool      // timer will run release
	timer   *time.Timer
}

const (
	// largeAnswer is the size hint from which an answer gets a mapping.
	largeAnswer = 256 << 10
	// maxSmallAnswer is the largest heap buffer kept in the pool.
	maxSmallAnswer = largeAnswer
	// largeLinger is how long the idle mapping outlives the last large
	// answer.
	largeLinger = 5 * time.Millisecond
)

// answerBuf is a buffer from answerBufs.get.
type answerBuf struct {
	b      []byte  // length 0
	box    *[]byte // the pool's box of a small buffer, reused by put
	mapped bool    // b is a mapping (unmapAnswer), not Go heap
}

// get returns an empty buffer of at least hint bytes.
func (a *answerBufs) get(hint int) answerBuf {
	if hint < largeAnswer {
		box, _ := a.small.Get().(*[]byte)
		if box != nil && cap(*box) >= hint {
			return answerBuf{b: (*box)[:0], box: box}
		}
		return answerBuf{b: make([]byte, 0, hint), box: box}
	}
	a.mu.Lock()
	spare := a.spare
	a.spare = nil
	a.mu.Unlock()
	if cap(spare) >= hint {
		return answerBuf{b: spare[:0], mapped: true}
	}
	if spare != nil {
		unmapAnswer(spare)
	}
	// The size hint is an estimate: leave room rather than let the
	// answer outgrow the mapping into the heap.
	b, mapped := mapAnswer(hint + hint/8)
	return answerBuf{b: b, mapped: mapped}
}

// put takes back buf once body, what encoding appended to it (another
// array if the answer outgrew it), has been written and is no longer
// referenced.
func (a *answerBufs) put(buf answerBuf, body []byte) {
	if !buf.mapped {
		if cap(body) <= maxSmallAnswer {
			box := buf.box
			if box == nil {
				box = new([]byte)
			}
			*box = body[:0]
			a.small.Put(box)
		}
		return
	}
	a.mu.Lock()
	if a.spare != nil {
		// Another large answer's mapping is already kept.
		a.mu.Unlock()
		unmapAnswer(buf.b)
		return
	}
	a.spare = buf.b
	a.lastPut = time.Now()
	if !a.armed {
		a.armed = true
		if a.timer == nil {
			a.timer = time.AfterFunc(largeLinger, a.release)
		} else {
			a.timer.Reset(largeLinger)
		}
	}
	a.mu.Unlock()
}

// release unmaps the idle mapping once largeLinger has passed since the
// last large answer.
func (a *answerBufs) release() {
	a.mu.Lock()
	if a.spare != nil {
		if wait := largeLinger - time.Since(a.lastPut); wait > 0 {
			a.timer.Reset(wait)
			a.mu.Unlock()
			return
		}
	}
	a.armed = false
	spare := a.spare
	a.spare = nil
	a.mu.Unlock()
	if spare != nil {
		unmapAnswer(spare)
	}
}

// held reports whether an idle mapping is kept (tests).
func (a *answerBufs) held() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.spare != nil
}
