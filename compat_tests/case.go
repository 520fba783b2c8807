package compattests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Areas lists the case areas, in report order. Every area must hold cases.
var Areas = []string{"rpc", "faults", "lifecycle", "logs", "reload", "auth", "ctl", "events", "http"}

// Lines is text given in JSON either as one string or as an array of lines
// (joined with "\n"), so configs and scripts stay readable in case files.
type Lines []string

// UnmarshalJSON accepts a string or an array of strings.
func (l *Lines) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = Lines{s}
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("want a string or an array of strings: %w", err)
	}
	*l = a
	return nil
}

// Text joins the lines with newlines.
func (l Lines) Text() string { return strings.Join(l, "\n") }

// XFail marks a case as expected to fail against our daemon until the issue
// it waits on is done. The integrator deletes the field when it lands.
type XFail struct {
	Issue int    `json:"issue"` // 0: no issue filed yet (Note says why)
	Note  string `json:"note"`
}

func (x *XFail) String() string {
	if x.Issue == 0 {
		return "no issue yet: " + x.Note
	}
	if x.Note == "" {
		return fmt.Sprintf("#%d", x.Issue)
	}
	return fmt.Sprintf("#%d: %s", x.Issue, x.Note)
}

// Replace is one normalization: a regexp and its replacement ($1 allowed).
type Replace struct {
	re   *regexp.Regexp
	with string
}

// UnmarshalJSON reads ["regexp", "replacement"].
func (r *Replace) UnmarshalJSON(b []byte) error {
	var pair []string
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("normalize entry must be [regexp, replacement]: %s", b)
	}
	re, err := regexp.Compile(pair[0])
	if err != nil {
		return fmt.Errorf("normalize regexp %q: %w", pair[0], err)
	}
	r.re, r.with = re, pair[1]
	return nil
}

// Case is one scenario: a config, the steps every seat runs, and what to compare.
//
// Text fields may use placeholders, replaced per seat: {{dir}} (the seat's
// temp dir), {{sock}} (its unix socket), {{port}} (its 127.0.0.1 port, with
// inet), {{testdata}} (absolute path of compat_tests/testdata) and {{python}}.
type Case struct {
	Area string `json:"-"`
	Name string `json:"-"`
	Path string `json:"-"`

	Description string `json:"description"`
	// XFailOurs marks the case expected-to-fail against our daemon (never skipped).
	XFailOurs *XFail `json:"xfail_ours"`

	// Inet adds an [inet_http_server] on 127.0.0.1:{{port}}.
	Inet bool `json:"inet"`
	// NoBase drops the standard header sections: Config is then the whole file.
	NoBase bool `json:"no_base"`
	// Extra lines for the standard sections.
	Supervisord    Lines `json:"supervisord"`
	UnixHTTPServer Lines `json:"unix_http_server"`
	InetHTTPServer Lines `json:"inet_http_server"`
	Supervisorctl  Lines `json:"supervisorctl"`
	// Config is appended after the standard sections (program sections etc.).
	Config Lines `json:"config"`
	// Files are extra files written into the seat dir (relative paths).
	Files map[string]Lines `json:"files"`
	// Creds are the username and password the harness's own clients send.
	Creds []string `json:"creds"`
	// StartFails: the daemon is expected to exit at startup (config errors).
	StartFails bool `json:"start_fails"`
	// Normalize adds replacements applied to every observation of this case.
	Normalize []Replace `json:"normalize"`
	// Timeout bounds the whole case in seconds (default 60 + 30 per step).
	Timeout float64 `json:"timeout"`

	Steps []Step `json:"steps"`
}

