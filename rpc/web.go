package rpc

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/procman"
)

func isUIPath(path string) bool {
	switch strings.TrimLeft(path, "/") {
	case "", "index.html", "tail.html", "ok.html":
		return true
	}
	return false
}

// pyQuote is Python's urllib.parse.quote with safe="/".
func pyQuote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("_.-~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// pyCtime is Python's time.ctime().
func pyCtime(t time.Time) string { return t.Format("Mon Jan _2 15:04:05 2006") }

// uiForm merges query and urlencoded POST values as web.py does: the
// first value of each query key, then body values; blank values dropped.
func uiForm(req *request, query string) map[string]string {
	form := map[string]string{}
	if q, err := url.ParseQuery(query); err == nil || q != nil {
		for k, v := range q {
			for _, x := range v {
				if x != "" {
					form[k] = x
					break
				}
			}
		}
	}
	if req.method == "POST" && len(req.body) > 0 {
		if q, err := url.ParseQuery(string(req.body)); err == nil || q != nil {
			for k, v := range q {
				for _, x := range v {
					if x != "" {
						form[k] = x
					}
				}
			}
		}
	}
	return form
}

// serverURL is supervisor/http.py's get_server_url: the first non-empty
// Host header split as urllib's splitport does, else the server's name
// and port; the port is left out when it is 80.
func (w *response) serverURL() string {
	hostname, port, hasHost := "", "", false
	for _, h := range w.req.headers {
		if strings.EqualFold(h[0], "Host") && strings.TrimSpace(h[1]) != "" {
			hostname, port = pySplitPort(strings.TrimSpace(h[1]))
			hasHost = true
			break
		}
	}
	if !hasHost {
		hostname, port = w.c.serverName, w.c.serverPort
	}
	host := hostname
	scheme, defaultPort := "http", "80"
	if w.c.isTLS() {
		scheme, defaultPort = "https", "443"
	}
	if port != "" && port != defaultPort {
		host += ":" + port
	}
	return strings.TrimSuffix(scheme+"://"+host, "/")
}

// pySplitPort is urllib.parse.splitport: host and the digits after its
// last colon, when all that follows that colon is digits ("" for none).
func pySplitPort(host string) (hostname, port string) {
	i := strings.LastIndexByte(host, ':')
	if i < 0 {
		return host, ""
	}
	for _, c := range host[i+1:] {
		if c < '0' || c > '9' {
			return host, ""
		}
	}
	return host[:i], host[i+1:]
}

func (s *Server) handleUI(w *response, req *request) {
	path, query := splitURI(req.uri)
	view := strings.TrimLeft(path, "/")
	if view == "" {
		view = "index.html"
	}
	form := uiForm(req, query)
	switch view {
	case "ok.html":
		w.set("Content-Type", "text/plain")
		w.send(200, []byte("OK"))
		return
	case "tail.html":
		s.uiTail(w, form)
		return
	}
	message, hasMsg := form["message"]
	if action := form["action"]; action != "" {
		ctx, cancel := context.WithCancel(s.ctx)
		msg, err := s.uiAction(ctx, form["processname"], action)
		cancel()
		if err != nil {
			s.logf("rpc: web action %q: %v", action, err)
			w.sendError(500)
			return
		}
		w.set("Location", w.serverURL()+"/?message="+pyQuote(msg))
		w.set("Content-Type", "text/html")
		uiNoCache(w)
		w.sendError(301)
		return
	}
	v, err := s.disp.Call(s.ctx, "supervisor.getAllProcessInfo", nil)
	if err != nil {
		s.logf("rpc: web status: %v", err)
		w.sendError(500)
		return
	}
	infos, _ := v.([]ProcessInfo)
	body := renderStatus(infos, message, hasMsg)
	w.set("Content-Type", "text/html;charset=utf-8")
	uiNoCache(w)
	w.send(200, []byte(body))
}

func uiNoCache(w *response) {
	w.set("Pragma", "no-cache")
	w.set("Cache-Control", "no-cache")
	w.set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
}

// uiAction runs one web UI action and returns the message to show.
func (s *Server) uiAction(ctx context.Context, ns, action string) (string, error) {
	now := func() string { return pyCtime(time.Now()) }
	faultText := func(err error) string {
		f := AsFault(err)
		return fmt.Sprintf("unexpected rpc fault [%d] %s", f.Code, f.String)
	}
	switch action {
	case "refresh":
		return "Page refreshed at " + now(), nil
	case "stopall":
		if _, err := s.disp.Call(ctx, "supervisor.stopAllProcesses", nil); err != nil {
			return "", err
		}
		return "All stopped at " + now(), nil
	case "restartall":
		s.disp.Call(ctx, "supervisor.stopAllProcesses", nil)
		s.disp.Call(ctx, "supervisor.startAllProcesses", nil)
		return "All restarted at " + now(), nil
	case "start", "stop", "restart", "clearlog":
	default:
		return "", fmt.Errorf("unknown action %q", action)
	}
	if ns == "" {
		return "", fmt.Errorf("action %q without a process name", action)
	}
	if _, err := s.backend.ProcessInfo(ns); err != nil {
		return "No such process named " + ns, nil
	}
	switch action {
	case "start":
		if _, err := s.disp.Call(ctx, "supervisor.startProcess", []any{ns}); err != nil {
			var f *Fault
			if !errors.As(err, &f) {
				return "", err
			}
			var msg string
			switch f.Code {
			case faults.NoFile:
				msg = "no such file"
			case faults.NotExecutable:
				msg = "file not executable"
			case faults.AlreadyStarted:
				msg = "already started"
			case faults.SpawnError:
				msg = "spawn error"
			case faults.AbnormalTermination:
				msg = "abnormal termination"
			default:
				msg = faultText(f)
			}
			return fmt.Sprintf("ERROR: Process %s: %s", ns, msg), nil
		}
		return fmt.Sprintf("Process %s started", ns), nil
	case "stop":
		if _, err := s.disp.Call(ctx, "supervisor.stopProcess", []any{ns}); err != nil {
			var f *Fault
			if !errors.As(err, &f) {
				return "", err
			}
			return faultText(f), nil
		}
		return fmt.Sprintf("Process %s stopped", ns), nil
	case "restart":
		s.disp.Call(ctx, "supervisor.stopProcess", []any{ns})
		s.disp.Call(ctx, "supervisor.startProcess", []any{ns})
		return fmt.Sprintf("Process %s restarted", ns), nil
	default: // clearlog
		if _, err := s.disp.Call(ctx, "supervisor.clearProcessLogs", []any{ns}); err != nil {
			var f *Fault
			if !errors.As(err, &f) {
				return "", err
			}
			return faultText(f), nil
		}
		return fmt.Sprintf("Log for %s cleared", ns), nil
	}
}

func stateClass(state procman.State) string {
	switch state {
	case procman.Running:
		return "statusrunning"
	case procman.Fatal, procman.Backoff:
		return "statuserror"
	}
	return "statusnominal"
}

type uiLink struct{ name, href, target string }

func uiActions(info *ProcessInfo) []uiLink {
	q := pyQuote(namespec.Make(info.Group, info.Name))
	act := func(label, a string) uiLink {
		return uiLink{label, "index.html?processname=" + q + "&action=" + a, ""}
	}
	tails := []uiLink{
		act("Clear Log", "clearlog"),
		{"Tail -f Stdout", "logtail/" + q, "_blank"},
		{"Tail -f Stderr", "logtail/" + q + "/stderr", "_blank"},
	}
	switch info.State {
	case procman.Running:
		return append([]uiLink{act("Restart", "restart"), act("Stop", "stop")}, tails...)
	case procman.Stopped, procman.Exited, procman.Fatal:
		return append([]uiLink{act("Start", "start")}, tails...)
	}
	return tails
}

const pageHead = `<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>%s</title>
<link rel="stylesheet" href="stylesheets/supervisor.css">
</head>
<body>
`

// renderStatus writes the status page: message, the process table sorted
// by (group, name) and the global actions.
func renderStatus(infos []ProcessInfo, message string, hasMsg bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, pageHead, "Supervisor Status")
	b.WriteString("<h1>Supervisor status</h1>\n")
	if hasMsg {
		fmt.Fprintf(&b, "<div class=\"status_msg\">%s</div>\n", html.EscapeString(message))
	}
	b.WriteString(`<ul class="actions">
<li><a href="index.html?action=refresh">Refresh</a></li>
<li><a href="index.html?action=restartall">Restart All</a></li>
<li><a href="index.html?action=stopall">Stop All</a></li>
</ul>
`)
	if len(infos) == 0 {
		b.WriteString("<p>No programs to manage</p>\n")
	} else {
		b.WriteString("<table>\n<thead><tr><th>State</th><th>Description</th><th>Name</th><th>Action</th></tr></thead>\n<tbody>\n")
		for i := range infos {
			info := &infos[i]
			shade := ""
			if i%2 == 1 {
				shade = ` class="shade"`
			}
			ns := namespec.Make(info.Group, info.Name)
			fmt.Fprintf(&b, "<tr%s><td><span class=\"%s\">%s</span></td><td>%s</td><td><a href=\"tail.html?processname=%s\" target=\"_blank\">%s</a></td><td><ul class=\"actions\">",
				shade, stateClass(info.State), strings.ToLower(info.State.String()),
				html.EscapeString(info.Description()), html.EscapeString(pyQuote(ns)), html.EscapeString(ns))
			for _, a := range uiActions(info) {
				target := ""
				if a.target != "" {
					target = ` target="` + a.target + `"`
				}
				fmt.Fprintf(&b, "<li><a href=\"%s\"%s>%s</a></li>", html.EscapeString(a.href), target, a.name)
			}
			b.WriteString("</ul></td></tr>\n")
		}
		b.WriteString("</tbody>\n</table>\n")
	}
	fmt.Fprintf(&b, "<p class=\"footer\">gosupervisor, compatible with supervisor %s</p>\n</body>\n</html>\n", SupervisorVersion)
	return b.String()
}

