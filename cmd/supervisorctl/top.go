package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/internal/states"
	"github.com/gosupervisor/gosupervisor/internal/timedelta"
)

// top is a full-screen live view of every process: state, pid, uptime
// and, from gosupervisor.getAllProcessHealth when the server has it,
// restarts, CPU and memory. It refreshes every second; keys select a
// process and start, stop, restart or tail it, and change the sort.
//
// It is a Bubble Tea v2 program: topModel's Update takes keys, window
// sizes, timer ticks and RPC answers, its View is the screen, and
// bubbletea owns the terminal (raw mode, the alternate screen, key
// decoding, SIGWINCH, redrawing what changed). v2, unlike v1, writes
// nothing to the terminal before a program runs: v1's package init asked
// every terminal supervisorctl ran on for its background colour
// (TestNoTerminalQuery).

// topInterval is how often top asks the server.
const topInterval = time.Second

func doTop(c *controller, arg string) (bool, error) {
	if noArgsAllowed(c, "top", arg) {
		return false, nil
	}
	in, okIn := isTerminal(c.in)
	out, okOut := isTerminal(c.out)
	if !okIn || !okOut {
		c.output("Error: top needs a terminal")
		c.exitStatus = exitGeneric
		return false, nil
	}
	s, err := c.upSupervisor()
	if s == nil {
		return false, err
	}
	defer s.close()
	m := &topModel{client: s, url: c.opts.serverURL, health: true, cpu: map[string]cpuSample{}}
	p := tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out))
	if _, err := p.Run(); err != nil {
		return false, fmt.Errorf("top: %w", err)
	}
	return false, nil
}

// topRow is one process as top shows it.
type topRow struct {
	info   processInfo
	health *processHealth // nil without the gosupervisor namespace
	cpuPct float64        // since the previous sample; -1 when unknown
}

func (r topRow) name() string { return r.info.namespec() }

type cpuSample struct {
	seconds float64
	at      time.Time
}

// topSorts are the sort orders 'o' cycles through; the last three need
// the health columns.
var topSorts = []string{"name", "state", "uptime", "restarts", "cpu", "mem"}

type topModel struct {
	client   *rpcClient
	url      string
	health   bool // the server may have getAllProcessHealth (until it says no)
	rows     []topRow
	cpu      map[string]cpuSample
	selected string // namespec of the selected row
	sortBy   int
	reverse  bool
	msg      string // outcome of the last action or fetch error
	updated  time.Time
	fetching bool
	tail     string // namespec whose log is shown, "" for the list
	tailText string
	width    int
	height   int
}

type tickMsg time.Time

// topData is one fetch: every process, their health when asked, and the
// tail of the shown log.
type topData struct {
	infos    []processInfo
	health   []processHealth
	noHealth bool
	tail     string
	err      error
	at       time.Time
}

type actionDone struct{ msg string }

func tick() tea.Cmd {
	return tea.Tick(topInterval, func(t time.Time) tea.Msg { return tickMsg(t) })
}

func (m *topModel) Init() tea.Cmd { return tea.Batch(m.fetch(), tick()) }

// fetch asks the server for the next topData.
func (m *topModel) fetch() tea.Cmd {
	if m.fetching {
		return nil
	}
	m.fetching = true
	wantHealth, tailName := m.health, m.tail
	lines := max(m.height-3, 10)
	return func() tea.Msg {
		d := topData{at: time.Now()}
		if d.err = m.client.callInto(&d.infos, "supervisor.getAllProcessInfo"); d.err != nil {
			return d
		}
		if wantHealth {
			err := m.client.callInto(&d.health, "gosupervisor.getAllProcessHealth")
			if f, ok := asFault(err); ok && f.Code == faults.UnknownMethod {
				d.noHealth = true
			} else if err != nil {
				d.err = err
				return d
			}
		}
		if tailName != "" {
			v, err := m.client.call("supervisor.readProcessStdoutLog", tailName, -lines*200, 0)
			if err != nil {
				d.tail = "ERROR: " + err.Error()
			} else if s, ok := v.(string); ok {
				d.tail = s
			}
		}
		return d
	}
}

