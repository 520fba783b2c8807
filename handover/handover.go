// Package handover owns supervisord's state hand-over across an in-place
// re-exec (gosupervisor.upgrade and reload_keeps_running, issue 16): the
// format of the state blob (State), carrying it and the descriptors it
// names across exec (an inherited memfd plus descriptors whose
// close-on-exec flag is cleared), checking the binary before the exec
// (Check), and the way back when a new image cannot read the state
// (Fallback: the old binary, kept open as a descriptor, is executed again
// with the same state, so the children are never left without a parent
// that knows them).
//
// The pid is kept by exec, so the children stay children of the daemon:
// procman adopts them (procman.Adopted), logrot reads their pipes on
// (logrot.Pipe), events restores its pools (events.BusState), rpc serves
// the inherited listening sockets. This package knows nothing of what the
// records mean.
package handover

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/events"
	"github.com/gosupervisor/gosupervisor/procman"
)

// Format is the version of the state blob this build writes and reads. A
// build that changes the meaning of State changes it; a new image that
// does not know the format hands back to the old one. It is a variable so
// a test build can be made incompatible (-ldflags -X).
var Format = "1"

// Env names the variable that carries "<format>:<memfd>:<old binary fd>"
// to the new image; RefusedEnv carries why a new image refused the state,
// to the old image it handed back to.
const (
	Env        = "GOSUPERVISOR_HANDOVER"
	RefusedEnv = "GOSUPERVISOR_HANDOVER_REFUSED"
)

// State is everything one image of the daemon hands the next.
type State struct {
	Format string `json:"format"`
	// From is the --gosupervisor-version line of the image that wrote it.
	From string `json:"from"`
	// Reload: a reload_keeps_running reload, not an upgrade.
	Reload bool `json:"reload,omitempty"`
	// Daemonized: the image runs detached (daemon mode).
	Daemonized bool `json:"daemonized,omitempty"`
	// MainLog is the main log file the state's images write to ("" or
	// syslog: none), for messages before the config is read.
	MainLog string `json:"mainlog,omitempty"`

	Listeners []Listener         `json:"listeners,omitempty"`
	Processes []procman.Adopted  `json:"processes,omitempty"`
	Pipes     []Pipe             `json:"pipes,omitempty"`
	Logs      []LogPaths         `json:"logs,omitempty"`
	Events    events.BusState    `json:"events"`
	Reply     *Reply             `json:"reply,omitempty"`
	Extra     map[string]float64 `json:"extra,omitempty"`
}

// Listener is one open HTTP server socket.
type Listener struct {
	Family string `json:"family"` // "unix" or "inet"
	Host   string `json:"host,omitempty"`
	Port   int    `json:"port,omitempty"`
	File   string `json:"file,omitempty"`
	FD     int    `json:"fd"`
}

// Pipe is the read end of one output channel of a child.
type Pipe struct {
	Group   string `json:"group"`
	Process string `json:"process"`
	Channel string `json:"channel"` // stdout or stderr
	PID     int    `json:"pid"`
	FD      int    `json:"fd"`
}

// LogPaths are the resolved (AUTO included) log files of a process, kept
// so an AUTO log keeps its name.
type LogPaths struct {
	Group   string `json:"group"`
	Process string `json:"process"`
	Stdout  string `json:"stdout"`
	Stderr  string `json:"stderr"`
}

// Reply is the connection of the XML-RPC call that asked for the upgrade:
// the image that takes over answers it.
type Reply struct {
	FD          int    `json:"fd"`
	HTTPVersion string `json:"http_version"`
}

// FDs lists every descriptor the state names.
func (s *State) FDs() []int {
	var fds []int
	for _, l := range s.Listeners {
		fds = append(fds, l.FD)
	}
	for _, p := range s.Processes {
		if p.StdinFD >= 0 {
			fds = append(fds, p.StdinFD)
		}
	}
	for _, p := range s.Pipes {
		fds = append(fds, p.FD)
	}
	if s.Reply != nil {
		fds = append(fds, s.Reply.FD)
	}
	return fds
}

// Encode is the blob.
func (s *State) Encode() ([]byte, error) {
	s.Format = Format
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("handover: encode the state: %w", err)
	}
	return b, nil
}

// Decode reads a blob of this build's format.
func Decode(b []byte) (*State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("handover: decode the state: %w", err)
	}
	if s.Format != Format {
		return nil, fmt.Errorf("handover: state format %q, this build reads %q", s.Format, Format)
	}
	return &s, nil
}

// envValue is Env's value.
type envValue struct {
	format string
	memfd  int
	exefd  int
}

func (v envValue) String() string {
	return fmt.Sprintf("%s:%d:%d", v.format, v.memfd, v.exefd)
}

func parseEnv(s string) (envValue, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return envValue{}, fmt.Errorf("handover: bad %s value %q", Env, s)
	}
	mem, err1 := strconv.Atoi(parts[1])
	exe, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || mem < 3 || exe < 3 {
		return envValue{}, fmt.Errorf("handover: bad %s value %q", Env, s)
	}
	return envValue{format: parts[0], memfd: mem, exefd: exe}, nil
}
