package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
)

// gosupervisor's own commands and flags: status --json, health, rotate.
// They use the gosupervisor RPC namespace where they need it (served with
// [rpcinterface:gosupervisor]); Python's commands and output are untouched.

// processHealth is gosupervisor.getProcessHealth's struct.
type processHealth struct {
	Name       string   `xmlrpc:"name" json:"name"`
	Group      string   `xmlrpc:"group" json:"group"`
	Ready      bool     `xmlrpc:"ready" json:"ready"`
	Healthy    bool     `xmlrpc:"healthy" json:"healthy"`
	LastCheck  int64    `xmlrpc:"last_check" json:"last_check"`
	LastError  string   `xmlrpc:"last_error" json:"last_error"`
	Restarts   int64    `xmlrpc:"restarts" json:"restarts"`
	DependsOn  []string `xmlrpc:"depends_on,optional" json:"depends_on"`
	RSS        int64    `xmlrpc:"rss,optional" json:"rss"`
	CPUSeconds float64  `xmlrpc:"cpu_seconds,optional" json:"cpu_seconds"`
}

func (h processHealth) namespec() string { return namespec.Make(h.Group, h.Name) }

// noMethod is what a gosupervisor command says when the server does not
// know its method (Python's supervisord, or ours without the
// [rpcinterface:gosupervisor] section).
func noMethod(method string) string {
	return "ERROR: the server does not know " + method + " (a gosupervisor daemon with [rpcinterface:gosupervisor] does)"
}

// takeFlag removes every word flag from args and reports whether it was
// there.
func takeFlag(args []string, flag string) ([]string, bool) {
	var out []string
	found := false
	for _, a := range args {
		if a == flag {
			found = true
			continue
		}
		out = append(out, a)
	}
	return out, found
}

// matchNames is do_status's name matching: names (namespecs, group:* or
// all) select from items by group and name; an unknown name is reported
// (on stderr when toStderr, so that stdout holds only JSON) and sets exit
// status unknownExit.
func matchNames[T any](c *controller, names []string, items []T, groupName func(T) (string, string), unknownExit int, toStderr bool) []T {
	report := c.output
	if toStderr {
		report = func(s string) { io.WriteString(c.errOut, s+"\n") }
	}
	if len(names) == 0 || containsAll(names) {
		return items
	}
	var matching []T
	for _, name := range names {
		bad := true
		group, process := namespec.Split(name)
		for _, it := range items {
			g, n := groupName(it)
			if g == group && (process == "" || n == process) {
				bad = false
				matching = append(matching, it)
			}
		}
		if bad {
			if process == "" {
				report(group + ": ERROR (no such group)")
			} else {
				report(name + ": ERROR (no such process)")
			}
			c.exitStatus = unknownExit
		}
	}
	return matching
}

// outputJSON writes v as indented JSON.
func (c *controller) outputJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	c.output(string(b))
	return nil
}

func doHealth(c *controller, arg string) (bool, error) {
	s, err := c.statusSupervisor()
	if s == nil {
		return false, err
	}
	defer s.close()
	names, asJSON := takeFlag(strings.Fields(arg), "--json")
	var all []processHealth
	if err := s.callInto(&all, "gosupervisor.getAllProcessHealth"); err != nil {
		if f, ok := asFault(err); ok && f.Code == faults.UnknownMethod {
			c.output(noMethod("gosupervisor.getAllProcessHealth"))
			c.exitStatus = statusExitUnknown
			return false, nil
		}
		return false, err
	}
	matching := matchNames(c, names, all, func(h processHealth) (string, string) { return h.Group, h.Name },
		statusExitUnknown, asJSON)
	for _, h := range matching {
		if !h.Healthy && c.exitStatus == exitSuccess {
			c.exitStatus = statusExitNotRunning
		}
	}
	if asJSON {
		if matching == nil {
			matching = []processHealth{}
		}
		return false, c.outputJSON(matching)
	}
	showHealth(c, matching, time.Now())
	return false, nil
}

// showHealth prints the health table: one row per process.
func showHealth(c *controller, hs []processHealth, now time.Time) {
	width := 30
	for _, h := range hs {
		width = max(width, len(h.namespec()))
	}
	c.output(padRight("NAME", width+2) + padRight("READY", 7) + padRight("HEALTHY", 9) + padRight("RESTARTS", 10) +
		padRight("RSS", 10) + padRight("CPU", 10) + padRight("CHECKED", 9) + "LAST ERROR")
	for _, h := range hs {
		checked := "-"
		if h.LastCheck > 0 {
			checked = formatAge(now.Sub(time.Unix(h.LastCheck, 0))) + " ago"
		}
		c.output(strings.TrimRight(padRight(h.namespec(), width+2)+padRight(yesNo(h.Ready), 7)+padRight(yesNo(h.Healthy), 9)+
			padRight(strconv.FormatInt(h.Restarts, 10), 10)+padRight(formatBytes(h.RSS), 10)+
			padRight(formatCPU(h.CPUSeconds), 10)+padRight(checked, 9)+h.LastError, " "))
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// formatBytes is a size in B, K, M or G (powers of 1024), "-" for 0.
func formatBytes(n int64) string {
	switch {
	case n <= 0:
		return "-"
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.1fK", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
}

// formatCPU is CPU seconds as 12.3s, or 1h02m for long ones.
func formatCPU(s float64) string {
	if s < 3600 {
		return fmt.Sprintf("%.1fs", s)
	}
	m := int64(s) / 60
	return fmt.Sprintf("%dh%02dm", m/60, m%60)
}

// formatAge is a duration as 5s, 3m, 2h or 4d.
func formatAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 24*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d"
}

func doRotate(c *controller, arg string) (bool, error) {
	names := strings.Fields(arg)
	if len(names) == 0 {
		c.output("Error: rotate requires a process name")
		c.exitStatus = exitGeneric
		showHelp(c, "rotate")
		return false, nil
	}
	s, err := c.upSupervisor()
	if s == nil {
		return false, err
	}
	defer s.close()
	for _, name := range names {
		if _, err := s.call("gosupervisor.rotateLogs", name); err != nil {
			f, ok := asFault(err)
			if !ok {
				return false, err
			}
			c.exitStatus = exitGeneric
			switch f.Code {
			case faults.UnknownMethod:
				c.output(noMethod("gosupervisor.rotateLogs"))
				return false, nil
			case faults.BadName:
				c.output(name + ": ERROR (no such process)")
			case faults.NoFile:
				c.output(name + ": ERROR (no log file)")
			default:
				c.output(name + ": ERROR (" + f.String + ")")
			}
			continue
		}
		c.output(name + ": rotated")
	}
	return false, nil
}

// doUpgrade is gosupervisor.upgrade: the daemon re-executes its binary on
// disk without stopping the programs; the answer (the new version line)
// comes from the new image.
func doUpgrade(c *controller, arg string) (bool, error) {
	if strings.TrimSpace(arg) != "" {
		c.output("Error: upgrade accepts no arguments")
		c.exitStatus = exitGeneric
		showHelp(c, "upgrade")
		return false, nil
	}
	up, err := c.upcheck()
	if err != nil || !up {
		return false, err
	}
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	v, err := s.call("gosupervisor.upgrade")
	if err != nil {
		f, ok := asFault(err)
		if !ok {
			return false, err
		}
		c.exitStatus = exitGeneric
		if f.Code == faults.UnknownMethod {
			c.output(noMethod("gosupervisor.upgrade"))
			return false, nil
		}
		c.output("ERROR: " + f.String)
		return false, nil
	}
	line, _ := v.(string)
	c.output("upgraded: " + line)
	return false, nil
}