// act runs a process command (start, stop or restart) on name and reports
// it as supervisorctl words it.
func (m *topModel) act(verb, name string) tea.Cmd {
	m.msg = verb + " " + name + " ..."
	return func() tea.Msg {
		var lines []string
		do := func(method string, k startStop) {
			group, process := namespec.Split(name)
			if _, err := m.client.call(method, name); err != nil {
				if f, ok := asFault(err); ok {
					line, err := k.result(result{Name: process, Group: group, Status: f.Code, Description: f.String})
					if err != nil {
						line = err.Error()
					}
					lines = append(lines, line)
					return
				}
				lines = append(lines, name+": ERROR ("+err.Error()+")")
				return
			}
			lines = append(lines, namespec.Make(group, process)+": "+k.done)
		}
		if verb == "stop" || verb == "restart" {
			do("supervisor.stopProcess", stopCmd)
		}
		if verb == "start" || verb == "restart" {
			do("supervisor.startProcess", startCmd)
		}
		return actionDone{msg: strings.Join(lines, "; ")}
	}
}

func (m *topModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tickMsg:
		return m, tea.Batch(m.fetch(), tick())
	case topData:
		m.fetching = false
		m.apply(msg)
	case actionDone:
		m.msg = msg.msg
		return m, m.fetch()
	case tea.KeyPressMsg:
		return m, m.key(msg.String())
	}
	return m, nil
}

// key handles one key press.
func (m *topModel) key(k string) tea.Cmd {
	if k == "ctrl+c" {
		return tea.Quit
	}
	if m.tail != "" {
		switch k {
		case "q", "esc", "t":
			m.tail, m.tailText = "", ""
		}
		return nil
	}
	switch k {
	case "q":
		return tea.Quit
	case "up", "k":
		m.move(-1)
	case "down", "j":
		m.move(1)
	case "home", "g":
		m.move(-len(m.rows))
	case "end", "G":
		m.move(len(m.rows))
	case "o":
		n := len(topSorts)
		if !m.health {
			n = 3
		}
		m.sortBy = (m.sortBy + 1) % n
		m.sortRows()
	case "O":
		m.reverse = !m.reverse
		m.sortRows()
	case "s", "x", "r":
		if m.selected == "" {
			return nil
		}
		return m.act(map[string]string{"s": "start", "x": "stop", "r": "restart"}[k], m.selected)
	case "t":
		if m.selected != "" {
			m.tail, m.tailText = m.selected, ""
			return m.fetch()
		}
	}
	return nil
}

// move changes the selection by delta rows.
func (m *topModel) move(delta int) {
	if len(m.rows) == 0 {
		return
	}
	i := min(max(m.index()+delta, 0), len(m.rows)-1)
	m.selected = m.rows[i].name()
}

// index is the selected row's position, 0 when none is selected.
func (m *topModel) index() int {
	for i, r := range m.rows {
		if r.name() == m.selected {
			return i
		}
	}
	return 0
}

// apply takes a fetch's answer.
func (m *topModel) apply(d topData) {
	if d.err != nil {
		m.msg = "ERROR: " + d.err.Error()
		return
	}
	if d.noHealth {
		m.health = false
		if m.sortBy >= 3 {
			m.sortBy = 0
		}
	}
	byName := map[string]*processHealth{}
	for i := range d.health {
		byName[d.health[i].namespec()] = &d.health[i]
	}
	rows := make([]topRow, 0, len(d.infos))
	for _, info := range d.infos {
		r := topRow{info: info, health: byName[info.namespec()], cpuPct: -1}
		if r.health != nil {
			name := r.name()
			if prev, ok := m.cpu[name]; ok && d.at.After(prev.at) && r.health.CPUSeconds >= prev.seconds {
				r.cpuPct = 100 * (r.health.CPUSeconds - prev.seconds) / d.at.Sub(prev.at).Seconds()
			}
			m.cpu[name] = cpuSample{seconds: r.health.CPUSeconds, at: d.at}
		}
		rows = append(rows, r)
	}
	m.rows = rows
	m.sortRows()
	if m.tail != "" {
		m.tailText = d.tail
	}
	m.updated = d.at
	if m.selected == "" && len(rows) > 0 {
		m.selected = rows[0].name()
	}
	if strings.HasPrefix(m.msg, "ERROR: ") {
		m.msg = ""
	}
}

func (r topRow) uptime() int64 {
	if r.info.State != states.Running || r.info.Start == 0 {
		return -1
	}
	return r.info.Now - r.info.Start
}

