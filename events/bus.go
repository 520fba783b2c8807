package events

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/clock"
)

// Logger receives the package's main-log messages, with Python's texts. It
// is called from the Bus goroutine only and must not call back into the Bus
// synchronously.
type Logger interface {
	Log(level config.LogLevel, msg string)
}

// Options configures a Bus. Every field is optional.
type Options struct {
	// Identifier is the envelope's server: field ([supervisord] identifier,
	// "supervisor" when empty).
	Identifier string
	Logger     Logger      // nil: messages are dropped
	Clock      clock.Clock // drives TICK_* events; nil: the wall clock
	// ByteLength makes the envelope's len: count UTF-8 bytes instead of
	// characters. Python counts characters (a listener then reads too few
	// bytes of a non-ASCII payload); the default reproduces that.
	ByteLength bool
	// Observe, when set, sees the type name of every event raised, whether
	// or not a pool is subscribed to it (supervisord_events_total). It is
	// called on the Bus goroutine and must not block.
	Observe func(typeName string)
}

// Bus is the event system of one supervisord: the global event serial, the
// listener pools and the tick generator. The daemon keeps one Bus across
// reloads (the serial survives them; pools are removed and added again).
//
// Every method only queues a message for the Bus goroutine and returns,
// except Sync, Serial and Pool.Status, which wait for the answer (do not
// call those from a Listener or Logger).
type Bus struct {
	opts Options

	mu     sync.Mutex
	queue  []func()
	closed bool
	names  map[string]*Pool // pool names registered, for AddPool's checks
	wake   chan struct{}
	done   chan struct{}

	// Owned by the Bus goroutine.
	identifier string
	serial     int64
	pools      []*Pool
	ticks      map[int64]int64 // period -> last time slice seen
	tickTimer  clock.Timer
	tickGen    int
}

// NewBus starts a Bus. Close stops it.
func NewBus(opts Options) *Bus {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Identifier == "" {
		opts.Identifier = "supervisor"
	}
	b := &Bus{
		opts:       opts,
		names:      map[string]*Pool{},
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		identifier: opts.Identifier,
		serial:     -1,
		ticks:      map[int64]int64{},
	}
	go b.run()
	return b
}

// enqueue hands f to the Bus goroutine. It never blocks; after Close it
// drops f and reports false.
func (b *Bus) enqueue(f func()) bool {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return false
	}
	b.queue = append(b.queue, f)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return true
}

// call runs f on the Bus goroutine and waits for it. It reports false (f
// not run) after Close.
func (b *Bus) call(f func()) bool {
	done := make(chan struct{})
	if !b.enqueue(func() { f(); close(done) }) {
		return false
	}
	<-done
	return true
}

func (b *Bus) run() {
	defer close(b.done)
	for range b.wake {
		for {
			b.mu.Lock()
			q := b.queue
			b.queue = nil
			closed := b.closed
			b.mu.Unlock()
			for _, f := range q {
				f()
			}
			if len(q) == 0 {
				if closed {
					if b.tickTimer != nil {
						b.tickTimer.Stop()
						b.tickTimer = nil
					}
					return
				}
				break
			}
		}
	}
}

// Close processes what is already queued, stops the tick timer and the Bus
// goroutine. Later calls are ignored.
func (b *Bus) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		<-b.done
		return
	}
	b.closed = true
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	<-b.done
}

// Sync waits until everything queued before it has been handled.
func (b *Bus) Sync() { b.call(func() {}) }

// Serial returns the last global serial assigned (-1 before the first).
func (b *Bus) Serial() int64 {
	var s int64 = -1
	b.call(func() { s = b.serial })
	return s
}

// SetIdentifier changes the envelope's server: field (after a reload).
func (b *Bus) SetIdentifier(id string) {
	if id == "" {
		id = "supervisor"
	}
	b.enqueue(func() { b.identifier = id })
}

func (b *Bus) logf(level config.LogLevel, format string, args ...any) {
	if b.opts.Logger != nil {
		b.opts.Logger.Log(level, fmt.Sprintf(format, args...))
	}
}

// nextSerial is supervisor.process.new_serial: it counts from 0 and wraps
// to 0 after sys.maxsize.
func nextSerial(s *int64) int64 {
	if *s == math.MaxInt64 {
		*s = -1
	}
	*s++
	return *s
}

// Publish raises ev: every pool subscribed to its type (or a supertype)
// buffers it and dispatches it to a ready listener. The event gets the next
// global serial only if at least one pool accepts it.
func (b *Bus) Publish(ev *Event) {
	if ev == nil {
		return
	}
	b.enqueue(func() { b.publish(ev) })
}

