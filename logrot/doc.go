// Package logrot owns everything supervisord does with log bytes: capturing a
// child's stdout/stderr pipes (Channel, one per process channel, sharing a
// Hub), writing them to files rotated with lumberjack, capture mode and the
// PROCESS_LOG/PROCESS_COMMUNICATION hooks, the main supervisord log
// (MainLog), AUTO child log names and their cleanup, and Python's
// readFile/tailFile semantics plus the follower behind the HTTP /logtail and
// /mainlogtail streams.
//
// No byte is dropped silently: a slow disk slows the reader, which slows the
// child (backpressure); a failed write (a full disk) is counted in
// Stats.Dropped and reported in the main log once per episode, and the child
// is never blocked by it. Bytes are never decoded or altered (except by
// strip_ansi when configured).
//
// Differences from Python supervisor 4.2.5, on purpose:
//   - Rotated backups are named by lumberjack, `<name>-<UTC timestamp>.<ext>`
//     (app-2026-11-25T22-00-00.000.log), not app.log.1, app.log.2 (README
//     must list this). Two rotations never share a millisecond, so a backup
//     is never overwritten.
//   - Logs rotate at a line boundary before a file would pass maxbytes (see
//     sink_rotate.go): no file exceeds maxbytes and no line shorter than
//     maxbytes is split. Python rotates after the write that reaches
//     maxbytes, cutting lines wherever a read ended.
//   - Capture mode does not hold back output shorter than a token, and bytes
//     held back for a possible split token are flushed at EOF (Python loses
//     up to 24 trailing bytes of a process in capture mode).
//   - strip_ansi keeps its state across reads, so an escape sequence split
//     between two reads is stripped too.
//   - /dev/stdout, /dev/stderr (anything under /dev/ or /proc/) and any
//     non-regular file are appended to, never seeked, rotated or removed
//     (Python's clearLog would unlink /dev/stdout).
//   - The AUTO cleanup regex quotes the identifier instead of pasting it in
//     as a regular expression.
//
// Files: hub.go (what channels share: buffer pool, workers, shared sinks),
// channel.go (a process channel's lifecycle), stream.go (one pipe of one
// spawn: serving, batching, draining), route.go (where a chunk goes: file,
// syslog, main log, event hooks), sink.go (a rotating file), and the Linux
// plumbing in *_linux.go (epoll poller, splice, pipe sizing). Only the
// daemon imports this package, so it builds for Linux only.
//
// No goroutine waits on an idle pipe: the Hub's poller (one epoll instance,
// one goroutine, existing only while some pipe is open) waits on all of
// them and hands a readable pipe to a Hub worker. Workers are started on
// demand (a worker keeps a busy pipe until it is quiet for 2 ms, and exits
// after 0.5 s without work). Read buffers (128 KiB, pooled) exist only while
// bytes are being handled. When no hook needs to see the bytes (no capture,
// events, syslog, strip_ansi, timestamps, or main log at debug level), they
// move from the pipe to the file with splice(2): no user-space copy, no
// buffer.
package logrot
