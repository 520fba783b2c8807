package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/rpc"
)

// tailChunk is the most a log poll returns: the last 64 KiB at first,
// then what was written since, up to that much again.
const tailChunk = 64 << 10

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// pageData is what index.html renders.
type pageData struct {
	State   State
	Token   string
	Message string
	Confirm string // "stopall" or "restartall": ask first (no JavaScript)
}

func (u *UI) servePage(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, "GET", "HEAD") {
		return
	}
	q := r.URL.Query()
	d := pageData{State: u.state(true), Token: u.opts.Token, Message: q.Get("message")}
	if c := q.Get("confirm"); c == "stopall" || c == "restartall" {
		d.Confirm = c
	}
	var b bytes.Buffer
	if err := u.page.Execute(&b, d); err != nil {
		http.Error(w, "rendering the dashboard: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

func (u *UI) serveState(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, "GET", "HEAD") {
		return
	}
	writeJSON(w, http.StatusOK, u.state(r.URL.Query().Get("history") != ""))
}

// wantsJSON: the page's script asks for a JSON answer; a plain form
// (JavaScript off) gets a redirect back to the dashboard.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// serveAction runs one action. It must be a POST from this server's own
// page (cross-site check) carrying the page's token.
func (u *UI) serveAction(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, "POST") {
		return
	}
	if why := rpc.CrossSiteReason(r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Origin"), r.Host); why != "" {
		http.Error(w, "cross-site request refused ("+why+")", http.StatusForbidden)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
		return
	}
	token := r.Header.Get("X-Supervisor-Token")
	if token == "" {
		token = r.PostForm.Get("token")
	}
	if !u.tokenOK(token) {
		http.Error(w, "missing or wrong dashboard token: reload the page", http.StatusForbidden)
		return
	}
	action, target := r.PostForm.Get("action"), r.PostForm.Get("target")
	if (action == "stopall" || action == "restartall") && r.PostForm.Get("confirm") != "yes" {
		http.Redirect(w, r, "/ui/?confirm="+action, http.StatusSeeOther)
		return
	}
	msg, err := u.act(r.Context(), action, target)
	if err != nil {
		if wantsJSON(r) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		} else {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"message": msg})
		return
	}
	http.Redirect(w, r, "/ui/?message="+url.QueryEscape(msg), http.StatusSeeOther)
}

// errBadAction is a request the dashboard never sends.
var errBadAction = errors.New("unknown action or missing target")

// act runs action on target (a process spec or a group name) and says
// what happened; a fault from the daemon becomes the message.
func (u *UI) act(ctx context.Context, action, target string) (string, error) {
	call := func(method string, params ...any) error {
		_, err := u.opts.Call(ctx, method, params)
		return err
	}
	say := func(done string, err error) (string, error) {
		if err == nil {
			return done, nil
		}
		var f *rpc.Fault
		if errors.As(err, &f) {
			return fmt.Sprintf("%s: %s", target, f.String), nil
		}
		return "", err
	}
	needTarget := action != "startall" && action != "stopall" && action != "restartall"
	if needTarget && target == "" {
		return "", errBadAction
	}
	switch action {
	case "start":
		return say(target+": starting", call("supervisor.startProcess", target, false))
	case "stop":
		return say(target+": stopping", call("supervisor.stopProcess", target, false))
	case "restart":
		call("supervisor.stopProcess", target, true) // NOT_RUNNING is fine
		return say(target+": restarting", call("supervisor.startProcess", target, false))
	case "clear":
		return say(target+": log cleared", call("supervisor.clearProcessLogs", target))
	case "startgroup":
		return say("group "+target+": starting", call("supervisor.startProcessGroup", target, false))
	case "stopgroup":
		return say("group "+target+": stopping", call("supervisor.stopProcessGroup", target, false))
	case "restartgroup":
		if err := call("supervisor.stopProcessGroup", target, true); err != nil {
			return say("", err)
		}
		return say("group "+target+": restarting", call("supervisor.startProcessGroup", target, false))
	case "startall":
		return say("starting all", call("supervisor.startAllProcesses", false))
	case "stopall":
		return say("stopping all", call("supervisor.stopAllProcesses", false))
	case "restartall":
		call("supervisor.stopAllProcesses", true)
		return say("restarting all", call("supervisor.startAllProcesses", false))
	}
	return "", errBadAction
}

// logRequest is the log a /ui/log or /ui/log.json request names.
type logRequest struct {
	Main    bool
	Name    string
	Channel string // "stdout" or "stderr"
}

func parseLogRequest(q url.Values) (logRequest, error) {
	if q.Get("main") != "" {
		return logRequest{Main: true, Channel: "main"}, nil
	}
	l := logRequest{Name: q.Get("name"), Channel: q.Get("channel")}
	if l.Channel == "" {
		l.Channel = "stdout"
	}
	if l.Name == "" || l.Channel != "stdout" && l.Channel != "stderr" {
		return l, errors.New("name the process (name=) and the channel (channel=stdout or stderr), or main=1")
	}
	return l, nil
}