func (b *Bus) publish(ev *Event) {
	if b.opts.Observe != nil {
		b.opts.Observe(ev.Name())
	}
	var d *delivery
	for _, p := range b.pools {
		if !p.subscribed(ev.typ) {
			continue
		}
		if d == nil {
			d = &delivery{ev: ev, serial: nextSerial(&b.serial)}
		}
		p.accept(&queued{d: d, poolSerial: nextSerial(&p.serial)}, false)
		p.dispatch()
	}
}

// ProcessTransition publishes the PROCESS_STATE_* event of a process state
// change and, when the process is a listener of a pool (Group is the pool
// name), follows its state: it receives events only while RUNNING, and an
// event it was processing when it exited (EXITED, STOPPED, BACKOFF) is put
// back at the head of the pool's buffer.
func (b *Bus) ProcessTransition(sc StateChange) error {
	ev, err := NewStateEvent(sc)
	if err != nil {
		return err
	}
	b.enqueue(func() {
		b.publish(ev)
		for _, p := range b.pools {
			if p.name == sc.Group {
				p.transition(sc)
			}
		}
	})
	return nil
}

// PoolConfig describes one [eventlistener:x] pool.
type PoolConfig struct {
	Name       string
	Events     []Type // subscriptions; each matches the type and its subtypes
	BufferSize int    // events kept while no listener is ready; 0 means 10
	// Listeners are the pool's processes, in the order events are offered
	// to them (the numprocs order).
	Listeners []Listener
	// ResultHandler judges RESULT bodies; nil is DefaultResultHandler.
	ResultHandler ResultHandler
}

// Listener is the handle of one listener process the pool writes to.
type Listener interface {
	// Name is the process name (as in StateChange.Process).
	Name() string
	// WriteStdin queues data for the process's stdin. It must not block
	// (buffer what the pipe does not take at once) and must not call back
	// into the Bus; an error (EPIPE, not running) makes the pool offer the
	// event to the next ready listener.
	WriteStdin(data []byte) error
}

// AddPool creates a pool and subscribes it. Pool names are unique: remove
// the old pool first on a reload. A new pool's serial starts at 0.
func (b *Bus) AddPool(cfg PoolConfig) (*Pool, error) {
	if cfg.Name == "" {
		return nil, errors.New("add event listener pool: empty name")
	}
	if cfg.BufferSize < 0 {
		return nil, fmt.Errorf("add event listener pool %s: negative buffer size %d", cfg.Name, cfg.BufferSize)
	}
	if cfg.BufferSize == 0 {
		cfg.BufferSize = 10
	}
	if len(cfg.Events) == 0 {
		return nil, fmt.Errorf("add event listener pool %s: no event types", cfg.Name)
	}
	for _, t := range cfg.Events {
		if !t.valid() {
			return nil, fmt.Errorf("add event listener pool %s: invalid event type %d", cfg.Name, int(t))
		}
	}
	if cfg.ResultHandler == nil {
		cfg.ResultHandler = DefaultResultHandler
	}
	p := &Pool{bus: b, name: cfg.Name, cfg: cfg, serial: -1}
	seen := map[string]bool{}
	for _, l := range cfg.Listeners {
		if l == nil {
			return nil, fmt.Errorf("add event listener pool %s: nil listener", cfg.Name)
		}
		if seen[l.Name()] {
			return nil, fmt.Errorf("add event listener pool %s: duplicate listener %s", cfg.Name, l.Name())
		}
		seen[l.Name()] = true
		p.listeners = append(p.listeners, newListenerRuntime(l))
	}

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, fmt.Errorf("add event listener pool %s: bus closed", cfg.Name)
	}
	if b.names[cfg.Name] != nil {
		b.mu.Unlock()
		return nil, fmt.Errorf("add event listener pool %s: a pool of that name exists", cfg.Name)
	}
	b.names[cfg.Name] = p
	b.mu.Unlock()

	b.enqueue(func() {
		b.pools = append(b.pools, p)
		b.updateTicks()
	})
	return p, nil
}

// RemovePool unsubscribes the named pool; its buffered events are dropped
// (as Python's before_remove does). It reports whether the pool existed.
func (b *Bus) RemovePool(name string) bool {
	b.mu.Lock()
	p := b.names[name]
	delete(b.names, name)
	b.mu.Unlock()
	if p == nil {
		return false
	}
	b.enqueue(func() {
		for i, q := range b.pools {
			if q == p {
				b.pools = append(b.pools[:i], b.pools[i+1:]...)
				break
			}
		}
		p.removed = true
		b.updateTicks()
	})
	return true
}

// Pool returns the pool registered under name, or nil.
func (b *Bus) Pool(name string) *Pool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.names[name]
}