// Step is one action run on every seat. Exactly one action field is set.
type Step struct {
	// Note says what the step checks; it is shown in failure reports.
	Note string `json:"note"`
	// NoCompare runs the step for its side effect only.
	NoCompare bool `json:"no_compare"`
	// Expect lists substrings the reference observation (normalized, as JSON)
	// must contain, so a case cannot silently stop testing what it claims.
	Expect []string `json:"expect"`
	// Normalize adds replacements for this step only.
	Normalize []Replace `json:"normalize"`
	// Unordered sorts every typed array of the observation before comparing,
	// for results Python appends in completion order (stopProcessGroup...),
	// and the stdout lines of a ctl step (stop grp:* prints them so).
	Unordered bool `json:"unordered"`
	// Creds overrides the case creds for this step ([] sends none).
	Creds *[]string `json:"creds"`
	// Via is "unix" (default) or "inet" for rpc, gorpc and http steps.
	Via string `json:"via"`

	// RPC runs calls through Python xmlrpc.client ([method, args...] each).
	RPC []json.RawMessage `json:"rpc"`
	// Client is "supervisor" (SupervisorTransport, default) or "plain" (inet only).
	Client string `json:"client"`
	// GoRPC runs calls through github.com/kolo/xmlrpc.
	GoRPC []json.RawMessage `json:"gorpc"`
	// Ctl runs /usr/bin/supervisorctl -c <conf> <args...>.
	Ctl []string `json:"ctl"`
	// Stdin is fed to supervisorctl.
	Stdin Lines `json:"stdin"`
	// KillAfter interrupts supervisorctl (SIGINT) after this many seconds.
	KillAfter float64 `json:"kill_after"`
	// KillWhen interrupts supervisorctl (SIGINT) once its stdout holds this
	// text (or after 15 s), for commands that never end (tail -f).
	KillWhen string `json:"kill_when"`
	// HTTP sends one raw HTTP request.
	HTTP *HTTPStep `json:"http"`
	// Wait polls until a condition holds.
	Wait *Wait `json:"wait"`
	// Read observes a file in the seat dir, optionally waiting for content.
	Read *Read `json:"read"`
	// Write writes a file in the seat dir (placeholders expanded).
	Write *Write `json:"write"`
	// Remove deletes a file in the seat dir.
	Remove string `json:"remove"`
	// Signal sends a signal (HUP, USR2, TERM...) to the daemon.
	Signal string `json:"signal"`
	// Sleep pauses (at most 3 s); prefer Wait.
	Sleep float64 `json:"sleep"`
	// DaemonExit waits for the daemon to exit and observes how.
	DaemonExit *DaemonExit `json:"daemon_exit"`
}

// HTTPStep is one raw HTTP request. Raw, if set, is sent verbatim (after
// placeholder expansion); otherwise the request is built from the fields.
type HTTPStep struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Proto   string      `json:"proto"`
	Headers [][2]string `json:"headers"`
	Body    Lines       `json:"body"`
	Raw     string      `json:"raw"`
	// Auth sends the step's (or case's) creds as Basic auth.
	Auth bool `json:"auth"`
	// Stream reads the body for this many seconds, then closes (logtail).
	Stream float64 `json:"stream"`
	// Compare lists response headers whose values are compared; "*" compares
	// the sorted list of header names present.
	Compare []string `json:"compare"`
	// Responses reads this many responses from the connection (pipelined
	// requests in Raw, keep-alive); default 1.
	Responses int `json:"responses"`
	// NoBody leaves the body out of the comparison.
	NoBody bool `json:"no_body"`
}

// Wait polls (every 50 ms) until its condition holds or Timeout seconds pass.
type Wait struct {
	Process  string  `json:"process"` // with State: getProcessInfo(Process).statename == State
	State    string  `json:"state"`
	Ready    bool    `json:"ready"` // getState() answers RUNNING
	File     string  `json:"file"`  // with Contains: the file holds the text
	Contains string  `json:"contains"`
	Gone     string  `json:"gone"` // the path does not exist
	Timeout  float64 `json:"timeout"`
}

// Read observes a file's content (relative to the seat dir).
type Read struct {
	Path     string `json:"path"`
	Grep     string `json:"grep"`     // keep only matching lines
	Contains string `json:"contains"` // wait until the (grepped) content holds it
	Lines    int    `json:"lines"`    // wait until at least this many (grepped) lines
	// Glob, instead of Path, counts the files of the seat dir that match it
	// (rotated backups whose names differ by design): {"files": N}.
	Glob string `json:"glob"`
	// SortLines compares the lines as a set: for logs where lines of
	// different processes interleave by timing, not by contract.
	SortLines bool    `json:"sort_lines"`
	Timeout   float64 `json:"timeout"`
}

// Write writes a file in the seat dir.
type Write struct {
	Path    string `json:"path"`
	Content Lines  `json:"content"`
}

// DaemonExit waits for the daemon to exit.
type DaemonExit struct {
	Timeout float64 `json:"timeout"`
	Output  bool    `json:"output"` // compare the daemon's stdout+stderr too
	Grep    string  `json:"grep"`   // with Output: keep only matching lines
}

func (s *Step) kind() string {
	var kinds []string
	add := func(set bool, k string) {
		if set {
			kinds = append(kinds, k)
		}
	}
	add(s.RPC != nil, "rpc")
	add(s.GoRPC != nil, "gorpc")
	add(s.Ctl != nil, "ctl")
	add(s.HTTP != nil, "http")
	add(s.Wait != nil, "wait")
	add(s.Read != nil, "read")
	add(s.Write != nil, "write")
	add(s.Remove != "", "remove")
	add(s.Signal != "", "signal")
	add(s.Sleep != 0, "sleep")
	add(s.DaemonExit != nil, "daemon_exit")
	if len(kinds) != 1 {
		return "invalid(" + strings.Join(kinds, ",") + ")"
	}
	return kinds[0]
}

