package compattests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Env says which programs play which part in a run.
type Env struct {
	Python        string // /usr/bin/python3 (with the supervisor package)
	Supervisord   string // /usr/bin/supervisord, the oracle
	Supervisorctl string // /usr/bin/supervisorctl, the client under which we must work
	TestData      string // absolute path of compat_tests/testdata

	Selfcheck bool     // run Python's supervisord in a candidate seat too
	Ours      bool     // run our daemon in a candidate seat
	OursArgv  []string // how to run our daemon (argv prefix)
	OursErr   error    // why our daemon cannot run (build failure...): every ours case fails with it

	// Trace, if set, receives every step's normalized reference observation.
	Trace func(c *Case, step string, obs string)
}

// Render returns the files of the case's seat (before placeholder
// expansion): supervisord.conf plus the case's extra files.
func (c *Case) Render() map[string]string {
	var b strings.Builder
	if !c.NoBase {
		section(&b, "unix_http_server", []string{"file={{sock}}"}, c.UnixHTTPServer)
		if c.Inet {
			section(&b, "inet_http_server", []string{"port=127.0.0.1:{{port}}"}, c.InetHTTPServer)
		}
		section(&b, "supervisord", []string{
			"logfile={{dir}}/supervisord.log",
			"pidfile={{dir}}/supervisord.pid",
			"childlogdir={{dir}}",
		}, c.Supervisord)
		section(&b, "rpcinterface:supervisor", []string{
			"supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
		}, nil)
		section(&b, "supervisorctl", []string{"serverurl=unix://{{sock}}"}, c.Supervisorctl)
	}
	b.WriteString(c.Config.Text())
	b.WriteString("\n")
	files := map[string]string{"supervisord.conf": b.String()}
	for name, content := range c.Files {
		files[name] = content.Text() + "\n"
	}
	return files
}

