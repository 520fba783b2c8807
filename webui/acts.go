package webui

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gosupervisor/gosupervisor/procman"
)

// act is one button (a form posting to /ui/action) or, with Href, a link.
type act struct {
	Token, Action, Target string
	Label, Aria, Confirm  string
	Href                  string
}

func allActs(token string) []act {
	return []act{
		{Token: token, Action: "startall", Label: "Start all"},
		{Token: token, Action: "stopall", Label: "Stop all", Confirm: "Stop all processes?"},
		{Token: token, Action: "restartall", Label: "Restart all", Confirm: "Restart all processes?"},
	}
}

func groupActs(token, group string) []act {
	var out []act
	for _, a := range []string{"Start", "Stop", "Restart"} {
		out = append(out, act{Token: token, Action: strings.ToLower(a) + "group", Target: group,
			Label: a + " group", Aria: a + " group " + group})
	}
	return out
}

// procActs are a row's actions, as Python's page offers them by state,
// plus the log views.
func procActs(token string, p Proc) []act {
	mk := func(action, label string) act {
		return act{Token: token, Action: action, Target: p.Spec, Label: label, Aria: label + " " + p.Spec}
	}
	var out []act
	switch p.State {
	case procman.Running.String(), procman.Starting.String(), procman.Backoff.String():
		out = append(out, mk("stop", "Stop"), mk("restart", "Restart"))
	case procman.Stopped.String(), procman.Exited.String(), procman.Fatal.String():
		out = append(out, mk("start", "Start"))
	}
	out = append(out, mk("clear", "Clear log"))
	for _, ch := range []string{"stdout", "stderr"} {
		q := url.Values{"name": {p.Spec}, "channel": {ch}}.Encode()
		out = append(out, act{Href: "/ui/log?" + q, Label: ch, Aria: "Log of " + p.Spec + " " + ch})
	}
	return out
}

func lastCPU(v []float64) string { return fmt.Sprintf("%.1f%%", v[len(v)-1]) }

func lastMem(v []int64) string { return humanBytes(v[len(v)-1]) }

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
