// Package bench owns the side-by-side benchmarks that measure our supervisord
// against Python supervisord 4.2.5 in the same run: a daemon launcher that
// writes a fresh config per measurement, /proc readers for RSS, threads and
// CPU, a raw HTTP/1.1 XML-RPC load generator over the unix socket, the
// figure measurements (startup, RPC latency and throughput, idle CPU,
// respawn gap, shutdown, log capture), the scale runs at N = 100 ... 6,000
// against the machine's bare start and SIGTERM+reap floors, and the ratio
// and growth tables.
//
// The measurements only run under `go test -bench`; see README.md.
package bench