// uiTail renders tail.html: the end of a process's stdout log.
func (s *Server) uiTail(w *response, form map[string]string) {
	name, ok := form["processname"]
	var text string
	limit := 1024
	if !ok || name == "" {
		text = "No process name found"
	} else {
		if l, err := strconv.Atoi(form["limit"]); err == nil && l > 1024 && !strings.HasPrefix(form["limit"], "+") {
			limit = l
		}
		v, err := s.disp.Call(s.ctx, "supervisor.readProcessStdoutLog", []any{name, int64(-limit), int64(0)})
		switch {
		case err == nil:
			text, _ = v.(string)
		default:
			var f *Fault
			if !errors.As(err, &f) {
				s.logf("rpc: tail.html: %v", err)
				w.sendError(500)
				return
			}
			if f.Code == faults.NoFile {
				text = "No file for " + name
			} else {
				text = fmt.Sprintf("ERROR: unexpected rpc fault [%d] %s", f.Code, f.String)
			}
		}
	}
	var b strings.Builder
	title := "Supervisor tail of process None"
	if ok {
		title = "Supervisor tail of process " + name
	}
	fmt.Fprintf(&b, pageHead, html.EscapeString(title))
	fmt.Fprintf(&b, "<pre>%s</pre>\n", html.EscapeString(strings.ToValidUTF8(text, "\uFFFD")))
	if ok {
		fmt.Fprintf(&b, "<p><a href=\"%s\">Refresh</a></p>\n",
			html.EscapeString(fmt.Sprintf("tail.html?processname=%s&limit=%s", pyQuote(name), pyQuote(strconv.Itoa(limit)))))
	}
	b.WriteString("</body>\n</html>\n")
	w.set("Content-Type", "text/html;charset=utf-8")
	uiNoCache(w)
	w.send(200, []byte(b.String()))
}
