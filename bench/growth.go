package bench

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// ScaleRun is one daemon's figures at one N, beside the machine's floor for
// the same N measured in the same run. Zero values are "not measured".
type ScaleRun struct {
	N      int
	Daemon string
	Load   string // loadavg when the run at this N began

	Floor      Floor
	Start      ScaleStart      // the first launch
	Starts     []time.Duration // start to all RUNNING of every launch, the first included
	ConfigLoad time.Duration   // config load of the whole config (wall)
	// ConfigLoadCPU is the CPU time of that load (ours only: in-process)
	ConfigLoadCPU time.Duration

	GapiP50, GapiP99 time.Duration
	GapiBytes        int
	GetState8        float64 // calls/s, 8 clients

	RSSIdle, RSS float64 // MiB before and after the RPC load
	Threads, FDs int
	IdleCPU      float64 // s per 10 s (utime+stime)
	IdleSched    float64 // s per 10 s (schedstat)

	Ctl    map[string]time.Duration // supervisorctl client name -> median status wall
	CtlCPU map[string]time.Duration // and the client's own median CPU time

	// StopAll and Shutdown are the fastest of StopAllRuns and ShutdownRuns
	// runs (each on its own launch); ShutInv and the children left are the
	// worst of them.
	StopAll      StopAll
	Shutdown     Shutdown
	ShutInv      int // band inversions of the shutdown's stop order
	StopAllRuns  int
	ShutdownRuns int

	Skipped map[string]string // figure -> why it was not measured
}

// BestStart is the fastest start to all RUNNING of the launches at this N.
func (r *ScaleRun) BestStart() time.Duration {
	best := r.Start.AllRunning
	for _, d := range r.Starts {
		if d > 0 && (best <= 0 || d < best) {
			best = d
		}
	}
	return best
}

// Skip notes why figure was not measured.
func (r *ScaleRun) Skip(figure, why string) {
	if r.Skipped == nil {
		r.Skipped = map[string]string{}
	}
	r.Skipped[figure] = why
}

// Growth collects the scale runs of one go test process.
type Growth struct {
	mu   sync.Mutex
	runs map[string]map[int]*ScaleRun
	Ctls []string // client names in column order
}

// NewGrowth returns an empty collector.
func NewGrowth() *Growth { return &Growth{runs: map[string]map[int]*ScaleRun{}} }

// Run returns the record of daemon at n, creating it.
func (g *Growth) Run(daemon string, n int) *ScaleRun {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.runs[daemon] == nil {
		g.runs[daemon] = map[int]*ScaleRun{}
	}
	r := g.runs[daemon][n]
	if r == nil {
		r = &ScaleRun{N: n, Daemon: daemon, Ctl: map[string]time.Duration{}, CtlCPU: map[string]time.Duration{}}
		g.runs[daemon][n] = r
	}
	return r
}

// Empty reports whether no run was recorded.
func (g *Growth) Empty() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.runs) == 0
}

// FmtDur renders a duration in the unit that suits it.
func FmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", Ms(d))
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", Ms(d))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

func fmtRatio(x float64) string {
	if x <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", x)
}

// growthRow is one row of a growth table: a label and a cell per run.
type growthRow struct {
	label string
	cell  func(r, prev *ScaleRun) string
}

// fmtRuns is d with the number of runs it is the fastest of, when known.
func fmtRuns(d time.Duration, runs int) string {
	if d <= 0 || runs <= 0 {
		return FmtDur(d)
	}
	return fmt.Sprintf("%s (%d)", FmtDur(d), runs)
}

func perProgram(d time.Duration, n int) time.Duration {
	if d <= 0 || n <= 0 {
		return 0
	}
	return d / time.Duration(n)
}