// tail returns the log's text from offset (0: the last tailChunk bytes),
// its new end offset, and whether the text does not continue what the
// caller had (bytes were skipped, or the file was rotated or cleared).
// The tail methods answer with the last length bytes of the file
// whatever the offset (Python's tailFile), so the part before offset is
// cut here.
func (u *UI) tail(ctx context.Context, l logRequest, offset int64) (string, int64, bool, error) {
	text, end, over, err := u.tailEnd(ctx, l, offset)
	if err != nil {
		return "", 0, false, err
	}
	if offset > 0 {
		switch n := end - offset; {
		case n < 0: // the file shrank: start again from what it holds
			over = true
		case n <= int64(len(text)):
			text, over = text[int64(len(text))-n:], false
		default:
			over = true
		}
	}
	// A character the writer has not finished is left for the next poll,
	// so it is not sent as two halves.
	if k := splitRune(text); k > 0 {
		text, end = text[:len(text)-k], end-int64(k)
	}
	return text, end, over, nil
}

// splitRune is how many bytes at the end of s start a UTF-8 character
// that is not complete.
func splitRune(s string) int {
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if !utf8.RuneStart(s[i]) {
			continue
		}
		if utf8.FullRuneInString(s[i:]) {
			return 0
		}
		return len(s) - i
	}
	return 0
}

// tailEnd is the tail method of the log: the last tailChunk bytes.
func (u *UI) tailEnd(ctx context.Context, l logRequest, offset int64) (string, int64, bool, error) {
	if l.Main {
		if u.opts.MainLog == nil {
			return "", 0, false, errors.New("the supervisord log is not a file")
		}
		return u.opts.MainLog(offset, tailChunk)
	}
	method := "supervisor.tailProcessStdoutLog"
	if l.Channel == "stderr" {
		method = "supervisor.tailProcessStderrLog"
	}
	v, err := u.opts.Call(ctx, method, []any{l.Name, offset, int64(tailChunk)})
	if err != nil {
		return "", 0, false, err
	}
	a, ok := v.([]any)
	if !ok || len(a) != 3 {
		return "", 0, false, fmt.Errorf("%s answered %T", method, v)
	}
	text, _ := a[0].(string)
	var off int64
	switch n := a[1].(type) {
	case int64:
		off = n
	case int:
		off = int64(n)
	}
	over, _ := a[2].(bool)
	return text, off, over, nil
}

// logPageRequest is the log a GET of a log page or download names; an
// answer has been sent when ok is false.
func logPageRequest(w http.ResponseWriter, r *http.Request) (l logRequest, ok bool) {
	if !allow(w, r, "GET", "HEAD") {
		return l, false
	}
	l, err := parseLogRequest(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return l, false
	}
	return l, true
}

// downloadMax is the most a download carries: the end of the file.
const downloadMax = 16 << 20

// serveDownload sends the log's last downloadMax bytes as a file.
func (u *UI) serveDownload(w http.ResponseWriter, r *http.Request) {
	l, ok := logPageRequest(w, r)
	if !ok {
		return
	}
	method, params, name := "supervisor.readLog", []any{int64(-downloadMax), int64(0)}, "supervisord.log"
	if !l.Main {
		method = "supervisor.readProcessStdoutLog"
		if l.Channel == "stderr" {
			method = "supervisor.readProcessStderrLog"
		}
		params = append([]any{l.Name}, params...)
		name = strings.NewReplacer(":", "_", "/", "_").Replace(l.Name) + "-" + l.Channel + ".log"
	}
	v, err := u.opts.Call(r.Context(), method, params) // a shorter file: all of it
	if err != nil {
		http.Error(w, "reading the log: "+err.Error(), http.StatusNotFound)
		return
	}
	text, _ := v.(string)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write([]byte(text))
}

// logPage is what log.html renders.
type logPage struct {
	Log   logRequest
	Title string
	Text  string
	Query string // the log's query string, for the script and the links
}

func (u *UI) serveLogPage(w http.ResponseWriter, r *http.Request) {
	l, ok := logPageRequest(w, r)
	if !ok {
		return
	}
	text, _, _, err := u.tail(r.Context(), l, 0)
	if err != nil {
		text = "(" + err.Error() + ")"
	}
	p := logPage{Log: l, Text: text}
	if l.Main {
		p.Title, p.Query = "supervisord log", "main=1"
	} else {
		p.Title = l.Name + " " + l.Channel
		p.Query = url.Values{"name": {l.Name}, "channel": {l.Channel}}.Encode()
	}
	var b bytes.Buffer
	if err := u.log.Execute(&b, p); err != nil {
		http.Error(w, "rendering the log view: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

// serveLog answers a poll of the log view: {text, offset, overflow}.
func (u *UI) serveLog(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, "GET", "HEAD") {
		return
	}
	q := r.URL.Query()
	l, err := parseLogRequest(q)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	offset, _ := strconv.ParseInt(q.Get("offset"), 10, 64)
	text, off, over, err := u.tail(r.Context(), l, max(offset, 0))
	if err != nil {
		var f *rpc.Fault
		if errors.As(err, &f) {
			writeJSON(w, http.StatusOK, map[string]any{"error": f.String})
			return
		}
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"text": text, "offset": off, "overflow": over})
}
