package webui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/procman"
	"github.com/gosupervisor/gosupervisor/procstat"
	"github.com/gosupervisor/gosupervisor/rpc"
)

//go:embed assets
var assets embed.FS

// csp forbids everything but this server's own script, stylesheet and
// JSON; no inline script or style, no frames, forms only to this server.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// sampleAge is how old a /proc snapshot may be for a state answer: the
// polls of every open page within a second share one pass.
const sampleAge = time.Second

// Options wire the dashboard to the daemon.
type Options struct {
	// Processes is the process table (getAllProcessInfo's source).
	Processes func() []rpc.ProcessInfo
	// Health, when set, gives readiness, health and restarts.
	Health func() []procman.Health
	// Sampler, when set, gives CPU and memory of each process tree.
	Sampler *procstat.Sampler
	// Call runs an XML-RPC method as /RPC2 would (actions, log tails).
	Call func(ctx context.Context, method string, params []any) (any, error)
	// MainLog tails the supervisord log as tailProcessStdoutLog tails a
	// process's; nil when the main log is not a file.
	MainLog func(offset, length int64) (data string, newOffset int64, overflow bool, err error)
	// Token authorizes the page's actions; random when empty.
	Token string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// UI is the dashboard. Safe for concurrent use.
type UI struct {
	opts Options
	hist history
	page *template.Template
	log  *template.Template
}

// New returns the dashboard.
func New(opts Options) *UI {
	if opts.Token == "" {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic(fmt.Sprintf("webui: random token: %v", err))
		}
		opts.Token = hex.EncodeToString(b[:])
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	funcs := template.FuncMap{
		"lower": strings.ToLower, "allActs": allActs, "groupActs": groupActs, "procActs": procActs,
		"cpu": lastCPU, "mem": lastMem,
	}
	return &UI{
		opts: opts,
		page: template.Must(template.New("index.html").Funcs(funcs).ParseFS(assets, "assets/index.html")),
		log:  template.Must(template.New("log.html").Funcs(funcs).ParseFS(assets, "assets/log.html")),
	}
}

// Routes are the dashboard's HTTP routes, for rpc.ListenConfig.Routes.
func (u *UI) Routes() []rpc.Route {
	return []rpc.Route{
		{Path: "/ui", Handler: http.RedirectHandler("/ui/", http.StatusFound)},
		{Path: "/ui/", Handler: u.wrap(u.servePage)},
		{Path: "/ui/app.js", Handler: u.wrap(u.serveAsset("app.js", "text/javascript; charset=utf-8"))},
		{Path: "/ui/app.css", Handler: u.wrap(u.serveAsset("app.css", "text/css; charset=utf-8"))},
		{Path: "/ui/state.json", Handler: u.wrap(u.serveState)},
		{Path: "/ui/action", Handler: u.wrap(u.serveAction)},
		{Path: "/ui/log", Handler: u.wrap(u.serveLogPage)},
		{Path: "/ui/log.json", Handler: u.wrap(u.serveLog)},
		{Path: "/ui/log.txt", Handler: u.wrap(u.serveDownload)},
	}
}

// wrap sets the headers every dashboard answer carries.
func (u *UI) wrap(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		h(w, r)
	})
}

func (u *UI) serveAsset(name, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Write(b)
	}
}

// Proc is one row of the dashboard, as state.json sends it.
type Proc struct {
	Name        string `json:"name"`
	Group       string `json:"group"`
	Spec        string `json:"spec"` // name, or group:name when they differ
	State       string `json:"state"`
	Description string `json:"description"`
	PID         int    `json:"pid"`
	Start       int64  `json:"start"`
	Uptime      int64  `json:"uptime"` // seconds, while running
	ExitStatus  int    `json:"exitstatus"`
	SpawnErr    string `json:"spawnerr"`
	Alert       string `json:"alert"` // "error", "warn" or ""
	Restarts    int    `json:"restarts"`
	Ready       *bool  `json:"ready,omitempty"`
	Healthy     *bool  `json:"healthy,omitempty"`
	LastError   string `json:"lasterror,omitempty"`
	ReadyCheck  string `json:"readycheck,omitempty"`  // ready= as configured
	HealthCheck string `json:"healthcheck,omitempty"` // healthcheck= as configured
	// CPU (percent of a core) and RSS (bytes), oldest first: the whole
	// history when asked (the page's first poll), else the last point.
	CPU      []float64 `json:"cpu"`
	RSS      []int64   `json:"rss"`
	SampleAt int64     `json:"sampleat"` // unix ms of the last point
	Stdout   bool      `json:"stdout"`
	Stderr   bool      `json:"stderr"`
}

