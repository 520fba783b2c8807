package events

import "time"

// neededTicks returns, per tick period, whether some pool subscribes to
// its TICK_* type (TICK and EVENT included).
func (b *Bus) neededTicks() map[int64]bool {
	need := map[int64]bool{}
	for _, tp := range tickPeriods {
		for _, p := range b.pools {
			if p.subscribed(tp.typ) {
				need[tp.period] = true
				break
			}
		}
	}
	return need
}

// updateTicks starts tracking the periods some pool now needs (recording
// their current time slice, as Python's first tick() does), forgets the
// others and re-arms the timer; with no tick subscriber there is no timer
// at all.
func (b *Bus) updateTicks() {
	need := b.neededTicks()
	now := b.opts.Clock.Now().Unix()
	for period := range b.ticks {
		if !need[period] {
			delete(b.ticks, period)
		}
	}
	for period := range need {
		if _, ok := b.ticks[period]; !ok {
			b.ticks[period] = timeslice(period, now)
		}
	}
	b.armTick()
}

// armTick sets the timer for the next time-slice boundary of a tracked
// period.
func (b *Bus) armTick() {
	if b.tickTimer != nil {
		b.tickTimer.Stop()
		b.tickTimer = nil
	}
	b.tickGen++
	if len(b.ticks) == 0 {
		return
	}
	// The next boundary after now (not after the last slice seen: after a
	// backward clock jump that would be far away, while Python, checking
	// every second, ticks at once).
	now := b.opts.Clock.Now()
	var next int64 = -1
	for period := range b.ticks {
		if n := timeslice(period, now.Unix()) + period; next < 0 || n < next {
			next = n
		}
	}
	d := time.Unix(next, 0).Sub(now)
	if d < time.Millisecond {
		d = time.Millisecond
	}
	gen := b.tickGen
	b.tickTimer = b.opts.Clock.AfterFunc(d, func() {
		b.enqueue(func() {
			if gen == b.tickGen {
				b.tickTimer = nil
				b.tick()
			}
		})
	})
}

// tick is supervisord.tick: for each period whose time slice rolled over,
// raise its TICK_* event (TICK_5, TICK_60, TICK_3600 in that order).
func (b *Bus) tick() {
	now := b.opts.Clock.Now().Unix()
	for _, tp := range tickPeriods {
		last, ok := b.ticks[tp.period]
		if !ok {
			continue
		}
		this := timeslice(tp.period, now)
		if this != last {
			b.ticks[tp.period] = this
			ev, _ := NewTickEvent(tp.typ, this)
			b.publish(ev)
		}
	}
	b.armTick()
}
