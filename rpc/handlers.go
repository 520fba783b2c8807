package rpc

import (
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
	"github.com/gosupervisor/gosupervisor/internal/xmlrpcvalue"
)

// Credentials protect a listener with HTTP basic auth. A Password starting
// with "{SHA}" holds the lowercase hex SHA-1 of the real password.
type Credentials struct {
	Username string
	Password string
}

// check authorizes a request as medusa's auth_handler does: 0 when
// allowed, else the status to answer (401, or 400 for bad base64).
func (a *Credentials) check(req *request) int {
	h := req.header("Authorization")
	scheme, cookie, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "basic") {
		return 401
	}
	raw, err := xmlrpcvalue.B64Decode(strings.TrimSpace(cookie))
	if err != nil {
		return 400
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return 401
	}
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(a.Username)) == 1
	var passOK bool
	if rest, isSHA := strings.CutPrefix(a.Password, "{SHA}"); isSHA {
		sum := sha1.Sum([]byte(pass))
		passOK = subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(rest)) == 1
	} else {
		passOK = subtle.ConstantTimeCompare([]byte(pass), []byte(a.Password)) == 1
	}
	if userOK && passOK {
		return 0
	}
	return 401
}

// splitURI returns the path of a request URI (medusa's split_uri).
func splitURI(uri string) (path, query string) {
	end := len(uri)
	if i := strings.IndexAny(uri, ";?#"); i >= 0 {
		end = i
	}
	path = uri[:end]
	rest := uri[end:]
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		query = rest[i+1:]
		if j := strings.IndexByte(query, '#'); j >= 0 {
			query = query[:j]
		}
	}
	return path, query
}

func (s *Server) handle(w *response, req *request) {
	defer func() {
		if r := recover(); r != nil {
			s.logf("rpc: panic handling %s %s: %v", req.method, req.uri, r)
			if !w.started {
				w.close = true
				w.headers = nil
				w.sendError(500)
			} else {
				w.close = true
			}
		}
	}()
	path, _ := splitURI(req.uri)
	if h := w.c.route(path, true); h != nil {
		s.serveRoute(w, req, h)
		return
	}
	if w.c.auth != nil {
		switch w.c.auth.check(req) {
		case 0:
		case 400:
			w.sendError(400)
			return
		default:
			w.set("Connection", "close")
			w.set("WWW-Authenticate", `Basic realm="default"`)
			w.close = true
			w.sendError(401)
			return
		}
	}
	if changesState(req, path) {
		if why := crossSite(req); why != "" {
			s.logf("rpc: refused cross-site %s %s: %s", req.method, path, why)
			w.sendCrossSite(why)
			return
		}
	}
	if h := w.c.route(path, false); h != nil {
		s.serveRoute(w, req, h)
		return
	}
	switch {
	case strings.HasPrefix(req.uri, "/RPC2"):
		s.handleRPC(w, req)
	case strings.HasPrefix(req.uri, "/logtail"):
		s.handleLogtail(w, req, path)
	case strings.HasPrefix(req.uri, "/mainlogtail"):
		s.handleMainLogtail(w, req)
	case (req.method == "GET" || req.method == "POST") && isUIPath(path):
		s.handleUI(w, req)
	default:
		s.handleStatic(w, req, path)
	}
}

func (s *Server) handleRPC(w *response, req *request) {
	if req.method != "POST" {
		w.sendError(400)
		return
	}
	name, params, err := xmlrpcvalue.DecodeCall(req.body)
	if err != nil {
		s.logf("XML-RPC request data %s is invalid: unmarshallable", logBody(req.body))
		w.sendError(400)
		return
	}
	if name == "" {
		s.logf("XML-RPC request data %s is invalid: no method name", logBody(req.body))
		w.sendError(400)
		return
	}
	ctx, cancel := context.WithCancel(withConn(s.ctx, w.c))
	defer cancel()
	v, err := s.disp.Call(ctx, name, params)
	var body []byte
	if err != nil {
		var f *Fault
		if !errors.As(err, &f) {
			s.countRPC(name, "INTERNAL_ERROR")
			s.logf("rpc: %s raised: %v", name, err)
			w.sendError(500)
			return
		}
		s.countRPC(name, faults.Name(f.Code))
		body = EncodeFault(make([]byte, 0, 512), f)
	} else {
		buf := s.answers.get(sizeHint(v))
		s.countRPC(name, "")
		body, err = EncodeResponse(buf.b, v)
		s.disp.recycleInfos(v)
		if err != nil {
			s.answers.put(buf, buf.b)
			s.logf("rpc: %s: %v", name, err)
			w.sendError(500)
			return
		}
		defer s.answers.put(buf, body)
	}
	w.set("Content-Type", "text/xml")
	w.send(200, body)
}