// Group is a process group with its rows.
type Group struct {
	Name  string `json:"name"`
	Procs []Proc `json:"procs"`
}

// State is the whole of state.json.
type State struct {
	Now     int64   `json:"now"`
	Sampled bool    `json:"sampled"` // CPU and memory are known
	Groups  []Group `json:"groups"`
}

// alert says how much a state should stand out.
func alert(info *rpc.ProcessInfo) string {
	switch info.State {
	case procman.Fatal, procman.Backoff, procman.Unknown:
		return "error"
	case procman.Exited:
		if info.ExitStatus != 0 {
			return "warn"
		}
	}
	return ""
}

// state builds the dashboard's view: one /proc pass shared with the
// other callers of the sampler within sampleAge, and one history point
// per running process at most every sampleEvery.
func (u *UI) state(full bool) State {
	now := u.opts.Now()
	infos := u.opts.Processes()
	health := map[string]procman.Health{}
	if u.opts.Health != nil {
		for _, h := range u.opts.Health() {
			health[h.Group+":"+h.Name] = h
		}
	}
	var snap *procstat.Snapshot
	if u.opts.Sampler != nil {
		snap, _ = u.opts.Sampler.Snapshot(sampleAge)
	}
	st := State{Now: now.Unix(), Sampled: snap != nil}
	byGroup := map[string]int{}
	for i := range infos {
		info := &infos[i]
		key := info.Group + ":" + info.Name
		p := Proc{
			Name: info.Name, Group: info.Group, Spec: namespec.Make(info.Group, info.Name),
			State: info.State.String(), Description: info.Description(),
			PID: info.PID, Start: info.Start, ExitStatus: info.ExitStatus,
			SpawnErr: info.SpawnErr, Alert: alert(info),
			Stdout: info.StdoutLogfile != "", Stderr: info.StderrLogfile != "",
		}
		if info.State == procman.Running && info.Start > 0 {
			p.Uptime = max(now.Unix()-info.Start, 0)
		}
		if h, ok := health[key]; ok {
			ready, healthy := h.Ready, h.Healthy
			p.Ready, p.Healthy, p.Restarts, p.LastError = &ready, &healthy, h.Restarts, h.LastError
			p.ReadyCheck, p.HealthCheck = h.ReadyCheck, h.HealthCheck
		}
		var pts []sample
		if u2, ok := treeOf(snap, info); ok {
			pts = u.hist.record(key, info.PID, u2.CPUSeconds, u2.RSSBytes, now)
		} else {
			pts = u.hist.points(key, now)
		}
		if len(pts) > 0 {
			p.SampleAt = pts[len(pts)-1].at.UnixMilli()
			if !full {
				pts = pts[len(pts)-1:] // the page keeps its own history
			}
		}
		p.CPU, p.RSS = make([]float64, len(pts)), make([]int64, len(pts))
		for j, s := range pts {
			p.CPU[j], p.RSS[j] = s.cpu, s.rss
		}
		g, ok := byGroup[info.Group]
		if !ok {
			g = len(st.Groups)
			byGroup[info.Group] = g
			st.Groups = append(st.Groups, Group{Name: info.Group})
		}
		st.Groups[g].Procs = append(st.Groups[g].Procs, p)
	}
	sort.SliceStable(st.Groups, func(i, j int) bool { return st.Groups[i].Name < st.Groups[j].Name })
	for _, g := range st.Groups {
		sort.SliceStable(g.Procs, func(i, j int) bool { return g.Procs[i].Name < g.Procs[j].Name })
	}
	u.hist.prune(now.Add(-time.Minute))
	return st
}

func treeOf(snap *procstat.Snapshot, info *rpc.ProcessInfo) (procstat.Usage, bool) {
	if snap == nil || info.PID <= 0 || !info.State.IsSignallable() {
		return procstat.Usage{}, false
	}
	return snap.Tree(info.PID)
}

// tokenOK compares the request's token in constant time.
func (u *UI) tokenOK(got string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(u.opts.Token)) == 1
}