// metric is r's value in a health column (restarts, cpu or mem); -1, below
// every value, when the server gave no health for r.
func (r topRow) metric(key string) float64 {
	switch {
	case r.health == nil:
		return -1
	case key == "restarts":
		return float64(r.health.Restarts)
	case key == "cpu":
		return r.cpuPct
	}
	return float64(r.health.RSS)
}

func (m *topModel) sortRows() {
	key := topSorts[m.sortBy]
	less := func(a, b topRow) bool {
		switch key {
		case "state":
			if a.info.State != b.info.State {
				return a.info.State > b.info.State
			}
		case "uptime":
			if a.uptime() != b.uptime() {
				return a.uptime() > b.uptime()
			}
		case "restarts", "cpu", "mem":
			if x, y := a.metric(key), b.metric(key); x != y {
				return x > y
			}
		}
		return a.name() < b.name()
	}
	sort.SliceStable(m.rows, func(i, j int) bool {
		if m.reverse {
			return less(m.rows[j], m.rows[i])
		}
		return less(m.rows[i], m.rows[j])
	})
}

// formatUptime is Python's str(timedelta) of whole seconds, as the status
// description shows it.
func formatUptime(s int64) string {
	if s < 0 {
		return "-"
	}
	return timedelta.String(s)
}

// View is the screen on the alternate screen, with no cursor shown.
func (m *topModel) View() tea.View {
	v := tea.NewView(m.screen())
	v.AltScreen = true
	return v
}

// screen is what top shows: the header, the process table (or the tail of
// the shown log), the last action's outcome and the keys.
func (m *topModel) screen() string {
	var b strings.Builder
	running := 0
	for _, r := range m.rows {
		if r.info.State == states.Running {
			running++
		}
	}
	updated := "-"
	if !m.updated.IsZero() {
		updated = m.updated.Format("15:04:05")
	}
	fmt.Fprintf(&b, "supervisorctl top  %s  %d processes, %d running  updated %s\n", m.url, len(m.rows), running, updated)
	height := max(m.height, 10)
	if m.tail != "" {
		fmt.Fprintf(&b, "tail %s (stdout; q, Esc or t: back)\n", m.tail)
		lines := strings.Split(strings.TrimRight(m.tailText, "\n"), "\n")
		if n := height - 3; len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		b.WriteString(strings.Join(lines, "\n"))
		return b.String()
	}
	width := 20
	for _, r := range m.rows {
		width = max(width, len(r.name()))
	}
	head := padRight("  NAME", width+4) + padRight("STATE", 10) + padRight("PID", 8) + padRight("UPTIME", 16)
	if m.health {
		head += padRight("RESTARTS", 10) + padRight("CPU%", 7) + padRight("CPU", 9) + padRight("MEM", 9) + "HEALTH"
	} else {
		head += "DESCRIPTION"
	}
	b.WriteString(head + "\n")
	// rows around the selection that fit between the headers and the
	// message and key lines
	n := height - 5
	start := 0
	if i := m.index(); i >= n {
		start = i - n + 1
	}
	for i := start; i < len(m.rows) && i < start+n; i++ {
		r := m.rows[i]
		mark := "  "
		if r.name() == m.selected {
			mark = "> "
		}
		pid := "-"
		if r.info.PID > 0 {
			pid = strconv.FormatInt(r.info.PID, 10)
		}
		line := mark + padRight(r.name(), width+2) + padRight(r.info.StateName, 10) + padRight(pid, 8) + padRight(formatUptime(r.uptime()), 16)
		if m.health {
			restarts, cpuPct, cpu, mem, health := "-", "-", "-", "-", "-"
			if h := r.health; h != nil {
				restarts, cpu, mem = strconv.FormatInt(h.Restarts, 10), formatCPU(h.CPUSeconds), formatBytes(h.RSS)
				if r.cpuPct >= 0 {
					cpuPct = fmt.Sprintf("%.1f", r.cpuPct)
				}
				health = "ok"
				if !h.Healthy {
					health = "no"
					if h.LastError != "" {
						health += ": " + h.LastError
					}
				}
			}
			line += padRight(restarts, 10) + padRight(cpuPct, 7) + padRight(cpu, 9) + padRight(mem, 9) + health
		} else {
			line += r.info.Description
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	order := topSorts[m.sortBy]
	if m.reverse {
		order += ", reversed"
	}
	b.WriteString(m.msg + "\n")
	fmt.Fprintf(&b, "s start  x stop  r restart  t tail  o sort (%s)  O reverse  q quit", order)
	return b.String()
}
