// Package events owns supervisor 4.2.5's event system: the event types and
// their hierarchy, payload and envelope serialization byte-for-byte as Python
// renders them, the global and per-pool serial counters, event listener
// pools with their bounded buffers, the READY/RESULT listener protocol read
// from each listener's stdout, and TICK_5/60/3600 generation.
//
// It knows nothing about processes beyond what it is told: procman (or any
// caller) publishes state changes with Bus.ProcessTransition, hands each
// listener's stdout bytes to Pool.Feed and writes envelopes through the
// Listener interface. All state lives in one Bus, owned by a single
// goroutine: every entry point only queues a message and returns, so no
// caller can deadlock with it and callbacks into the caller (Listener,
// Logger, Clock) are made from that goroutine only.
//
// Python quirk kept by default: the envelope's len: is the payload length in
// characters (a Python str length), not bytes, although the payload is sent
// UTF-8 encoded; Options.ByteLength switches to a byte count.
package events
