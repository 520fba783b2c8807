// Package probes owns readiness checks, health checks and the memory limit
// of supervised processes (the ready=, healthcheck= and memory_max=
// options): running one check (tcp connect, http(s) GET, exec through a
// hook, a log line match, an sd_notify READY=1 datagram) and scheduling
// them for one run of a process.
//
// A Monitor covers one spawn. Each schedule is one timer on the injected
// Clock (ready attempts every ready_interval until ready_timeout, health
// checks every healthcheck_interval once RUNNING, memory samples every
// memory_check_interval), re-armed only after its check finished: no loop
// over all processes, no overlapping checks, and nothing at all for a
// process without these options. log: and notify are event driven.
//
// The Monitor never changes process state itself: it reports through
// Hooks (ready, ready timed out, unhealthy, memory exceeded, each check's
// result) and the process manager decides. Hooks are called without any
// Monitor lock held and may arrive after Stop; callers ignore those.
package probes
