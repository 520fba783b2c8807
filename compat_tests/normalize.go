package compattests

import (
	"regexp"
	"strconv"
	"strings"
)

// defaultReplaces hide what legitimately differs between two correct daemons
// (and between two runs of the same one). Everything else is compared.
var defaultReplaces = []struct {
	re   *regexp.Regexp
	with string
}{
	// supervisorctl status / ProcessInfo.description of a RUNNING process.
	{regexp.MustCompile(`pid \d+, uptime (\d+ days?, )?\d+:\d\d:\d\d`), "pid <PID>, uptime <UPTIME>"},
	// description of STOPPED/EXITED: the local stop time.
	{regexp.MustCompile(`\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d \d\d:\d\d [AP]M\b`), "<STOPTIME>"},
	// AUTO child log names carry 8 random characters.
	{regexp.MustCompile(`(---\S+?)-[a-z0-9_]{8}\.log`), "$1-<RAND>.log"},
	// the same members in raw XML-RPC bodies (zero stays visible).
	{regexp.MustCompile(`(<name>(start|stop|now|pid)</name>\n?<value><int>)[1-9]\d*`), "${1}<${2}>"},
	// main log timestamps.
	{regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}`), "<LOGTIME>"},
	// pids in log lines and event payloads: "with pid 123", "pid:123", "(pid 123)".
	{regexp.MustCompile(`\bpid([ :])\d+`), "pid$1<PID>"},
	// HTTP dates (Date, Last-Modified, Expires is fixed and not matched).
	{regexp.MustCompile(`(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT`), "<HTTPDATE>"},
	// web UI "... at <ctime>" messages.
	{regexp.MustCompile(`(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}`), "<CTIME>"},
}

// timeFields are ProcessInfo members whose non-zero int values vary per run.
// Zero stays visible: "never started" must still compare.
var timeFields = map[string]bool{"pid": true, "start": true, "stop": true, "now": true}

// Normalizer rewrites one seat's observations into a seat-independent form.
type Normalizer struct {
	literal *strings.Replacer
	port    *regexp.Regexp // the seat's inet port as a whole word
	extra   []Replace
	pidInts map[float64]string // known pids (typed ints and bare-number lines)
}

// numberLine matches a line that is only a number (supervisorctl pid output),
// also after an interactive prompt ("supervisor> 6130").
var numberLine = regexp.MustCompile(`(?m)(?:^|> )\d+$`)

// NewNormalizer builds the normalizer of one seat: its dir (and the dir's
// real path), its daemon binary, port and known pids are replaced by
// placeholders, then the default and the case's replacements run. Known pids
// are replaced only where a pid stands alone (a typed int, a line holding
// just the number): in free text "pid N" patterns catch them, and a bare
// number there may be anything ("tail" help says 1600).
func NewNormalizer(dir, realDir, binary string, port int, daemonPID int, childPIDs []int, extra []Replace) *Normalizer {
	var pairs []string
	for _, d := range []string{realDir, dir} {
		if d != "" {
			pairs = append(pairs, d, "<DIR>")
		}
	}
	if binary != "" {
		pairs = append(pairs, binary, "<SUPERVISORD>")
	}
	n := &Normalizer{literal: strings.NewReplacer(pairs...), extra: extra, pidInts: map[float64]string{}}
	for _, p := range childPIDs {
		if p >= 100 { // tiny numbers would hit unrelated values
			n.pidInts[float64(p)] = "<PID>"
		}
	}
	if daemonPID > 0 {
		n.pidInts[float64(daemonPID)] = "<SUPERVISORD_PID>"
	}
	if port > 0 {
		n.port = regexp.MustCompile(`\b` + strconv.Itoa(port) + `\b`)
	}
	return n
}

// String normalizes one string.
func (n *Normalizer) String(s string) string {
	for _, r := range defaultReplaces {
		s = r.re.ReplaceAllString(s, r.with)
	}
	s = n.literal.Replace(s)
	if n.port != nil {
		s = n.port.ReplaceAllString(s, "<PORT>")
	}
	s = numberLine.ReplaceAllStringFunc(s, func(w string) string {
		prompt, digits := "", w
		if strings.HasPrefix(w, "> ") {
			prompt, digits = "> ", w[2:]
		}
		if num, err := strconv.Atoi(digits); err == nil {
			if ph, known := n.pidInts[float64(num)]; known {
				return prompt + ph
			}
		}
		return w
	})
	for _, r := range n.extra {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

// Value normalizes an observation (the generic JSON form: maps, slices,
// strings, float64, bool, nil). Typed XML-RPC values ({"struct": [[k, v]...]})
// get their time and pid members replaced by placeholders, keeping the type.
func (n *Normalizer) Value(v any) any {
	switch x := v.(type) {
	case string:
		return n.String(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = n.Value(e)
		}
		return out
	case map[string]any:
		if members, ok := x["struct"].([]any); ok && len(x) == 1 {
			out := make([]any, len(members))
			for i, m := range members {
				out[i] = n.member(m)
			}
			return map[string]any{"struct": out}
		}
		if num, ok := x["int"].(float64); ok && len(x) == 1 {
			if ph, known := n.pidInts[num]; known {
				return map[string]any{"int": ph}
			}
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = n.Value(e)
		}
		return out
	default:
		return v
	}
}

func (n *Normalizer) member(m any) any {
	pair, ok := m.([]any)
	if !ok || len(pair) != 2 {
		return n.Value(m)
	}
	key, _ := pair[0].(string)
	if timeFields[key] {
		if typed, ok := pair[1].(map[string]any); ok && len(typed) == 1 {
			if num, ok := typed["int"].(float64); ok && num != 0 {
				return []any{key, map[string]any{"int": "<" + key + ">"}}
			}
		}
	}
	return []any{key, n.Value(pair[1])}
}
