package procman

import (
	"errors"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Exit is one child reaped by the Reaper.
type Exit struct {
	Pid    int
	Status syscall.WaitStatus
	Time   time.Time // wall-clock time of the reap
}

// Reaper is the one owner of wait4 in the process. On SIGCHLD it reaps every
// exited child and hands each exit to the callback registered for its pid.
// A child must be started through Start, which registers the callback under
// the reaper's lock, so an exit that beats Start returning is never lost.
//
// With reapAll (the default when we are PID 1) it calls wait4(-1) and also
// reaps orphans re-parented to us, handing those to the orphan callback.
// Without it, it reaps only the pids it started, so children that other code
// in the process starts with os/exec are left to their owners.
type Reaper struct {
	// mu is held shared by spawns (so they run in parallel) and exclusively
	// by reap, so no pid is reaped between its fork and its registration.
	mu     sync.RWMutex
	subsMu sync.Mutex
	subs   map[int]sub
	// inflight holds the exits taken from subs and not yet delivered
	// (handover.go); early the exits of reserved pids nobody adopted yet.
	inflight map[int]Exit
	early    map[int]Exit
	reapAll  bool
	orphan   func(Exit)
	after    atomic.Pointer[func()] // see OnReaped
	// delivering counts the exits handed to their owners and not yet
	// handled (Close waits for them).
	delivering sync.WaitGroup

	// expect queues the pids told to exit, tried before a scan (see
	// scanEvery). lastScan and scanOwed belong to the reaper goroutine.
	expectMu sync.Mutex
	expect   []int
	lastScan time.Time
	scanOwed bool

	sigc      chan os.Signal
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// NewReaper starts the reaper goroutine. orphan (may be nil) is called, as
// the callbacks of Start are, for every reaped pid nobody registered.
func NewReaper(reapAll bool, orphan func(Exit)) *Reaper {
	return NewReaperAdopting(reapAll, orphan, nil)
}

// NewReaperAdopting is NewReaper for a daemon that took over children from
// a previous image of itself: the reserved pids are ours before the reaper
// goroutine starts, so an exit that happened during the hand-over is kept
// for Adopt rather than handed to orphan (with reapAll).
func NewReaperAdopting(reapAll bool, orphan func(Exit), reserved []int) *Reaper {
	r := newReaper(reapAll, orphan)
	for _, pid := range reserved {
		r.subs[pid] = sub{}
	}
	signal.Notify(r.sigc, syscall.SIGCHLD)
	go r.loop()
	return r
}

// newReaper is a Reaper whose goroutine is not started yet.
func newReaper(reapAll bool, orphan func(Exit)) *Reaper {
	return &Reaper{
		subs:     make(map[int]sub),
		inflight: make(map[int]Exit),
		early:    make(map[int]Exit),
		reapAll:  reapAll,
		orphan:   orphan,
		sigc:     make(chan os.Signal, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// Adopt watches pid, a child a previous image of the daemon started and
// NewReaperAdopting reserved (or any child of ours): onExit is called once
// when it exits, also when that happened before Adopt.
func (r *Reaper) Adopt(pid int, onExit func(Exit)) {
	r.mu.RLock()
	r.subsMu.Lock()
	ex, gone := r.early[pid]
	if gone {
		delete(r.early, pid)
	} else {
		r.subs[pid] = sub{cb: onExit}
	}
	r.subsMu.Unlock()
	r.mu.RUnlock()
	if gone {
		go onExit(ex)
		return
	}
	// It may have exited before it was ours to reap: look now.
	select {
	case r.sigc <- syscall.SIGCHLD:
	default:
	}
}

// inflightExit reports the exit of pid when it was reaped and its delivery
// has not finished. The caller holds r.mu (Freeze).
func (r *Reaper) inflightExit(pid int) (Exit, bool) {
	r.subsMu.Lock()
	defer r.subsMu.Unlock()
	ex, ok := r.inflight[pid]
	return ex, ok
}

// Close stops the reaper goroutine and waits for the exits it reaped to be
// delivered. Exits of children still registered are no longer delivered.
func (r *Reaper) Close() {
	r.closeOnce.Do(func() {
		signal.Stop(r.sigc)
		close(r.stop)
		<-r.done
		r.delivering.Wait()
	})
}

// Start runs spawn (which forks and returns the child's pid) under the
// reaper's lock and registers onExit for that pid before the lock is
// released. onExit is called once, on a goroutine of its own (the exits of
// one reap are delivered in parallel, and the reaper does not wait for
// them before it reaps again). Spawns run
// in parallel unless exclusive is set (for a spawn that changes
// process-wide state such as the umask).
func (r *Reaper) Start(exclusive bool, spawn func() (int, error), onExit func(Exit)) (int, error) {
	return r.start(exclusive, spawn, sub{cb: onExit})
}

// start is Start with the exit's handling in s: quick, when set, is tried
// first by the goroutine that delivers the reap's exits in turn; it must
// not block, and reports false (having done nothing) for an exit that
// needs waiting for, which then goes to cb on a goroutine of its own. A
// mass stop's exits are so handled without a goroutine (and its stack
// growth and thread hand-off) each.
func (r *Reaper) start(exclusive bool, spawn func() (int, error), s sub) (int, error) {
	if exclusive {
		r.mu.Lock()
		defer r.mu.Unlock()
	} else {
		r.mu.RLock()
		defer r.mu.RUnlock()
	}
	pid, err := spawn()
	if err != nil {
		return 0, err
	}
	r.subsMu.Lock()
	r.subs[pid] = s
	r.subsMu.Unlock()
	return pid, nil
}

func (r *Reaper) loop() {
	defer close(r.done)
	r.reap() // children that exited before we were listening
	var owed *time.Timer
	for {
		var scan <-chan time.Time
		if r.scanOwed {
			if owed == nil {
				owed = time.NewTimer(scanEvery)
			} else {
				owed.Reset(scanEvery)
			}
			scan = owed.C
		}
		select {
		case <-r.stop:
			return
		case <-r.sigc:
		case <-scan:
		}
		r.reap()
	}
}

// sub is how an exit is handed to its owner: cb on a goroutine of its
// own, unless quick (may be nil), tried first on the goroutine that
// delivers the reap's exits one after another, handles it at once.
type sub struct {
	cb    func(Exit)
	quick func(Exit) bool
}

type reaped struct {
	exit Exit
	sub
}

// Finding exited children. waitid(P_ALL) and wait4(-1) walk the list of
// every child of the process, alive ones included, up to the first that
// has exited: O(N) per call, and the children a stop signals last
// (ascending start order, descending stop order) sit at the end of that
// list, so a mass stop found each exit with a walk over the children still
// alive. wait4(pid) looks at one child. So the pids that were told to exit
// (Expect: a stop signal, SIGKILL) are tried first, one wait4(pid) each;
// a walk runs only when they do not explain the SIGCHLD, and at least
// every scanEvery (the loop runs one then if no SIGCHLD came meanwhile), so
// a child that exits on its own during a mass stop is found within
// scanEvery.
const (
	scanEvery = 50 * time.Millisecond
	// expectMisses is how many expected pids still alive one reap tries
	// beyond one per pid it found exited; before it found one it tries
	// as many as cost about one walk (len(subs)/walkPerTry).
	expectMisses = 8
	walkPerTry   = 16
)

// Expect tells the reaper that pid, a child of ours, was told to exit
// (a stop signal or SIGKILL), so it is looked for first.
func (r *Reaper) Expect(pid int) {
	r.expectMu.Lock()
	r.expect = append(r.expect, pid)
	r.expectMu.Unlock()
}

// reapExpected reaps the expected pids that have exited, in the order
// they were expected; the ones it found alive go to the back of the
// queue. It reports how many it reaped. Only a reap's first call (first)
// tries a walk's worth of pids before it finds one: the later ones follow
// a walk or the first call's hits. The caller holds r.mu and r.subsMu.
func (r *Reaper) reapExpected(take func(int, syscall.WaitStatus), first bool) int {
	r.expectMu.Lock()
	cand := r.expect
	r.expect = nil
	r.expectMu.Unlock()
	if len(cand) == 0 {
		return 0
	}
	hits, misses, i := 0, 0, 0
	blind := expectMisses
	if first {
		blind = max(expectMisses, len(r.subs)/walkPerTry)
	}
	var alive []int
	for ; i < len(cand); i++ {
		if hits > 0 && misses >= expectMisses+hits || misses >= blind {
			break
		}
		pid := cand[i]
		if _, ours := r.subs[pid]; !ours {
			continue // reaped by a walk, or not ours to reap
		}
		var ws syscall.WaitStatus
		got, err := wait4NoHang(pid, &ws)
		switch {
		case err == nil && got == pid:
			take(pid, ws)
			hits++
		case err == nil:
			alive = append(alive, pid)
			misses++
		}
	}
	rest := append(cand[i:], alive...)
	r.expectMu.Lock()
	r.expect = append(rest, r.expect...)
	r.expectMu.Unlock()
	return hits
}

// reap collects exited children (see above), then hands them over.
func (r *Reaper) reap() {
	r.mu.Lock()
	r.subsMu.Lock()
	var out []reaped
	now := time.Now()
	take := func(pid int, ws syscall.WaitStatus) {
		sb, reserved := r.subs[pid]
		delete(r.subs, pid)
		ex := Exit{Pid: pid, Status: ws, Time: now}
		if reserved && sb.cb == nil {
			r.early[pid] = ex // a hand-over's child not adopted yet
			return
		}
		if sb.cb != nil {
			r.inflight[pid] = ex
		}
		out = append(out, reaped{ex, sb})
	}
	r.scanOwed = false
	for first := true; ; first = false {
		if hits := r.reapExpected(take, first); hits > 0 {
			if now.Sub(r.lastScan) < scanEvery {
				r.scanOwed = true
				break
			}
			// A scan is due: first take what the expect queue
			// explains (a pid each), then walk for the rest.
			continue
		}
		if !r.walk(take) {
			r.lastScan = now
			break
		}
	}
	r.subsMu.Unlock()
	r.mu.Unlock()
	r.deliver(out)
}

// walk reaps one exited child it may (any child with reapAll, else a
// registered one) found by a walk over the children, and reports whether
// it found one. The caller holds r.mu and r.subsMu.
func (r *Reaper) walk(take func(int, syscall.WaitStatus)) bool {
	if r.reapAll {
		for {
			var ws syscall.WaitStatus
			pid, err := wait4Raw(-1, &ws)
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if err != nil || pid <= 0 {
				return false
			}
			take(pid, ws)
			return true
		}
	}
	pid, err := waitidPeek(pAll, 0)
	if err != nil || pid <= 0 {
		return false
	}
	if _, ours := r.subs[pid]; !ours {
		// Someone else's zombie hides the rest: check ours one by one.
		for p := range r.subs {
			var ws syscall.WaitStatus
			if got, err := wait4NoHang(p, &ws); err == nil && got == p {
				take(p, ws)
			}
		}
		return false
	}
	var ws syscall.WaitStatus
	if got, err := wait4NoHang(pid, &ws); err == nil && got == pid {
		take(pid, ws)
		return true
	}
	return false
}

// deliver hands the exits of one reap to their owners and returns at
// once: a delivery may wait for the child's output to settle (up to
// settleTimeout) and for its process's lock, and the reaper must not wait
// for the slowest of a batch before it reaps again. One goroutine goes
// through the batch and handles each exit whose owner can take it at once
// (quick); the others each get a goroutine of their own. The last
// delivery of the batch calls the OnReaped hook.
func (r *Reaper) deliver(out []reaped) {
	if len(out) == 0 {
		return
	}
	var left atomic.Int32
	left.Store(int32(len(out)))
	r.delivering.Add(len(out))
	done := func(d reaped) {
		if d.cb != nil {
			r.subsMu.Lock()
			delete(r.inflight, d.exit.Pid)
			r.subsMu.Unlock()
		}
		if left.Add(-1) == 0 {
			if f := r.after.Load(); f != nil {
				(*f)()
			}
		}
		r.delivering.Done()
	}
	slow := func(d reaped) {
		if d.cb != nil {
			d.cb(d.exit)
		} else if r.orphan != nil {
			r.orphan(d.exit)
		}
		done(d)
	}
	go func() {
		for _, d := range out {
			if d.quick != nil && d.quick(d.exit) {
				done(d)
				continue
			}
			go slow(d)
		}
	}()
}

// OnReaped sets f (nil: none) to be called, by the last of their
// deliveries, after the exits one SIGCHLD brought were handled, children's last output and
// exit lines included: supervisord logs "received SIGCHLD" there, after the
// exits, as Python does.
func (r *Reaper) OnReaped(f func()) {
	if f == nil {
		r.after.Store(nil)
		return
	}
	r.after.Store(&f)
}

func wait4NoHang(pid int, ws *syscall.WaitStatus) (int, error) {
	for {
		got, err := wait4Raw(pid, ws)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		return got, err
	}
}

// The reaper's wait calls never block (WNOHANG), so they are made as raw
// system calls, which keep the goroutine's P: with syscall.Wait4 the
// runtime marks the P as in a system call, and when the thread is
// preempted inside it (the children being reaped compete for the same
// CPUs) sysmon hands the P to another thread, and the reaper's thread,
// back from the call, finds none and parks: two thread switches for one
// reap, many times per mass stop, and sysmon kept at its fastest tick.

// wait4Raw is wait4(pid, ws, WNOHANG, nil).
func wait4Raw(pid int, ws *syscall.WaitStatus) (int, error) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_WAIT4, uintptr(pid), uintptr(unsafe.Pointer(ws)), syscall.WNOHANG, 0, 0, 0)
	if e != 0 {
		return int(r), e
	}
	return int(r), nil
}

// exited reports whether pid (a child we started) has exited: it is a zombie
// or has already been reaped. It never reaps.
func (r *Reaper) exited(pid int) bool {
	got, err := waitidPeek(pPID, pid)
	if err != nil {
		return true // ECHILD: already reaped, the exit is on its way
	}
	return got == pid
}

const (
	pAll    = 0
	pPID    = 1
	wExited = 0x4
	wNoWait = 0x1000000
)

// waitidPeek calls waitid(idtype, id, WEXITED|WNOHANG|WNOWAIT) and returns
// the pid of an exited child without reaping it (0 if none has exited).
func waitidPeek(idtype, id int) (int, error) {
	var info [128]byte // siginfo_t
	for {
		_, _, e := syscall.RawSyscall6(syscall.SYS_WAITID, uintptr(idtype), uintptr(id),
			uintptr(unsafe.Pointer(&info[0])), wExited|syscall.WNOHANG|wNoWait, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		break
	}
	// si_pid is the first member of the union that follows three ints,
	// aligned to the pointer size.
	const ptr = unsafe.Sizeof(uintptr(0))
	const off = (12 + ptr - 1) &^ (ptr - 1)
	return int(*(*int32)(unsafe.Pointer(&info[off]))), nil
}