// section writes [name] with the defaults not overridden by extra, then extra.
func section(b *strings.Builder, name string, defaults []string, extra Lines) {
	fmt.Fprintf(b, "[%s]\n", name)
	for _, d := range defaults {
		key := strings.TrimSpace(strings.SplitN(d, "=", 2)[0])
		overridden := false
		for _, e := range extra {
			if strings.TrimSpace(strings.SplitN(e, "=", 2)[0]) == key {
				overridden = true
			}
		}
		if !overridden {
			b.WriteString(d + "\n")
		}
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	b.WriteString("\n")
}

// stepTimeout bounds one step on all seats (waits have their own, shorter, timeouts).
const stepTimeout = 2 * time.Minute

// RunCase runs one scenario on the reference seat and the enabled candidate
// seats, comparing every step. It returns, per candidate role, the failures
// (none means the candidate passed). Everything started is stopped.
func RunCase(ctx context.Context, c *Case, env *Env) map[string][]string {
	results := map[string][]string{}
	var roles []string
	if env.Selfcheck {
		roles = append(roles, RoleSelfcheck)
	}
	if env.Ours {
		roles = append(roles, RoleOurs)
	}
	failAll := func(msg string) map[string][]string {
		for _, r := range roles {
			results[r] = append(results[r], msg)
		}
		return results
	}
	for _, r := range roles {
		results[r] = nil
	}
	// Budget per step, not per case: a loaded 2-core box can make one
	// supervisorctl call take seconds, and ctl cases have many steps.
	timeout := time.Minute + time.Duration(len(c.Steps))*30*time.Second
	if c.Timeout > 0 {
		timeout = time.Duration(c.Timeout * float64(time.Second))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	parent, err := os.MkdirTemp("", "cmp")
	if err != nil {
		return failAll(fmt.Sprintf("harness: temp dir: %v", err))
	}
	defer os.RemoveAll(parent)

	ref, err := newSeat(RoleRef, []string{env.Supervisord}, env, c, parent)
	if err != nil {
		return failAll("harness: " + err.Error())
	}
	seats := []*seat{ref}
	for _, r := range roles {
		argv := []string{env.Supervisord}
		if r == RoleOurs {
			if env.OursErr != nil {
				results[r] = append(results[r], fmt.Sprintf("our daemon is not available: %v", env.OursErr))
				continue
			}
			argv = env.OursArgv
		}
		s, err := newSeat(r, argv, env, c, parent)
		if err != nil {
			results[r] = append(results[r], "harness: "+err.Error())
			continue
		}
		seats = append(seats, s)
	}
	defer func() {
		var wg sync.WaitGroup
		problems := make([][]string, len(seats))
		for i, s := range seats {
			wg.Add(1)
			go func() { defer wg.Done(); problems[i] = s.stop() }()
		}
		wg.Wait()
		for i, s := range seats {
			for _, p := range problems[i] {
				if s.role == RoleRef {
					failAll("reference seat: " + p)
				} else {
					results[s.role] = append(results[s.role], p)
				}
			}
		}
	}()

	startErrs := parallel(seats, func(s *seat) error { return s.start(ctx) })
	if startErrs[0] != nil {
		return failAll(fmt.Sprintf("reference supervisord failed to start (the case is broken): %v", startErrs[0]))
	}
	live := []*seat{ref}
	for i, s := range seats[1:] {
		if err := startErrs[i+1]; err != nil {
			results[s.role] = append(results[s.role], fmt.Sprintf("daemon failed to start: %v", err))
			continue
		}
		live = append(live, s)
	}
	if len(live) == 1 && env.Trace == nil {
		return results // no candidate left to compare with
	}

	for i := range c.Steps {
		st := &c.Steps[i]
		label := st.label(i)
		obs := make([]any, len(live))
		stepCtx, stepCancel := context.WithTimeout(ctx, stepTimeout)
		parallel(live, func(s *seat) error {
			idx := indexOf(live, s)
			v, err := s.runStep(stepCtx, st)
			if err != nil {
				v = map[string]any{"harness_error": err.Error()}
			}
			s.snapshot()
			obs[idx] = s.normalizer(st).Value(toGeneric(v))
			if st.Unordered {
				obs[idx] = sortArrays(obs[idx])
				if st.Ctl != nil {
					obs[idx] = sortLinesOf(obs[idx], "stdout")
				}
			}
			if st.Read != nil && st.Read.SortLines {
				obs[idx] = sortLinesOf(obs[idx], "content")
			}
			return nil
		})
		stepCancel()
		if ctx.Err() != nil {
			return failAll(fmt.Sprintf("%s: case timed out after %v", label, timeout))
		}
		refJSON := mustJSON(obs[0])
		if env.Trace != nil {
			env.Trace(c, label, refJSON)
		}
		if m, ok := obs[0].(map[string]any); ok {
			if e, bad := m["harness_error"]; bad {
				return failAll(fmt.Sprintf("%s: reference seat: harness error: %v", label, e))
			}
			if m["wait"] == "timeout" {
				return failAll(fmt.Sprintf("%s: the reference never got there (the case is broken): %s", label, refJSON))
			}
		}
		for _, want := range st.Expect {
			if !strings.Contains(refJSON, want) {
				return failAll(fmt.Sprintf("%s: reference observation lacks %q (the case is broken): %s", label, want, refJSON))
			}
		}
		if st.NoCompare {
			continue
		}
		for j, s := range live[1:] {
			if diff := cmp.Diff(obs[0], obs[j+1]); diff != "" {
				msg := fmt.Sprintf("%s differs (-python +%s):\n%s", label, s.role, diff)
				if len(results[s.role]) == 0 {
					msg += fmt.Sprintf("\n%s daemon output (tail):\n%s", s.role, s.outputTail(15))
				}
				results[s.role] = append(results[s.role], msg)
			}
		}
	}
	return results
}

func indexOf(list []*seat, s *seat) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// parallel runs f on every seat at once and returns the errors in order.
func parallel(seats []*seat, f func(*seat) error) []error {
	errs := make([]error, len(seats))
	var wg sync.WaitGroup
	for i, s := range seats {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f(s) }()
	}
	wg.Wait()
	return errs
}

func mustJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// toGeneric turns any observation into the JSON data model (maps, slices,
// strings, float64, bool, nil), which the normalizer and cmp work on.
func toGeneric(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{"harness_error": fmt.Sprintf("encode observation: %v", err)}
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return map[string]any{"harness_error": fmt.Sprintf("decode observation: %v", err)}
	}
	return out
}