// logBody is the repr of a request body for the log, cut at 4 KiB so a
// large bad request cannot flood it.
func logBody(b []byte) string {
	if len(b) > 4096 {
		return pyrepr.Str(string(b[:4096])) + "..."
	}
	return pyrepr.Str(string(b))
}

func (s *Server) handleLogtail(w *response, req *request, path string) {
	if req.method != "GET" {
		w.sendError(400)
		return
	}
	if strings.Contains(path, "%") {
		if p, err := url.PathUnescape(path); err == nil {
			path = p
		}
	}
	path = strings.TrimLeft(path, "/")
	_, spec, ok := strings.Cut(path, "/")
	if !ok {
		// Python fails to unpack the path here: HTTP 500.
		w.sendError(500)
		return
	}
	name, channel, ok := strings.Cut(spec, "/")
	if !ok {
		channel = "stdout"
	}
	if channel != "stdout" && channel != "stderr" {
		w.sendError(404)
		return
	}
	logfile, err := s.backend.ProcessLogFile(name, channel)
	if err != nil || logfile == "" {
		w.sendError(404)
		return
	}
	s.streamFile(w, logfile, true)
}

func (s *Server) handleMainLogtail(w *response, req *request) {
	if req.method != "GET" {
		w.sendError(400)
		return
	}
	logfile := s.backend.MainLogFile()
	if logfile == "" {
		w.sendError(404)
		return
	}
	s.streamFile(w, logfile, false)
}

// streamFile answers with the last 1024 bytes of path and then follows it.
// HTTP/1.1 clients get chunked framing; HTTP/1.0 clients (which Python
// leaves without any answer) get the raw bytes until the connection ends.
func (s *Server) streamFile(w *response, path string, accel bool) {
	st, err := os.Stat(path)
	if err != nil {
		w.sendError(404)
		return
	}
	w.code = 200
	w.set("Last-Modified", st.ModTime().UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT"))
	w.set("Content-Type", "text/plain;charset=utf-8")
	if accel {
		w.set("X-Accel-Buffering", "no")
	}
	chunked := w.version == "1.1"
	if chunked {
		w.set("Transfer-Encoding", "chunked")
	}
	w.close = true // the stream ends only with the connection
	nc := w.c.nc
	nc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
	if _, err := nc.Write(w.head()); err != nil {
		return
	}
	w.started = true
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() {
		// The stream ends when the client goes away. Bytes it sends (the
		// tail client's stray CRLF) are ignored.
		nc.SetReadDeadline(time.Time{})
		for {
			if _, err := w.c.br.ReadByte(); err != nil {
				cancel()
				return
			}
		}
	}()
	emit := func(p []byte) error {
		if len(p) == 0 {
			return nil
		}
		nc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
		var err error
		if chunked {
			buf := make([]byte, 0, len(p)+16)
			buf = strconv.AppendInt(buf, int64(len(p)), 16)
			buf = append(buf, "\r\n"...)
			buf = append(buf, p...)
			buf = append(buf, "\r\n"...)
			_, err = nc.Write(buf)
		} else {
			_, err = nc.Write(p)
		}
		return err
	}
	if err := s.follower.Follow(ctx, path, 1024, emit); err != nil && ctx.Err() == nil {
		s.logf("rpc: following %s: %v", path, err)
	}
	nc.Close()
}

// supervisorCSS is our own stylesheet for the web UI.
const supervisorCSS = `body{font-family:sans-serif;margin:1em 2em;color:#222}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #ddd}
tr.shade{background:#f4f6f8}
.statusrunning{color:#080;font-weight:bold}
.statuserror{color:#b00;font-weight:bold}
.statusnominal{color:#555}
.status_msg{background:#ffd;border:1px solid #cc9;padding:6px;margin:8px 0}
ul.actions{list-style:none;margin:0;padding:0}
ul.actions li{display:inline;margin-right:8px}
.hidden{display:none}
pre{background:#f7f7f7;padding:8px;overflow:auto}
`

func (s *Server) handleStatic(w *response, req *request, path string) {
	if req.method != "GET" && req.method != "HEAD" {
		w.sendError(400)
		return
	}
	// medusa's default_handler strips the path's leading slashes.
	rel := strings.TrimLeft(path, "/")
	if rel == "stylesheets/supervisor.css" {
		w.set("Content-Type", "text/css")
		w.send(200, []byte(supervisorCSS))
		return
	}
	if rel == "stylesheets" || rel == "images" {
		// 'http://%s/%s/' % (server_name, path): no port, Host ignored.
		scheme := "http"
		if w.c.isTLS() {
			scheme = "https"
		}
		w.set("Location", scheme+"://"+w.c.serverName+"/"+rel+"/")
		w.sendError(301)
		return
	}
	w.sendError(404)
}
