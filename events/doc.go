// Package events owns supervisor 4.2.5's event system: the event types and
// their hierarchy, payload and envelope serialization byte-for-byte as Python
// renders them, the global and per-pool serial counters, event listener
// pools with their bounded buffers, the READY/RESULT listener protocol read
// from each listener's stdout, and TICK_5/60/3600 generation.
//
// It knows nothing about processes beyond what it is told: procman (or any
// caller) publishes state changes with Bus.ProcessTransition, hands each
// listener's stdout bytes to Pool.Feed and receives envelopes through the
// Listener interface. All state lives in one Bus, owned by a single
// goroutine. The calls that deliver work (Publish, ProcessTransition,
// AddPool, RemovePool, SetIdentifier, Pool.Feed, Pool.ListenerSpawned,
// Pool.ListenerExited) only queue it and return; the calls that report
// (Sync, Serial, Pool.Status) and Close wait for that goroutine, so they
// must not be made from a callback. Callbacks into the caller (Listener,
// Logger, Clock) are made from that goroutine only; a Listener may call
// Pool.Feed from WriteStdin.
//
// Wiring (one Bus for the daemon's life, so serials survive reloads):
//
//	procman OnTransition(tr) -> bus.ProcessTransition(events.StateChange{Process: tr.Process,
//	        Group: tr.Group, From: tr.From.String(), To: tr.To.String(), PID: tr.PID,
//	        Tries: tr.Tries, Expected: tr.Expected})
//	procman OnGroup(name, added) -> bus.Publish(events.NewGroupEvent(name, added))
//	[eventlistener:x] -> bus.AddPool(PoolConfig{...}) (RemovePool before re-adding on reload)
//	listener stdout sink Consume(r, pid) -> pool.ListenerSpawned(name, pid), then
//	        pool.Feed(name, pid, chunk) for every chunk read
//	child output -> NewLogEvent / NewCommunicationEvent; sendRemoteCommEvent ->
//	        NewRemoteCommunicationEvent; supervisord state -> NewSupervisorStateEvent
//
// Python quirks kept: the envelope's len: is the payload length in
// characters (a Python str length), not bytes, although the payload is sent
// UTF-8 encoded. Python listeners reading sys.stdin in text mode (childutils)
// read characters, so this is what they need; Options.ByteLength switches
// to a byte count for byte-oriented listeners.
//
// Deliberate differences from Python 4.2.5:
//   - A pool subscribed to overlapping types (PROCESS_STATE and
//     PROCESS_STATE_RUNNING) gets each event once; Python buffers and
//     delivers it once per matching subscription (verified: same serial
//     twice).
//   - Python's dispatch loop pops the next event even when no listener is
//     left ready and logs "rebuffering event N" at debug each time; here
//     dispatch stops first, so that debug line only follows real
//     rejections and write failures.
//   - A negative RESULT length is a bad result line (Python would slice the
//     buffer from its end).
//   - Events are dispatched as soon as a listener is ready, not on the next
//     one-second main loop iteration; ticks fire at the slice boundary.
package events