// runStep runs one step on this seat and returns its observation.
func (s *seat) runStep(ctx context.Context, st *Step) (any, error) {
	via := st.Via
	if via == "" {
		via = "unix"
	}
	switch {
	case st.RPC != nil:
		return s.pyRPC(ctx, st, via)
	case st.GoRPC != nil:
		var out []any
		for _, raw := range st.GoRPC {
			var call []any
			if err := json.Unmarshal([]byte(s.expand(string(raw))), &call); err != nil {
				return nil, fmt.Errorf("decode call: %w", err)
			}
			v, err := GoCall(ctx, s.ep, via, s.creds(st), call[0].(string), goArgs(call[1:]))
			if err != nil {
				out = append(out, map[string]any{"error": err.Error()})
			} else {
				out = append(out, TypedGo(v))
			}
		}
		return out, nil
	case st.Ctl != nil:
		args := make([]string, len(st.Ctl))
		for i, a := range st.Ctl {
			args[i] = s.expand(a)
		}
		stdin := ""
		if len(st.Stdin) > 0 {
			stdin = s.expand(st.Stdin.Text()) + "\n"
		}
		return RunCtl(ctx, CtlRun{
			Ctl: s.env.Supervisorctl, Conf: s.conf, Args: args, Stdin: stdin, Dir: s.dir,
			KillAfter: time.Duration(st.KillAfter * float64(time.Second)), KillWhen: st.KillWhen,
		})
	case st.HTTP != nil:
		raw := BuildRequest(st.HTTP, s.creds(st), s.expand)
		res, err := DoHTTP(ctx, s.ep, via, st.HTTP, raw)
		if err != nil {
			return map[string]any{"error": err.Error()}, nil
		}
		return res, nil
	case st.Wait != nil:
		return s.wait(ctx, st)
	case st.Read != nil:
		return s.read(ctx, st.Read)
	case st.Write != nil:
		p := filepath.Join(s.dir, st.Write.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("write step: %w", err)
		}
		if err := os.WriteFile(p, []byte(s.expand(st.Write.Content.Text())+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("write step: %w", err)
		}
		return nil, nil
	case st.Remove != "":
		if err := os.Remove(filepath.Join(s.dir, st.Remove)); err != nil {
			return nil, fmt.Errorf("remove step: %w", err)
		}
		return nil, nil
	case st.Signal != "":
		sig, ok := signals[strings.TrimPrefix(strings.ToUpper(st.Signal), "SIG")]
		if !ok {
			return nil, fmt.Errorf("unknown signal %q", st.Signal)
		}
		if s.exited() {
			return map[string]any{"error": "daemon not running"}, nil
		}
		return nil, syscallKill(s.pid(), sig)
	case st.Sleep > 0:
		select {
		case <-time.After(time.Duration(st.Sleep * float64(time.Second))):
		case <-ctx.Done():
		}
		return nil, nil
	case st.DaemonExit != nil:
		return s.daemonExit(ctx, st.DaemonExit)
	}
	return nil, fmt.Errorf("step has no action")
}

var signals = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "TERM": syscall.SIGTERM,
	"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "KILL": syscall.SIGKILL,
}

func syscallKill(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("signal daemon %d: %w", pid, err)
	}
	return nil
}

func (s *seat) pyRPC(ctx context.Context, st *Step, via string) (any, error) {
	if s.py == nil {
		py, err := StartPyClient(s.env.Python, filepath.Join(s.env.TestData, "pyrpc.py"))
		if err != nil {
			return nil, err
		}
		s.py = py
	}
	calls := make([]any, 0, len(st.RPC))
	for _, raw := range st.RPC {
		var call []any
		if err := json.Unmarshal([]byte(s.expand(string(raw))), &call); err != nil {
			return nil, fmt.Errorf("decode call: %w", err)
		}
		calls = append(calls, call)
	}
	url := "unix://" + s.ep.Sock
	if via == "inet" {
		url = fmt.Sprintf("http://127.0.0.1:%d", s.ep.Port)
	}
	req := map[string]any{"url": url, "calls": calls, "client": st.Client}
	if cr := s.creds(st); len(cr) == 2 {
		req["username"], req["password"] = cr[0], cr[1]
	}
	return s.py.Call(ctx, req)
}