// label names a step in reports.
func (s *Step) label(i int) string {
	l := fmt.Sprintf("step %d (%s", i+1, s.kind())
	switch {
	case s.Ctl != nil:
		l += " " + strings.Join(s.Ctl, " ")
	case s.RPC != nil:
		l += " " + string(bytes.Join(rawSlice(s.RPC), []byte(" ")))
	case s.GoRPC != nil:
		l += " " + string(bytes.Join(rawSlice(s.GoRPC), []byte(" ")))
	case s.HTTP != nil && s.HTTP.Raw != "":
		l += " raw " + strings.SplitN(s.HTTP.Raw, "\r\n", 2)[0]
	case s.HTTP != nil:
		l += " " + s.HTTP.Method + " " + s.HTTP.Path
	}
	if s.Note != "" {
		l += ": " + s.Note
	}
	return l + ")"
}

func rawSlice(r []json.RawMessage) [][]byte {
	out := make([][]byte, len(r))
	for i, m := range r {
		out[i] = m
	}
	return out
}

// LoadCases reads every cases/<area>/*.json under root, strictly (an unknown
// field is an error), and validates it.
func LoadCases(root string) ([]*Case, error) {
	var cases []*Case
	for _, area := range Areas {
		files, err := filepath.Glob(filepath.Join(root, area, "*.json"))
		if err != nil {
			return nil, fmt.Errorf("glob cases of %s: %w", area, err)
		}
		sort.Strings(files)
		for _, f := range files {
			c, err := LoadCase(f, area)
			if err != nil {
				return nil, err
			}
			cases = append(cases, c)
		}
	}
	dirs, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("read cases dir: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() || !contains(Areas, d.Name()) {
			return nil, fmt.Errorf("cases dir %s: %q is not an area (want one of %v)", root, d.Name(), Areas)
		}
	}
	return cases, nil
}

// LoadCase reads and validates one case file.
func LoadCase(path, area string) (*Case, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read case: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	c := &Case{}
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("case %s: %w", path, err)
	}
	c.Area, c.Path = area, path
	c.Name = strings.TrimSuffix(filepath.Base(path), ".json")
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("case %s: %w", path, err)
	}
	return c, nil
}

func (c *Case) validate() error {
	if c.Description == "" {
		return fmt.Errorf("no description")
	}
	if len(c.Steps) == 0 {
		return fmt.Errorf("no steps")
	}
	compared := false
	for i := range c.Steps {
		s := &c.Steps[i]
		k := s.kind()
		if strings.HasPrefix(k, "invalid") {
			return fmt.Errorf("step %d: exactly one action needed, got %s", i+1, k)
		}
		if s.Sleep > 3 {
			return fmt.Errorf("step %d: sleep %.1fs is too long, use wait", i+1, s.Sleep)
		}
		if s.Via != "" && s.Via != "unix" && s.Via != "inet" {
			return fmt.Errorf("step %d: via must be unix or inet", i+1)
		}
		if s.Via == "inet" && !c.Inet {
			return fmt.Errorf("step %d: via inet needs \"inet\": true", i+1)
		}
		for _, raw := range append(append([]json.RawMessage{}, s.RPC...), s.GoRPC...) {
			var call []any
			if err := json.Unmarshal(raw, &call); err != nil || len(call) == 0 {
				return fmt.Errorf("step %d: a call is [\"method\", args...], got %s", i+1, raw)
			}
			if _, ok := call[0].(string); !ok {
				return fmt.Errorf("step %d: method name must be a string in %s", i+1, raw)
			}
		}
		if s.Wait != nil {
			w := s.Wait
			n := 0
			for _, set := range []bool{w.Process != "", w.Ready, w.File != "", w.Gone != ""} {
				if set {
					n++
				}
			}
			if n != 1 || (w.Process != "") != (w.State != "") || (w.File != "") != (w.Contains != "") {
				return fmt.Errorf("step %d: wait needs one of process+state, ready, file+contains, gone", i+1)
			}
		}
		switch k {
		case "rpc", "gorpc", "ctl", "http", "read", "daemon_exit":
			if !s.NoCompare {
				compared = true
			}
		}
	}
	if !compared {
		return fmt.Errorf("no step compares anything")
	}
	if c.XFailOurs != nil && c.XFailOurs.Issue == 0 && c.XFailOurs.Note == "" {
		return fmt.Errorf("xfail_ours without an issue needs a note")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
