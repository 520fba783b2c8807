package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Better says which direction of a figure is an improvement.
type Better int

const (
	// Lower means smaller is better (times, memory, CPU).
	Lower Better = iota
	// Higher means larger is better (throughput).
	Higher
)

// MarshalText spells the direction out in the JSON results.
func (b Better) MarshalText() ([]byte, error) {
	if b == Higher {
		return []byte("higher"), nil
	}
	return []byte("lower"), nil
}

// Figure describes one reported quantity.
type Figure struct {
	ID        string  `json:"id"`    // stable key, e.g. "startup1000.all_running"
	Title     string  `json:"title"` // human label
	Unit      string  `json:"unit"`  // ms, MiB, threads, cpu-s, calls/s...
	Better    Better  `json:"better"`
	Target    float64 `json:"target"` // goal for ours, if HasTarget
	HasTarget bool    `json:"has_target"`
	NoRatio   bool    `json:"no_ratio,omitempty"` // a property of the machine or config, not of the daemon
	Order     int     `json:"-"`
}

// Results collects figures per daemon and renders the comparison. It is
// safe for concurrent use.
type Results struct {
	mu       sync.Mutex
	baseline string
	figs     map[string]Figure
	vals     map[string]map[string]float64 // figure ID -> daemon -> value
	notes    map[string]map[string]string
	errs     map[string]map[string]string
	daemons  []string
	meta     map[string]string
	started  time.Time
	sequence int
}

// NewResults collects results for daemons; ratios are against baseline.
func NewResults(baseline string, daemons []string) *Results {
	return &Results{baseline: baseline, daemons: daemons, figs: map[string]Figure{},
		vals: map[string]map[string]float64{}, notes: map[string]map[string]string{},
		errs: map[string]map[string]string{}, meta: map[string]string{}, started: time.Now()}
}

func (r *Results) addFig(f Figure) {
	if _, ok := r.figs[f.ID]; !ok {
		r.sequence++
		f.Order = r.sequence
		r.figs[f.ID] = f
	}
}

// SetMeta stores a fact about the run (load average, host) for the JSON
// and the table footer.
func (r *Results) SetMeta(key, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.meta[key] = value
}

// Record stores value of figure f for daemon.
func (r *Results) Record(f Figure, daemon string, value float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addFig(f)
	if r.vals[f.ID] == nil {
		r.vals[f.ID] = map[string]float64{}
	}
	r.vals[f.ID][daemon] = value
}

// Note attaches a short text to figure f for daemon (shown after the value).
func (r *Results) Note(f Figure, daemon, note string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addFig(f)
	if r.notes[f.ID] == nil {
		r.notes[f.ID] = map[string]string{}
	}
	r.notes[f.ID][daemon] = note
}

// Fail records that daemon could not produce figure f.
func (r *Results) Fail(f Figure, daemon string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addFig(f)
	if r.errs[f.ID] == nil {
		r.errs[f.ID] = map[string]string{}
	}
	r.errs[f.ID][daemon] = err.Error()
}

// Value returns daemon's value of figure id.
func (r *Results) Value(id, daemon string) (float64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.vals[id][daemon]
	return v, ok
}

// Ratio is how many times better daemon is than the baseline on figure f
// (baseline/daemon for Lower, daemon/baseline for Higher): above 1 means
// daemon is better. ok is false when a value is missing or zero.
func (r *Results) Ratio(f Figure, daemon string) (float64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ratio(f, daemon)
}

func (r *Results) ratio(f Figure, daemon string) (float64, bool) {
	b, ok1 := r.vals[f.ID][r.baseline]
	v, ok2 := r.vals[f.ID][daemon]
	if !ok1 || !ok2 || daemon == r.baseline || f.NoRatio {
		return 0, false
	}
	num, den := b, v
	if f.Better == Higher {
		num, den = v, b
	}
	if den <= 0 {
		// a zero reading (idle CPU below one tick): no finite ratio
		return math.Inf(1), num > 0
	}
	return num / den, true
}

