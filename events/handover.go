package events

import "fmt"

// Hand-over of the event system across an in-place re-exec of supervisord
// (issue 16): the global serial, the tick slices already seen and every
// pool's serial, buffered events and listener protocol states (a listener
// in the middle of an event stays BUSY with that event and answers it to
// the new image).

// BusState is the Bus as handed over.
type BusState struct {
	Serial int64           `json:"serial"`
	Ticks  map[int64]int64 `json:"ticks,omitempty"`
	Pools  []PoolState     `json:"pools,omitempty"`
}

// PoolState is one pool as handed over.
type PoolState struct {
	Name      string             `json:"name"`
	Serial    int64              `json:"serial"`
	Buffer    []QueuedEvent      `json:"buffer,omitempty"`
	Listeners []ListenerHandover `json:"listeners,omitempty"`
}

// QueuedEvent is one event in a pool, with its global and pool serials.
type QueuedEvent struct {
	Type       string `json:"type"`
	Payload    string `json:"payload"`
	Process    string `json:"process,omitempty"`
	Group      string `json:"group,omitempty"`
	PID        int    `json:"pid,omitempty"`
	Serial     int64  `json:"serial"`
	PoolSerial int64  `json:"pool_serial"`
}

// ListenerHandover is one listener's protocol state as handed over.
type ListenerHandover struct {
	Name      string       `json:"name"`
	PID       int          `json:"pid"`
	Alive     bool         `json:"alive"`
	Running   bool         `json:"running"`
	State     int          `json:"state"`
	Event     *QueuedEvent `json:"event,omitempty"`
	StateBuf  []byte       `json:"state_buf,omitempty"`
	Result    []byte       `json:"result,omitempty"`
	ResultLen int          `json:"result_len"`
}

func queuedState(q *queued) QueuedEvent {
	e := q.d.ev
	return QueuedEvent{Type: e.typ.String(), Payload: e.payload, Process: e.process, Group: e.group, PID: e.pid, Serial: q.d.serial, PoolSerial: q.poolSerial}
}

func (qe QueuedEvent) queued() (*queued, error) {
	t, ok := TypeByName(qe.Type)
	if !ok || t.Abstract() {
		return nil, fmt.Errorf("event %d: unknown event type %q", qe.Serial, qe.Type)
	}
	ev := &Event{typ: t, payload: qe.Payload, process: qe.Process, group: qe.Group, pid: qe.PID}
	return &queued{d: &delivery{ev: ev, serial: qe.Serial}, poolSerial: qe.PoolSerial}, nil
}

// Freeze stops the Bus goroutine after everything queued so far was
// handled and returns its state; events published meanwhile wait in the
// queue. thaw lets it go on (the exec failed).
func (b *Bus) Freeze() (st BusState, thaw func()) {
	release := make(chan struct{})
	frozen := make(chan struct{})
	if !b.enqueue(func() {
		st = b.snapshot()
		close(frozen)
		<-release
	}) {
		return BusState{Serial: -1}, func() {}
	}
	<-frozen
	once := false
	return st, func() {
		if !once {
			once = true
			close(release)
		}
	}
}

// snapshot runs on the Bus goroutine.
func (b *Bus) snapshot() BusState {
	st := BusState{Serial: b.serial, Ticks: map[int64]int64{}}
	for k, v := range b.ticks {
		st.Ticks[k] = v
	}
	for _, p := range b.pools {
		ps := PoolState{Name: p.name, Serial: p.serial}
		seen := map[*delivery]bool{}
		for _, q := range p.buffer {
			ps.Buffer = append(ps.Buffer, queuedState(q))
			seen[q.d] = true
		}
		for _, l := range p.listeners {
			ls := ListenerHandover{Name: l.name, PID: l.pid, Alive: l.alive, Running: l.running, State: int(l.state),
				StateBuf: l.stateBuf, Result: l.result, ResultLen: l.resultLen}
			if l.event != nil {
				qe := queuedState(l.event)
				ls.Event = &qe
			}
			ps.Listeners = append(ps.Listeners, ls)
		}
		st.Pools = append(st.Pools, ps)
	}
	return st
}

// Restore takes over a handed-over state: the global serial and tick
// slices, and for each pool of that name added since, its serial, buffer
// and listeners. Call it after the pools were added and before anything
// is published. It reports the pools of st that no longer exist.
func (b *Bus) Restore(st BusState) (missing []string, err error) {
	b.call(func() {
		b.serial = st.Serial
		for k, v := range st.Ticks {
			b.ticks[k] = v
		}
		for _, ps := range st.Pools {
			var p *Pool
			for _, q := range b.pools {
				if q.name == ps.Name {
					p = q
				}
			}
			if p == nil {
				missing = append(missing, ps.Name)
				continue
			}
			if e := p.restore(ps); e != nil && err == nil {
				err = e
			}
		}
	})
	return missing, err
}

func (p *Pool) restore(ps PoolState) error {
	p.serial = ps.Serial
	p.buffer = p.buffer[:0]
	for _, qe := range ps.Buffer {
		q, err := qe.queued()
		if err != nil {
			return fmt.Errorf("pool %s: %w", p.name, err)
		}
		p.buffer = append(p.buffer, q)
	}
	for _, ls := range ps.Listeners {
		l := p.listener(ls.Name)
		if l == nil {
			continue
		}
		l.pid, l.alive, l.running = ls.PID, ls.Alive, ls.Running
		l.state = ListenerState(ls.State)
		l.stateBuf, l.result, l.resultLen = ls.StateBuf, ls.Result, ls.ResultLen
		l.event = nil
		if ls.Event != nil {
			q, err := ls.Event.queued()
			if err != nil {
				return fmt.Errorf("pool %s: listener %s: %w", p.name, ls.Name, err)
			}
			l.event = q
		}
	}
	return nil
}