func (g *Growth) rows() []growthRow {
	rows := []growthRow{
		{"loadavg at start", func(r, _ *ScaleRun) string { return r.Load }},
		{"start to all RUNNING, fastest launch (launches)", func(r, _ *ScaleRun) string {
			if r.BestStart() <= 0 {
				return "-"
			}
			return fmt.Sprintf("%s (%d)", FmtDur(r.BestStart()), max(1, len(r.Starts)))
		}},
		{"bare start floor, fastest run (runs)", func(r, _ *ScaleRun) string { return fmtRuns(r.Floor.Start, r.Floor.Runs[0]) }},
		{"start / floor", func(r, _ *ScaleRun) string { return fmtRatio(Ratio(r.BestStart(), r.Floor.Start)) }},
		{"start per program (floor)", func(r, _ *ScaleRun) string {
			if r.BestStart() <= 0 {
				return "-"
			}
			return FmtDur(perProgram(r.BestStart(), r.N)) + " (" + FmtDur(perProgram(r.Floor.Start, r.N)) + ")"
		}},
		{"start, every launch in order", func(r, _ *ScaleRun) string {
			if len(r.Starts) == 0 {
				return "-"
			}
			cells := make([]string, len(r.Starts))
			for i, d := range r.Starts {
				cells[i] = FmtDur(d)
			}
			return strings.Join(cells, ", ")
		}},
		{"first launch / floor", func(r, _ *ScaleRun) string {
			if r.Start.AllRunning <= 0 {
				return "-"
			}
			return FmtDur(r.Start.AllRunning) + " (" + fmtRatio(Ratio(r.Start.AllRunning, r.Floor.Start)) + ")"
		}},
		{"daemon CPU to all RUNNING (per program)", func(r, _ *ScaleRun) string {
			if r.Start.CPU <= 0 {
				return "-"
			}
			return fmt.Sprintf("%.2f s (%s)", r.Start.CPU, FmtDur(perProgram(time.Duration(r.Start.CPU*float64(time.Second)), r.N)))
		}},
		{"socket first answer", func(r, _ *ScaleRun) string { return FmtDur(r.Start.FirstAnswer) }},
		{"config load wall (per program; CPU per program)", func(r, _ *ScaleRun) string {
			if r.ConfigLoad <= 0 {
				return "-"
			}
			s := FmtDur(r.ConfigLoad) + " (" + FmtDur(perProgram(r.ConfigLoad, r.N))
			if r.ConfigLoadCPU > 0 {
				s += "; " + FmtDur(perProgram(r.ConfigLoadCPU, r.N))
			}
			return s + ")"
		}},
		{"getAllProcessInfo raw p50 / p99 (size)", func(r, _ *ScaleRun) string {
			if r.GapiP50 <= 0 {
				return "-"
			}
			return fmt.Sprintf("%s / %s (%.1f MB)", FmtDur(r.GapiP50), FmtDur(r.GapiP99), float64(r.GapiBytes)/1e6)
		}},
		{"getState calls/s, 8 clients", func(r, _ *ScaleRun) string {
			if r.GetState8 <= 0 {
				return "-"
			}
			return fmt.Sprintf("%.0f", r.GetState8)
		}},
		{"RSS after RPC load (idle before)", func(r, _ *ScaleRun) string {
			if r.RSS <= 0 {
				return "-"
			}
			return fmt.Sprintf("%.1f MiB (%.1f)", r.RSS, r.RSSIdle)
		}},
		{"RSS per program (marginal from previous N)", func(r, prev *ScaleRun) string {
			if r.RSS <= 0 {
				return "-"
			}
			s := fmt.Sprintf("%.1f KiB", r.RSS*1024/float64(r.N))
			if prev != nil && prev.RSS > 0 {
				s += fmt.Sprintf(" (%.1f KiB)", (r.RSS-prev.RSS)*1024/float64(r.N-prev.N))
			}
			return s
		}},
		{"OS threads", func(r, _ *ScaleRun) string { return intCell(r.Threads) }},
		{"open fds (per program)", func(r, _ *ScaleRun) string {
			if r.FDs <= 0 {
				return "-"
			}
			return fmt.Sprintf("%d (%.2f)", r.FDs, float64(r.FDs)/float64(r.N))
		}},
		{"idle CPU per 10 s (schedstat)", func(r, _ *ScaleRun) string {
			if r.RSS <= 0 {
				return "-"
			}
			return fmt.Sprintf("%.3f s (%.4f s)", r.IdleCPU, r.IdleSched)
		}},
		{"stop all (stopAllProcesses), fastest (runs)", func(r, _ *ScaleRun) string { return fmtRuns(r.StopAll.Return, r.StopAllRuns) }},
		{"bare SIGTERM+reap floor, fastest (runs)", func(r, _ *ScaleRun) string { return fmtRuns(r.Floor.TermReap, r.Floor.Runs[1]) }},
		{"stop all / floor (exit-order inversions)", func(r, _ *ScaleRun) string {
			if r.StopAll.Return <= 0 {
				return "-"
			}
			return fmt.Sprintf("%s (%d)", fmtRatio(Ratio(r.StopAll.Return, r.Floor.TermReap)), r.StopAll.Inversions)
		}},
		{"bare SIGTERM+reap floor closing the pipe ends, fastest (runs)", func(r, _ *ScaleRun) string {
			return fmtRuns(r.Floor.TermReapClose, r.Floor.Runs[3])
		}},
		{"stop all / that floor", func(r, _ *ScaleRun) string { return fmtRatio(Ratio(r.StopAll.Return, r.Floor.TermReapClose)) }},
		{"SIGTERM shutdown, fastest (runs)", func(r, _ *ScaleRun) string { return fmtRuns(r.Shutdown.Exit, r.ShutdownRuns) }},
		{"shutdown / floor (order inversions, children alive)", func(r, _ *ScaleRun) string {
			if r.Shutdown.Exit <= 0 {
				return "-"
			}
			return fmt.Sprintf("%s (%d, %d)", fmtRatio(Ratio(r.Shutdown.Exit, r.Floor.TermReap)), r.ShutInv, r.Shutdown.ChildrenAlive)
		}},
		{"bare band-by-band SIGTERM+reap floor, fastest (runs)", func(r, _ *ScaleRun) string {
			return fmtRuns(r.Floor.TermReapBanded, r.Floor.Runs[2])
		}},
		{"shutdown / band-by-band floor", func(r, _ *ScaleRun) string { return fmtRatio(Ratio(r.Shutdown.Exit, r.Floor.TermReapBanded)) }},
	}
	for _, ctl := range g.Ctls {
		rows = append(rows, growthRow{"supervisorctl status, " + ctl + " client (its CPU)", func(r, _ *ScaleRun) string {
			if r.Ctl[ctl] <= 0 {
				return "-"
			}
			return FmtDur(r.Ctl[ctl]) + " (" + FmtDur(r.CtlCPU[ctl]) + ")"
		}})
	}
	return rows
}

