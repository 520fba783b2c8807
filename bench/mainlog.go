package bench

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"
)

// LogEvent is one line of a supervisord main log.
type LogEvent struct {
	At    time.Time
	Level string
	Msg   string
}

// mainLogLayout is Python's logger timestamp: "2006-01-02 15:04:05,000".
const mainLogLayout = "2006-01-02 15:04:05,000"

// ParseMainLog reads the events of a main log file; lines that do not start
// with a timestamp (continuations) are skipped.
func ParseMainLog(path string) ([]LogEvent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open main log: %w", err)
	}
	defer f.Close()
	var evs []LogEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if ev, ok := parseLogLine(sc.Text()); ok {
			evs = append(evs, ev)
		}
	}
	if err := sc.Err(); err != nil {
		return evs, fmt.Errorf("read main log: %w", err)
	}
	return evs, nil
}

func parseLogLine(line string) (LogEvent, bool) {
	if len(line) < len(mainLogLayout)+2 {
		return LogEvent{}, false
	}
	at, err := time.ParseInLocation(mainLogLayout, line[:len(mainLogLayout)], time.Local)
	if err != nil {
		return LogEvent{}, false
	}
	level, msg, _ := strings.Cut(line[len(mainLogLayout)+1:], " ")
	return LogEvent{At: at, Level: level, Msg: msg}, true
}

// RespawnGaps pairs each "exited: NAME" with the next "spawned: 'NAME'"
// and returns the gaps between them.
func RespawnGaps(evs []LogEvent, name string) []time.Duration {
	exitPrefix := "exited: " + name + " "
	spawnPrefix := "spawned: '" + name + "' "
	var gaps []time.Duration
	var exitAt time.Time
	for _, ev := range evs {
		switch {
		case strings.HasPrefix(ev.Msg, exitPrefix):
			exitAt = ev.At
		case strings.HasPrefix(ev.Msg, spawnPrefix) && !exitAt.IsZero():
			gaps = append(gaps, ev.At.Sub(exitAt))
			exitAt = time.Time{}
		}
	}
	return gaps
}

// StoppedOrder returns the program names of "stopped: NAME (...)" lines in
// log order.
func StoppedOrder(evs []LogEvent) []string {
	var names []string
	for _, ev := range evs {
		if rest, ok := strings.CutPrefix(ev.Msg, "stopped: "); ok {
			name, _, _ := strings.Cut(rest, " ")
			names = append(names, name)
		}
	}
	return names
}

// ChildTimes parses the "s <EPOCHREALTIME>" / "e <EPOCHREALTIME>" lines
// the crash-loop program appends, and returns the gaps from each exit to
// the next start as the child saw them.
func ChildTimes(path string) ([]time.Duration, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read child events: %w", err)
	}
	var gaps []time.Duration
	starts := 0
	var lastExit float64
	for _, line := range strings.Split(string(data), "\n") {
		kind, val, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		var t float64
		if _, err := fmt.Sscanf(strings.Replace(val, ",", ".", 1), "%f", &t); err != nil {
			continue
		}
		switch kind {
		case "s":
			starts++
			if lastExit > 0 {
				gaps = append(gaps, time.Duration((t-lastExit)*float64(time.Second)))
			}
		case "e":
			lastExit = t
		}
	}
	return gaps, starts, nil
}