// wait polls the step's condition every 50 ms.
func (s *seat) wait(ctx context.Context, st *Step) (any, error) {
	w := st.Wait
	timeout := 30 * time.Second
	if w.Timeout > 0 {
		timeout = time.Duration(w.Timeout * float64(time.Second))
	}
	deadline := time.Now().Add(timeout)
	var last any
	for {
		ok := false
		switch {
		case w.Process != "":
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			v, err := GoCall(cctx, s.ep, "unix", s.creds(st), "supervisor.getProcessInfo", []any{w.Process})
			cancel()
			if m, isMap := v.(map[string]any); err == nil && isMap {
				last = m["statename"]
				ok = last == w.State
			} else {
				last = fmt.Sprint(err)
			}
		case w.Ready:
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			v, err := GoCall(cctx, s.ep, "unix", s.creds(st), "supervisor.getState", nil)
			cancel()
			if m, isMap := v.(map[string]any); err == nil && isMap {
				last = m["statename"]
				ok = last == "RUNNING"
			} else {
				last = fmt.Sprint(err)
			}
		case w.File != "":
			text, _, err := readFileText(filepath.Join(s.dir, s.expand(w.File)))
			if err != nil {
				return nil, err
			}
			last = len(text)
			ok = strings.Contains(text, w.Contains)
		case w.Gone != "":
			_, err := os.Lstat(filepath.Join(s.dir, s.expand(w.Gone)))
			ok = os.IsNotExist(err)
			last = "exists"
		}
		if ok {
			return map[string]any{"wait": "reached"}, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return map[string]any{"wait": "timeout", "last": last}, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// read returns the (grepped) content of a file, waiting for Contains/Lines,
// or the number of files matching Glob.
func (s *seat) read(ctx context.Context, r *Read) (any, error) {
	if r.Glob != "" {
		m, err := filepath.Glob(filepath.Join(s.dir, s.expand(r.Glob)))
		if err != nil {
			return nil, fmt.Errorf("read glob: %w", err)
		}
		return map[string]any{"files": len(m)}, nil
	}
	var grep *regexp.Regexp
	if r.Grep != "" {
		re, err := regexp.Compile(r.Grep)
		if err != nil {
			return nil, fmt.Errorf("read grep: %w", err)
		}
		grep = re
	}
	timeout := 30 * time.Second
	if r.Timeout > 0 {
		timeout = time.Duration(r.Timeout * float64(time.Second))
	}
	deadline := time.Now().Add(timeout)
	for {
		text, exists, err := readFileText(filepath.Join(s.dir, s.expand(r.Path)))
		if err != nil {
			return nil, err
		}
		if grep != nil {
			var kept []string
			for _, l := range strings.SplitAfter(text, "\n") {
				if l != "" && grep.MatchString(l) {
					kept = append(kept, l)
				}
			}
			text = strings.Join(kept, "")
		}
		done := (r.Contains == "" || strings.Contains(text, r.Contains)) &&
			(r.Lines == 0 || strings.Count(text, "\n") >= r.Lines)
		if done {
			return map[string]any{"exists": exists, "content": text}, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return map[string]any{"exists": exists, "content": text, "wait": "timeout"}, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// daemonExit waits for the daemon to exit and reports how it went.
func (s *seat) daemonExit(ctx context.Context, d *DaemonExit) (any, error) {
	timeout := 30 * time.Second
	if d.Timeout > 0 {
		timeout = time.Duration(d.Timeout * float64(time.Second))
	}
	obs := map[string]any{}
	select {
	case <-s.done:
		obs["exited"] = true
		obs["code"] = s.exitCode
	case <-time.After(timeout):
		obs["exited"] = false
		obs["wait"] = "timeout"
	case <-ctx.Done():
		obs["exited"] = false
	}
	_, err := os.Lstat(s.ep.Sock)
	obs["socket_exists"] = err == nil
	_, err = os.Lstat(filepath.Join(s.dir, "supervisord.pid"))
	obs["pidfile_exists"] = err == nil
	if d.Output {
		text, _, err := readFileText(filepath.Join(s.dir, "daemon.out"))
		if err != nil {
			return nil, err
		}
		if d.Grep != "" {
			re, err := regexp.Compile(d.Grep)
			if err != nil {
				return nil, fmt.Errorf("daemon_exit grep: %w", err)
			}
			var kept []string
			for _, l := range strings.SplitAfter(text, "\n") {
				if l != "" && re.MatchString(l) {
					kept = append(kept, l)
				}
			}
			text = strings.Join(kept, "")
		}
		obs["output"] = text
	}
	return obs, nil
}

// sortArrays sorts the elements of every typed array ({"array": [...]}) by
// their JSON text, recursively.
func sortArrays(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sortArrays(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = sortArrays(e)
		}
		if arr, ok := out["array"].([]any); ok && len(out) == 1 {
			sort.SliceStable(arr, func(i, j int) bool { return mustJSON(arr[i]) < mustJSON(arr[j]) })
		}
		return out
	default:
		return v
	}
}

// sortLinesOf sorts the lines of an observation's text member key: a read
// step's content (after normalization, so timestamps do not decide the
// order) or a ctl step's stdout (lines printed in completion order).
func sortLinesOf(v any, key string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	text, ok := m[key].(string)
	if !ok {
		return v
	}
	lines := strings.SplitAfter(text, "\n")
	sort.Strings(lines)
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = e
	}
	out[key] = strings.Join(lines, "")
	return out
}