func intCell(v int) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprint(v)
}

// Markdown renders one table per daemon: a row per figure, a column per N.
// A figure skipped at some N says why below the table.
func (g *Growth) Markdown() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	daemons := make([]string, 0, len(g.runs))
	for d := range g.runs {
		daemons = append(daemons, d)
	}
	sort.Strings(daemons)
	var b strings.Builder
	for _, d := range daemons {
		ns := sortedInts(g.runs[d])
		fmt.Fprintf(&b, "\n%s, growth with N:\n\n| figure |", d)
		for _, n := range ns {
			fmt.Fprintf(&b, " N = %s |", thousands(n))
		}
		b.WriteString("\n|---|")
		b.WriteString(strings.Repeat("---|", len(ns)))
		b.WriteString("\n")
		for _, row := range g.rows() {
			fmt.Fprintf(&b, "| %s |", row.label)
			var prev *ScaleRun
			for _, n := range ns {
				r := g.runs[d][n]
				fmt.Fprintf(&b, " %s |", row.cell(r, prev))
				prev = r
			}
			b.WriteString("\n")
		}
		for _, n := range ns {
			r := g.runs[d][n]
			figs := make([]string, 0, len(r.Skipped))
			for f := range r.Skipped {
				figs = append(figs, f)
			}
			sort.Strings(figs)
			for _, f := range figs {
				fmt.Fprintf(&b, "- N = %s, %s: %s\n", thousands(n), f, r.Skipped[f])
			}
		}
	}
	return b.String()
}

// thousands writes n with comma separators (6,000).
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
