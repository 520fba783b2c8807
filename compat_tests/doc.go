// Package compattests owns the drop-in compatibility harness: it runs the
// Python supervisord 4.2.5 (the oracle) and a candidate daemon side by side on
// one scenario, drives both with the clients users already have (the real
// supervisorctl, Python xmlrpc.client, raw HTTP, a Go XML-RPC client),
// normalizes only what legitimately differs (pids, times, temp paths, AUTO log
// suffixes, server identification) and compares the rest field by field, wire
// types included. Scenarios are data: cases/<area>/<name>.json.
package compattests
