package rpc

// HTTP/1.x on the wire for the server's connections: reading a request
// (with its size budget) and writing a response (status line, headers,
// keep-alive, error bodies as medusa wrote them).

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// request is one parsed HTTP request.
type request struct {
	method  string
	uri     string
	version string // "1.0", "1.1", or "" for HTTP/0.9 style
	headers [][2]string
	body    []byte
}

func (r *request) header(name string) string {
	for _, h := range r.headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

func (r *request) wantsClose() bool {
	conn := strings.ToLower(strings.TrimSpace(r.header("Connection")))
	switch r.version {
	case "1.1":
		return conn == "close"
	case "1.0":
		return conn != "keep-alive"
	}
	return true
}

var errHeadTooLarge = errors.New("request head too large")

// readLine reads one CRLF- or LF-terminated line within the head budget.
func (c *conn) readLine(budget *int) (string, error) {
	var line []byte
	for {
		frag, err := c.br.ReadSlice('\n')
		*budget -= len(frag)
		if *budget < 0 {
			return "", errHeadTooLarge
		}
		if err == nil && line == nil {
			// The whole line was in the buffer: one copy, not two.
			return string(bytes.TrimRight(frag, "\r\n")), nil
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// readRequest parses one request. On a malformed request it returns nil
// and the HTTP status to answer (0: just drop the connection).
func (c *conn) readRequest() (*request, int) {
	budget := c.srv.opts.MaxHeaderBytes
	var line string
	var err error
	// Tolerate empty lines before the request line (RFC 9112 §2.2), which
	// is where supervisorctl's stray CRLF after a previous request lands.
	for {
		line, err = c.readLine(&budget)
		if err != nil {
			if errors.Is(err, errHeadTooLarge) {
				return nil, 431
			}
			return nil, 0
		}
		if line != "" {
			break
		}
	}
	parts := strings.Split(line, " ")
	req := &request{}
	switch {
	case len(parts) == 3 && strings.HasPrefix(parts[2], "HTTP/"):
		req.method, req.uri, req.version = parts[0], parts[1], strings.TrimPrefix(parts[2], "HTTP/")
	case len(parts) == 2:
		req.method, req.uri = parts[0], parts[1]
	default:
		return nil, 400
	}
	if req.method == "" || req.uri == "" {
		return nil, 400
	}
	if req.version != "" && req.version != "1.0" && req.version != "1.1" {
		if !strings.HasPrefix(req.version, "1.") {
			return nil, 505
		}
		req.version = "1.1"
	}
	if req.version != "" {
		for {
			hl, err := c.readLine(&budget)
			if err != nil {
				if errors.Is(err, errHeadTooLarge) {
					return nil, 431
				}
				return nil, 0
			}
			if hl == "" {
				break
			}
			if (hl[0] == ' ' || hl[0] == '\t') && len(req.headers) > 0 {
				req.headers[len(req.headers)-1][1] += " " + strings.TrimSpace(hl)
				continue
			}
			name, value, ok := strings.Cut(hl, ":")
			if !ok || name == "" || strings.ContainsAny(name, " \t") {
				return nil, 400
			}
			if len(req.headers) >= 200 {
				return nil, 431
			}
			req.headers = append(req.headers, [2]string{name, strings.TrimSpace(value)})
		}
	}
	if te := req.header("Transfer-Encoding"); te != "" && !strings.EqualFold(te, "identity") {
		// Medusa has no chunked request bodies either.
		return req, 411
	}
	if cl := req.header("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64)
		if err != nil || n < 0 {
			return req, 400
		}
		if n > c.srv.opts.MaxBodyBytes {
			return req, 413
		}
		if strings.EqualFold(req.header("Expect"), "100-continue") && req.version == "1.1" {
			c.nc.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
		}
		if n <= 64<<10 {
			// The common small body: read into its exact size.
			body := make([]byte, n)
			if _, err := io.ReadFull(c.br, body); err != nil {
				return nil, 0
			}
			req.body = body
		} else {
			// Grow the body as bytes arrive, so a client announcing a
			// large body costs memory only once it sends it.
			var body bytes.Buffer
			body.Grow(64 << 10)
			if _, err := io.CopyN(&body, c.br, n); err != nil {
				return nil, 0
			}
			req.body = body.Bytes()
		}
	} else if req.method == "POST" && strings.HasPrefix(req.uri, "/RPC2") {
		return req, 411
	}
	return req, 0
}

// response writes one reply in medusa's layout: status line, Server, Date,
// then headers in the order they were set.
type response struct {
	c       *conn
	req     *request
	version string
	code    int
	headers [][2]string
	close   bool
	err     error
	started bool
}

func (w *response) set(name, value string) {
	for i := range w.headers {
		if w.headers[i][0] == name {
			w.headers[i][1] = value
			return
		}
	}
	w.headers = append(w.headers, [2]string{name, value})
}

// statusText is the reason phrase medusa sends for a status.
func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 304:
		return "Not Modified"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 411:
		return "Length Required"
	case 413:
		return "Request Entity Too Large"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Unknown"
}

func (w *response) head() []byte {
	v := w.version
	if v == "" {
		v = "1.0"
	}
	b := make([]byte, 0, 256)
	b = append(b, "HTTP/"...)
	b = append(b, v...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(w.code), 10)
	b = append(b, ' ')
	b = append(b, statusText(w.code)...)
	b = append(b, "\r\nServer: Medusa/1.12\r\nDate: "...)
	b = time.Now().UTC().AppendFormat(b, "Mon, 02 Jan 2006 15:04:05 GMT")
	b = append(b, "\r\n"...)
	for _, h := range w.headers {
		b = append(b, h[0]...)
		b = append(b, ": "...)
		b = append(b, h[1]...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

// finishKeepAlive applies medusa's persistence rules for a response with a
// Content-Length.
func (w *response) finishKeepAlive() {
	if w.req != nil && w.version == "1.0" && !w.close {
		w.set("Connection", "Keep-Alive")
	}
}

// send writes a complete response with a body.
func (w *response) send(code int, body []byte) {
	w.code = code
	w.set("Content-Length", strconv.Itoa(len(body)))
	if w.c.srv.paused.Load() {
		// An upgrade is under way: the connection ends after this.
		w.close = true
		w.set("Connection", "close")
	}
	w.finishKeepAlive()
	w.c.nc.SetWriteDeadline(time.Now().Add(w.c.srv.opts.WriteTimeout))
	head := w.head()
	if w.req != nil && w.req.method == "HEAD" {
		body = nil
	}
	if len(body) < 16<<10 {
		_, w.err = w.c.nc.Write(append(head, body...))
	} else {
		bufs := net.Buffers{head, body}
		_, w.err = bufs.WriteTo(w.c.nc)
	}
	w.c.nc.SetWriteDeadline(time.Time{})
}

// errorBody is medusa's DEFAULT_ERROR_MESSAGE.
func errorBody(code int) []byte {
	return []byte(strings.Join([]string{
		"<head>",
		"<title>Error response</title>",
		"</head>",
		"<body>",
		"<h1>Error response</h1>",
		fmt.Sprintf("<p>Error code %d.", code),
		fmt.Sprintf("<p>Message: %s.", statusText(code)),
		"</body>",
		"",
	}, "\r\n"))
}

// sendError writes medusa's HTML error page.
func (w *response) sendError(code int) {
	body := errorBody(code)
	w.set("Content-Length", strconv.Itoa(len(body)))
	w.set("Content-Type", "text/html")
	w.send(code, body)
}
