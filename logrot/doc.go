// Package logrot owns everything supervisord does with log bytes: capturing a
// child's stdout/stderr pipes (Channel), writing them to files rotated with
// lumberjack, capture mode and PROCESS_LOG/PROCESS_COMMUNICATION hooks, the
// main supervisord log (MainLog), AUTO child log names and their cleanup, and
// Python's readFile/tailFile semantics plus the follower behind the HTTP
// /logtail and /mainlogtail streams.
//
// Deviation from Python supervisor (README must list it): rotated backups are
// named by lumberjack, `<name>-<UTC timestamp>.<ext>` (for example
// app-2026-11-25T22-00-00.000.log), not app.log.1, app.log.2.
package logrot
