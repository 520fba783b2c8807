package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/logrot"
	"github.com/gosupervisor/gosupervisor/metrics"
	"github.com/gosupervisor/gosupervisor/procman"
	"github.com/gosupervisor/gosupervisor/procstat"
	"github.com/gosupervisor/gosupervisor/rpc"
	"github.com/gosupervisor/gosupervisor/webui"
)

// healthzTimeout is how long /healthz waits for the main loop to answer.
const healthzTimeout = time.Second

// observe creates what the daemon keeps for its whole life to be watched:
// the /proc sampler (shared by the metrics and the gosupervisor health
// methods), the metrics registry and the /healthz channel to the main
// loop. None of them runs anything until asked.
func (d *daemon) observe() {
	d.sampler = procstat.New(procstat.Options{})
	d.ping = make(chan chan struct{})
	d.metrics = metrics.New(metrics.Options{
		Source:   metricsSource{d},
		Sampler:  d.sampler,
		MaxAge:   healthSampleAge,
		ErrorLog: func(msg string) { d.log(config.LevelError, "metrics: "+msg) },
	})
	d.dashboard = webui.New(webui.Options{
		Processes: func() []rpc.ProcessInfo {
			if inst := d.current.Load(); inst != nil {
				return inst.AllProcessInfo(nil)
			}
			return nil
		},
		Health: func() []procman.Health {
			if inst := d.current.Load(); inst != nil {
				return inst.sup.AllHealth()
			}
			return nil
		},
		Sampler: d.sampler,
		Call: func(ctx context.Context, method string, params []any) (any, error) {
			inst := d.current.Load()
			if inst == nil || inst.srv == nil {
				return nil, errors.New("supervisord is between runs")
			}
			return inst.srv.Dispatcher().Call(ctx, method, params)
		},
		MainLog: func(offset, length int64) (string, int64, bool, error) {
			inst := d.current.Load()
			if inst == nil || inst.mainlog.Path() == "" {
				return "", 0, false, errors.New("the supervisord log is not a file")
			}
			b, off, over := logrot.Files{}.TailFile(inst.mainlog.Path(), offset, length)
			return string(b), off, over, nil
		},
	})
}

// routes are the extra HTTP routes an http server section enables.
func (d *daemon) routes(x config.HTTPExtras) []rpc.Route {
	var rs []rpc.Route
	if x.Metrics {
		rs = append(rs, rpc.Route{Path: "/metrics", Handler: d.metrics.Handler()})
	}
	if x.Dashboard {
		rs = append(rs, d.dashboard.Routes()...)
	}
	if x.Healthz {
		rs = append(rs, rpc.Route{Path: "/healthz", Public: true, Handler: http.HandlerFunc(d.healthz)})
	}
	return rs
}

// healthz answers 200 "ok" when the main loop answers within
// healthzTimeout, 503 otherwise, and says nothing else.
func (d *daemon) healthz(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), healthzTimeout)
	defer cancel()
	reply := make(chan struct{})
	select {
	case d.ping <- reply:
		<-reply
		io.WriteString(w, "ok")
	case <-ctx.Done():
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "unavailable")
	}
}

// metricsSource is the daemon as a scrape sees it: the processes of the
// current run.
type metricsSource struct{ d *daemon }

func (s metricsSource) State() int { return int(s.d.mood.Load()) }

func (s metricsSource) Processes() []metrics.Process {
	inst := s.d.current.Load()
	if inst == nil {
		return nil
	}
	infos := inst.AllProcessInfo(nil)
	type key struct{ group, name string }
	restarts := map[key]int{}
	for _, h := range inst.sup.AllHealth() {
		restarts[key{h.Group, h.Name}] = h.Restarts
	}
	logs := map[key][]metrics.LogChannel{}
	inst.mu.Lock()
	for _, chs := range inst.channels {
		for _, ch := range chs {
			cc, st := ch.Config(), ch.Stats()
			k := key{cc.GroupName, cc.ProcessName}
			logs[k] = append(logs[k], metrics.LogChannel{Channel: cc.Channel, Written: st.Written, Dropped: st.Dropped})
		}
	}
	inst.mu.Unlock()
	out := make([]metrics.Process, len(infos))
	for i, p := range infos {
		k := key{p.Group, p.Name}
		out[i] = metrics.Process{
			Group: p.Group, Name: p.Name, State: p.State, PID: p.PID,
			Start: p.Start, ExitStatus: p.ExitStatus,
			Restarts: restarts[k], Logs: logs[k],
		}
	}
	return out
}
