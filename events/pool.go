package events

import (
	"bytes"
	"errors"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// delivery is one published event with its global serial, shared by every
// pool that accepted it.
type delivery struct {
	ev     *Event
	serial int64
}

// queued is a delivery in one pool, with that pool's serial (kept when the
// event is rebuffered).
type queued struct {
	d          *delivery
	poolSerial int64
}

// listenerRuntime is a pool's view of one listener process: Python's
// process.listener_state, process.event and its PEventListenerDispatcher.
type listenerRuntime struct {
	h         Listener
	name      string
	pid       int
	alive     bool // a spawned instance whose exit we have not seen
	running   bool // process state RUNNING: only then it gets events
	state     ListenerState
	event     *queued // the event being processed (BUSY)
	stateBuf  []byte
	result    []byte
	resultLen int // -1: no RESULT line read yet
}

func newListenerRuntime(h Listener) *listenerRuntime {
	return &listenerRuntime{h: h, name: h.Name(), state: ListenerAcknowledged, resultLen: -1}
}

// Pool is one event listener pool ([eventlistener:x]): a bounded buffer of
// events and the listeners they are dispatched to. Its methods queue
// messages for the Bus goroutine.
type Pool struct {
	bus  *Bus
	name string
	cfg  PoolConfig

	// Owned by the Bus goroutine.
	serial    int64
	buffer    []*queued
	listeners []*listenerRuntime
	removed   bool
}

// Name returns the pool name.
func (p *Pool) Name() string { return p.name }

func (p *Pool) subscribed(t Type) bool {
	for _, s := range p.cfg.Events {
		if t.Is(s) {
			return true
		}
	}
	return false
}

func (p *Pool) listener(name string) *listenerRuntime {
	for _, l := range p.listeners {
		if l.name == name {
			return l
		}
	}
	return nil
}

// ListenerSpawned tells the pool a new instance of the listener started
// (call it before feeding that instance's stdout): its protocol state
// starts over at ACKNOWLEDGED, and an event a previous instance left
// unanswered is rebuffered at the head.
func (p *Pool) ListenerSpawned(listener string, pid int) {
	p.bus.enqueue(func() {
		l := p.listener(listener)
		if l == nil || p.removed {
			return
		}
		p.finish(l)
		l.pid, l.alive, l.running = pid, true, false
		l.state, l.stateBuf, l.result, l.resultLen = ListenerAcknowledged, nil, nil, -1
	})
}

// Feed hands the pool bytes the listener instance pid wrote on its stdout
// (any split: partial tokens wait for the rest, several messages in one
// chunk are all handled). Output of an instance that is gone or was
// replaced (another pid) is ignored; pid 0 means the current instance.
// data is copied.
func (p *Pool) Feed(listener string, pid int, data []byte) {
	if len(data) == 0 {
		return
	}
	data = bytes.Clone(data)
	p.bus.enqueue(func() {
		l := p.listener(listener)
		if l == nil || p.removed || !l.alive || (pid != 0 && pid != l.pid) {
			return
		}
		l.stateBuf = append(l.stateBuf, data...)
		p.handleListenerStateChange(l)
		p.dispatch()
	})
}

// ListenerExited tells the pool the listener instance with that pid died
// (Bus.ProcessTransition does this from EXITED/STOPPED/BACKOFF). A pid of 0
// means the current instance.
func (p *Pool) ListenerExited(listener string, pid int) {
	p.bus.enqueue(func() {
		if l := p.listener(listener); l != nil && !p.removed {
			if pid == 0 || l.pid == 0 || pid == l.pid {
				p.finish(l)
			}
		}
	})
}

// finish is Subprocess.finish's part for listeners: the instance is gone,
// an event it was processing is rejected and rebuffered.
func (p *Pool) finish(l *listenerRuntime) {
	l.alive, l.running = false, false
	if l.event != nil {
		q := l.event
		l.event = nil
		p.accept(q, true)
		p.dispatch()
	}
}

// transition follows a listener's process state (the Bus goroutine).
func (p *Pool) transition(sc StateChange) {
	l := p.listener(sc.Process)
	if l == nil || p.removed {
		return
	}
	stale := sc.PID != 0 && l.pid != 0 && sc.PID != l.pid
	switch sc.To {
	case "RUNNING":
		if !stale {
			l.running = true
			p.dispatch()
		}
	case "EXITED", "STOPPED", "BACKOFF":
		if !stale {
			p.finish(l)
		}
	default:
		if !stale {
			l.running = false
		}
	}
}

// accept is EventListenerPool._acceptEvent: a full buffer drops its oldest
// event; head puts the event first (a rebuffered event).
func (p *Pool) accept(q *queued, head bool) {
	b := p.bus
	if head {
		b.logf(config.LevelDebug, "rebuffering event %d for pool %s (buf size=%d, max=%d)",
			q.d.serial, p.name, len(p.buffer), p.cfg.BufferSize)
	}
	if len(p.buffer) >= p.cfg.BufferSize && len(p.buffer) > 0 {
		discarded := p.buffer[0]
		p.buffer[0] = nil
		p.buffer = p.buffer[1:]
		b.logf(config.LevelError, "pool %s event buffer overflowed, discarding event %d", p.name, discarded.d.serial)
	}
	if head {
		p.buffer = append([]*queued{q}, p.buffer...)
	} else {
		p.buffer = append(p.buffer, q)
	}
}

func (p *Pool) dispatchable() bool {
	for _, l := range p.listeners {
		if l.running && l.state == ListenerReady {
			return true
		}
	}
	return false
}

// dispatch is EventListenerPool.dispatch: the oldest events go to ready
// listeners while there are both.
func (p *Pool) dispatch() {
	for len(p.buffer) > 0 && !p.removed && p.dispatchable() {
		q := p.buffer[0]
		p.buffer[0] = nil
		p.buffer = p.buffer[1:]
		if !p.dispatchEvent(q) {
			p.accept(q, true)
			return
		}
	}
}

func (p *Pool) dispatchEvent(q *queued) bool {
	b := p.bus
	for _, l := range p.listeners {
		if !l.running || l.state != ListenerReady {
			continue
		}
		env := q.d.ev.Envelope(b.identifier, q.d.serial, p.name, q.poolSerial, b.opts.ByteLength)
		if err := l.h.WriteStdin([]byte(env)); err != nil {
			b.logf(config.LevelDebug, "epipe occurred while sending event %d to listener %s, listener state unchanged",
				q.d.serial, l.name)
			continue
		}
		l.state = ListenerBusy
		l.event = q
		b.logf(config.LevelDebug, "event %d sent to listener %s", q.d.serial, l.name)
		return true
	}
	return false
}

func (p *Pool) changeState(l *listenerRuntime, to ListenerState) {
	b := p.bus
	b.logf(config.LevelDebug, "%s: %s -> %s", l.name, l.state, to)
	l.state = to
	if to == ListenerUnknown {
		b.logf(config.LevelWarn, "%s: has entered the UNKNOWN state and will no longer receive events, "+
			"this usually indicates the process violated the eventlistener protocol", l.name)
	}
}

// reject is notify(EventRejectedEvent): the event goes back to the head.
func (p *Pool) reject(l *listenerRuntime) {
	if l.event != nil {
		q := l.event
		l.event = nil
		p.accept(q, true)
	}
}

// handleListenerStateChange is PEventListenerDispatcher's
// handle_listener_state_change, iterating where Python recurses.
func (p *Pool) handleListenerStateChange(l *listenerRuntime) {
	b := p.bus
	for len(l.stateBuf) > 0 {
		switch l.state {
		case ListenerUnknown:
			l.stateBuf = nil
			return
		case ListenerAcknowledged:
			if len(l.stateBuf) < len(readyToken) {
				return
			}
			if bytes.HasPrefix(l.stateBuf, readyToken) {
				p.changeState(l, ListenerReady)
				l.stateBuf = l.stateBuf[len(readyToken):]
			} else {
				p.changeState(l, ListenerUnknown)
				l.stateBuf = nil
			}
			l.event = nil
		case ListenerReady:
			p.changeState(l, ListenerUnknown)
			l.stateBuf = nil
			l.event = nil
			return
		case ListenerBusy:
			if l.resultLen < 0 {
				pos := bytes.IndexByte(l.stateBuf, '\n')
				if pos < 0 {
					return
				}
				line := l.stateBuf[:pos]
				l.stateBuf = l.stateBuf[pos+1:]
				var lenText []byte
				if len(line) > resultTokenStart {
					lenText = line[resultTokenStart:]
				}
				n, ok := parsePyInt(lenText)
				if !ok {
					shown := string(line)
					if !utf8.Valid(line) {
						shown = "Undecodable: " + pyrepr.Bytes(line)
					}
					b.logf(config.LevelWarn, "%s: bad result line: '%s'", l.name, shown)
					p.changeState(l, ListenerUnknown)
					l.stateBuf = nil
					p.reject(l)
					return
				}
				l.resultLen = n
				continue
			}
			if needed := l.resultLen - len(l.result); needed > 0 {
				take := min(needed, len(l.stateBuf))
				l.result = append(l.result, l.stateBuf[:take]...)
				l.stateBuf = l.stateBuf[take:]
			}
			if len(l.result) == l.resultLen {
				p.handleResult(l, l.result)
				l.event = nil
				l.result, l.resultLen = nil, -1
			}
		}
	}
}

// handleResult is PEventListenerDispatcher.handle_result.
func (p *Pool) handleResult(l *listenerRuntime, result []byte) {
	b := p.bus
	var ev *Event
	if l.event != nil {
		ev = l.event.d.ev
	}
	err := p.cfg.ResultHandler(ev, result)
	switch {
	case err == nil:
		b.logf(config.LevelDebug, "%s: event was processed", l.name)
		p.changeState(l, ListenerAcknowledged)
	case errors.Is(err, ErrRejected):
		b.logf(config.LevelWarn, "%s: event was rejected", l.name)
		p.changeState(l, ListenerAcknowledged)
		p.reject(l)
	default:
		b.logf(config.LevelWarn, "%s: event caused an error", l.name)
		p.changeState(l, ListenerUnknown)
		p.reject(l)
	}
}

// ListenerStatus is a snapshot of one listener of a pool.
type ListenerStatus struct {
	Name    string
	PID     int
	Running bool
	State   ListenerState
	Event   int64 // serial of the event being processed, -1 for none
}

// PoolStatus is a snapshot of a pool.
type PoolStatus struct {
	Name      string
	Serial    int64   // last pool serial assigned (-1 before the first)
	Buffered  []int64 // global serials of the buffered events, oldest first
	Listeners []ListenerStatus
}

// Status returns a snapshot of the pool, after everything queued before it
// was handled. Do not call it from a Listener or Logger.
func (p *Pool) Status() PoolStatus {
	var st PoolStatus
	p.bus.call(func() {
		st.Name, st.Serial = p.name, p.serial
		for _, q := range p.buffer {
			st.Buffered = append(st.Buffered, q.d.serial)
		}
		for _, l := range p.listeners {
			ls := ListenerStatus{Name: l.name, PID: l.pid, Running: l.running, State: l.state, Event: -1}
			if l.event != nil {
				ls.Event = l.event.d.serial
			}
			st.Listeners = append(st.Listeners, ls)
		}
	})
	return st
}
