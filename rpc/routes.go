package rpc

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Route is an HTTP route a listener serves beyond Python's (/metrics,
// /healthz), only when its config section enables it. Handlers see a
// complete request and answer with one buffered response (no streaming).
type Route struct {
	Path    string // exact path, e.g. "/metrics"
	Public  bool   // served before and without authentication
	Handler http.Handler
}

// route returns the handler of path among the connection's routes that
// are public (or not).
func (c *conn) route(path string, public bool) http.Handler {
	for _, r := range c.routes {
		if r.Path == path && r.Public == public {
			return r.Handler
		}
	}
	return nil
}

// serveRoute runs a net/http handler on one request and writes its
// answer in the server's own framing.
func (s *Server) serveRoute(w *response, req *request, h http.Handler) {
	u, err := url.ParseRequestURI(req.uri)
	if err != nil {
		w.sendError(400)
		return
	}
	major, minor := 1, 0
	if req.version == "1.1" {
		minor = 1
	}
	hr := (&http.Request{
		Method:        req.method,
		URL:           u,
		Proto:         "HTTP/" + strconv.Itoa(major) + "." + strconv.Itoa(minor),
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        http.Header{},
		Body:          io.NopCloser(bytes.NewReader(req.body)),
		ContentLength: int64(len(req.body)),
		Host:          req.header("Host"),
		RemoteAddr:    w.c.nc.RemoteAddr().String(),
		RequestURI:    req.uri,
	}).WithContext(s.ctx)
	for _, kv := range req.headers {
		hr.Header.Add(kv[0], kv[1])
	}
	rw := &routeWriter{header: http.Header{}}
	h.ServeHTTP(rw, hr)
	if rw.code == 0 {
		rw.code = 200
	}
	for name, values := range rw.header {
		if name == "Content-Length" {
			continue // send sets it
		}
		for _, v := range values {
			w.headers = append(w.headers, [2]string{name, v})
		}
	}
	w.send(rw.code, rw.body.Bytes())
}

// routeWriter buffers a handler's response.
type routeWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (rw *routeWriter) Header() http.Header { return rw.header }

func (rw *routeWriter) WriteHeader(code int) {
	if rw.code == 0 {
		rw.code = code
	}
}

func (rw *routeWriter) Write(p []byte) (int, error) {
	if rw.code == 0 {
		rw.code = 200
	}
	return rw.body.Write(p)
}

// countRPC reports one answered request to Options.CountRPC, naming a
// method outside the table "unknown" so a client cannot grow the label set.
func (s *Server) countRPC(method, fault string) {
	if s.opts.CountRPC == nil {
		return
	}
	if s.disp.methods[method] == nil {
		method = "unknown"
	}
	s.opts.CountRPC(method, fault)
}

// isTLS reports whether the connection came through a tls_cert listener
// (redirects then say https).
func (c *conn) isTLS() bool {
	_, ok := c.nc.(*tls.Conn)
	return ok
}
