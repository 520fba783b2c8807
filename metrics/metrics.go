// Package metrics owns the Prometheus metrics of supervisord: the
// per-process gauges and counters (named as node_exporter's supervisord
// collector names them, so existing dashboards work), the daemon's own
// counters (XML-RPC requests, events) and client_golang's Go and process
// collectors, served as Prometheus text or OpenMetrics by content
// negotiation.
//
// Nothing here runs between scrapes: process figures are read from a
// Source when Prometheus asks, CPU and memory from a procstat snapshot
// taken (or shared) for that scrape; the counters are atomic adds on the
// paths they count.
package metrics

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gosupervisor/gosupervisor/procman"
	"github.com/gosupervisor/gosupervisor/procstat"
)

// Process is what a scrape reports about one supervised process.
type Process struct {
	Group, Name string
	State       procman.State
	PID         int   // 0 when no process runs
	Start       int64 // epoch seconds of the last spawn, 0 if never
	ExitStatus  int
	Restarts    int // spawns after the first since the process was added
	Logs        []LogChannel
}

// LogChannel counts the bytes of one output channel of a process.
type LogChannel struct {
	Channel string // "stdout" or "stderr"
	Written int64  // bytes written to the log file
	Dropped int64  // bytes that should have reached the file but did not
}

// Source is the daemon as a scrape sees it.
type Source interface {
	// State is the supervisor state code (1 RUNNING, 0 RESTARTING, -1
	// SHUTDOWN).
	State() int
	// Processes lists every active process.
	Processes() []Process
}

// Options configures Metrics.
type Options struct {
	Source Source
	// Sampler measures CPU and memory of each process tree; nil leaves
	// those two metrics out.
	Sampler *procstat.Sampler
	// MaxAge lets a scrape reuse a procstat snapshot this recent (shared
	// with the health methods); 0 takes a new one per scrape.
	MaxAge time.Duration
	// ErrorLog receives scrape errors (a failed /proc pass); nil drops them.
	ErrorLog func(msg string)
}

// Metrics is the registry of one supervisord. It lives as long as the
// daemon (its counters survive reloads); safe for concurrent use.
type Metrics struct {
	reg     *prometheus.Registry
	rpc     *prometheus.CounterVec
	events  *prometheus.CounterVec
	handler http.Handler
}

// New returns the registry with every collector registered.
func New(opts Options) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		rpc: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "supervisord_rpc_requests_total",
			Help: "XML-RPC requests answered, by method and fault name (none for a result).",
		}, []string{"method", "fault"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "supervisord_events_total",
			Help: "Events raised, by event type.",
		}, []string{"type"}),
	}
	m.reg.MustRegister(
		m.rpc, m.events,
		newProcessCollector(opts),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	var errLog promhttp.Logger
	if opts.ErrorLog != nil {
		errLog = logFunc(opts.ErrorLog)
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		ErrorHandling:     promhttp.ContinueOnError,
		ErrorLog:          errLog,
	})
	return m
}

type logFunc func(string)

func (f logFunc) Println(v ...any) { f(strings.TrimSuffix(fmt.Sprintln(v...), "\n")) }

// Handler serves GET /metrics.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Registry is the registry behind Handler (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// CountRPC counts one answered XML-RPC request; fault is the fault's
// symbolic name, "" for a result. The caller bounds method to the names
// of its method table.
func (m *Metrics) CountRPC(method, fault string) {
	if fault == "" {
		fault = "none"
	}
	m.rpc.WithLabelValues(method, fault).Inc()
}

// CountEvent counts one raised event of the named type.
func (m *Metrics) CountEvent(typ string) { m.events.WithLabelValues(typ).Inc() }
