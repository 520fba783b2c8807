package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gosupervisor/gosupervisor/procman"
	"github.com/gosupervisor/gosupervisor/procstat"
)

// processCollector reads the Source and the sampler at each scrape.
type processCollector struct {
	opts Options

	up, state, exitStatus, startTime *prometheus.Desc
	restarts, cpu, rss               *prometheus.Desc
	logBytes, logDropped             *prometheus.Desc
	daemonUp, daemonState            *prometheus.Desc
}

func newProcessCollector(opts Options) *processCollector {
	labels := []string{"group", "name"}
	desc := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(append([]string(nil), labels...), extra...), nil)
	}
	return &processCollector{
		opts:        opts,
		up:          desc("node_supervisord_up", "1 if the process is RUNNING, else 0."),
		state:       desc("node_supervisord_state", "Process state code (0 STOPPED, 10 STARTING, 20 RUNNING, 30 BACKOFF, 40 STOPPING, 100 EXITED, 200 FATAL, 1000 UNKNOWN)."),
		exitStatus:  desc("node_supervisord_exit_status", "Exit status of the last exit of the process."),
		startTime:   desc("node_supervisord_start_time_seconds", "Unix time the running process was spawned."),
		restarts:    desc("supervisord_process_restarts_total", "Spawns of the process after its first since it was added."),
		cpu:         desc("supervisord_process_cpu_seconds_total", "User and system CPU time of the running process and its descendants, reaped ones included."),
		rss:         desc("supervisord_process_resident_memory_bytes", "Resident memory of the running process and its live descendants."),
		logBytes:    desc("supervisord_process_log_bytes_total", "Bytes of the process's output written to its log file.", "channel"),
		logDropped:  desc("supervisord_process_log_bytes_dropped_total", "Bytes of the process's output that could not be written to its log file.", "channel"),
		daemonUp:    prometheus.NewDesc("supervisord_up", "1: supervisord answered this scrape.", nil, nil),
		daemonState: prometheus.NewDesc("supervisord_state", "supervisord state code (1 RUNNING, 0 RESTARTING, -1 SHUTDOWN).", nil, nil),
	}
}

func (c *processCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.state, c.exitStatus, c.startTime, c.restarts, c.cpu, c.rss, c.logBytes, c.logDropped, c.daemonUp, c.daemonState} {
		ch <- d
	}
}

func (c *processCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.daemonUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.daemonState, prometheus.GaugeValue, float64(c.opts.Source.State()))
	procs := c.opts.Source.Processes()
	sample := c.sampler(procs, ch)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, p := range procs {
		up := 0.0
		if p.State == procman.Running {
			up = 1
		}
		gauge(c.up, up, p.Group, p.Name)
		gauge(c.state, float64(p.State), p.Group, p.Name)
		gauge(c.exitStatus, float64(p.ExitStatus), p.Group, p.Name)
		if p.PID > 0 && p.Start > 0 {
			gauge(c.startTime, float64(p.Start), p.Group, p.Name)
		}
		counter(c.restarts, float64(p.Restarts), p.Group, p.Name)
		if p.PID > 0 && sample != nil {
			if u, ok := sample(p.PID); ok {
				counter(c.cpu, u.CPUSeconds, p.Group, p.Name)
				gauge(c.rss, float64(u.RSSBytes), p.Group, p.Name)
			}
		}
		for _, l := range p.Logs {
			counter(c.logBytes, float64(l.Written), p.Group, p.Name, l.Channel)
			counter(c.logDropped, float64(l.Dropped), p.Group, p.Name, l.Channel)
		}
	}
}

// sampler returns the tree lookup of a snapshot for this scrape, or nil
// when there is no sampler, nothing runs, or the pass failed (reported as
// an invalid metric, so the rest of the scrape is served).
func (c *processCollector) sampler(procs []Process, ch chan<- prometheus.Metric) func(pid int) (procstat.Usage, bool) {
	if c.opts.Sampler == nil {
		return nil
	}
	anyRunning := false
	for _, p := range procs {
		anyRunning = anyRunning || p.PID > 0
	}
	if !anyRunning {
		return nil
	}
	snap, err := c.opts.Sampler.Snapshot(c.opts.MaxAge)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.cpu, fmt.Errorf("sample /proc: %w", err))
		return nil
	}
	return snap.Tree
}