func (r *Results) sorted() []Figure {
	figs := make([]Figure, 0, len(r.figs))
	for _, f := range r.figs {
		figs = append(figs, f)
	}
	sort.Slice(figs, func(i, j int) bool { return figs[i].Order < figs[j].Order })
	return figs
}

// FormatValue renders a value with a precision that suits its size.
func FormatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// Table renders one row per figure: each daemon's value, the ratio of the
// others against the baseline, and the target for ours.
func (r *Results) Table() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	head := []string{"figure", "unit"}
	head = append(head, r.daemons...)
	for _, d := range r.daemons {
		if d != r.baseline {
			head = append(head, d+"/"+r.baseline)
		}
	}
	head = append(head, "target", "verdict")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, f := range r.sorted() {
		row := []string{f.Title, f.Unit}
		for _, d := range r.daemons {
			cell := "-"
			if v, ok := r.vals[f.ID][d]; ok {
				cell = FormatValue(v)
			} else if e, ok := r.errs[f.ID][d]; ok {
				cell = "ERR: " + shorten(e, 40)
			}
			if n := r.notes[f.ID][d]; n != "" {
				cell += " (" + n + ")"
			}
			row = append(row, cell)
		}
		verdict := ""
		for _, d := range r.daemons {
			if d == r.baseline {
				continue
			}
			if x, ok := r.ratio(f, d); ok {
				if math.IsInf(x, 1) {
					row = append(row, "inf")
				} else {
					row = append(row, FormatValue(x)+"x")
				}
			} else {
				row = append(row, "-")
			}
			if f.HasTarget {
				if v, ok := r.vals[f.ID][d]; ok {
					met := v <= f.Target
					if f.Better == Higher {
						met = v >= f.Target
					}
					if met {
						verdict += d + " met "
					} else {
						verdict += d + " MISSED "
					}
				}
			}
		}
		tgt := "-"
		if f.HasTarget {
			op := "<="
			if f.Better == Higher {
				op = ">="
			}
			tgt = op + " " + FormatValue(f.Target)
		}
		row = append(row, tgt, strings.TrimSpace(verdict))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	_ = tw.Flush()
	keys := make([]string, 0, len(r.meta))
	for k := range r.meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, r.meta[k])
	}
	return b.String()
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

type jsonFigure struct {
	Figure
	Values map[string]float64 `json:"values"`
	Notes  map[string]string  `json:"notes,omitempty"`
	Errors map[string]string  `json:"errors,omitempty"`
	Ratios map[string]float64 `json:"ratios,omitempty"`
}

type jsonReport struct {
	Started  time.Time         `json:"started"`
	Baseline string            `json:"baseline"`
	Daemons  []string          `json:"daemons"`
	Meta     map[string]string `json:"meta,omitempty"`
	Figures  []jsonFigure      `json:"figures"`
}

// JSON renders the results for a results file.
func (r *Results) JSON() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := jsonReport{Started: r.started, Baseline: r.baseline, Daemons: r.daemons, Meta: r.meta}
	for _, f := range r.sorted() {
		jf := jsonFigure{Figure: f, Values: r.vals[f.ID], Notes: r.notes[f.ID], Errors: r.errs[f.ID]}
		if jf.Values == nil {
			jf.Values = map[string]float64{}
		}
		for _, d := range r.daemons {
			if x, ok := r.ratio(f, d); ok && !math.IsInf(x, 0) {
				if jf.Ratios == nil {
					jf.Ratios = map[string]float64{}
				}
				jf.Ratios[d] = x
			}
		}
		rep.Figures = append(rep.Figures, jf)
	}
	out, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode results: %w", err)
	}
	return out, nil
}

// WriteJSON writes the JSON results to path.
func (r *Results) WriteJSON(path string) error {
	data, err := r.JSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results %s: %w", path, err)
	}
	return nil
}

// Empty reports whether nothing was recorded.
func (r *Results) Empty() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.figs) == 0
}

// Median is the middle value of xs (mean of the middle two for even n).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
