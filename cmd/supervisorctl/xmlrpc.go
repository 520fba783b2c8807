package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/xmlrpcvalue"
)

// rpcFault is an XML-RPC fault response (Python's xmlrpc.client.Fault).
type rpcFault struct {
	Code   int
	String string
}

func (f *rpcFault) Error() string { return fmt.Sprintf("<Fault %d: %s>", f.Code, pyRepr(f.String)) }

// protocolError is a non-200 HTTP answer (Python's xmlrpc.client.ProtocolError).
type protocolError struct {
	Code   int
	Reason string
}

func (e *protocolError) Error() string {
	return fmt.Sprintf("<ProtocolError for 127.0.0.1/RPC2: %d %s>", e.Code, e.Reason)
}

// badURLError is SupervisorTransport's ValueError for a server URL that is
// neither http:// nor unix://.
type badURLError struct{ URL string }

func (e *badURLError) Error() string { return "Unknown protocol for serverurl " + e.URL }

// parseError is a response body that is not well-formed XML (Python's
// expat.ExpatError); Line and Column are counted as expat counts them.
type parseError struct {
	Line, Column int
	Err          error
}

func (e *parseError) Error() string {
	return fmt.Sprintf("not well-formed (invalid token): line %d, column %d", e.Line, e.Column)
}

func (e *parseError) Unwrap() error { return e.Err }

// dialError is a failure to connect; Unix tells which transport failed,
// since Python reports them from different source lines.
type dialError struct {
	Unix bool
	Err  error
}

func (e *dialError) Error() string { return e.Err.Error() }
func (e *dialError) Unwrap() error { return e.Err }

// target is where a server URL points: the HTTP base to use and, for a
// unix socket, the socket path; for https the TLS configuration.
type target struct {
	base   string      // http(s)://host:port, or http://localhost for unix
	socket string      // unix socket path, "" for http
	tls    *tls.Config // https only
}

// host is the host:port part of base.
func (t target) host() string {
	_, h, _ := strings.Cut(t.base, "://")
	return h
}

// parseServerURL is SupervisorTransport.__init__'s URL handling, plus
// https:// (gosupervisor; Python answers "Unknown protocol").
func parseServerURL(serverURL string, files tlsFiles) (target, error) {
	switch {
	case strings.HasPrefix(serverURL, "http://"), strings.HasPrefix(serverURL, "https://"):
		u, err := url.Parse(serverURL)
		if err != nil {
			return target{}, fmt.Errorf("server url %q: %w", serverURL, err)
		}
		port := u.Port()
		if port == "" {
			port = "80"
			if u.Scheme == "https" {
				port = "443"
			}
		}
		t := target{base: u.Scheme + "://" + net.JoinHostPort(u.Hostname(), port)}
		if u.Scheme == "https" {
			if t.tls, err = files.config(u.Hostname()); err != nil {
				return target{}, err
			}
		}
		return t, nil
	case strings.HasPrefix(serverURL, "unix://"):
		return target{base: "http://localhost", socket: serverURL[len("unix://"):]}, nil
	}
	return target{}, &badURLError{URL: serverURL}
}

// transport returns an http.RoundTripper for t: a unix socket dialer, or
// plain TCP.
func (t target) transport() *http.Transport {
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 2, TLSClientConfig: t.tls}
	d := &net.Dialer{}
	if t.socket != "" {
		path := t.socket
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := d.DialContext(ctx, "unix", path)
			if err != nil {
				return nil, &dialError{Unix: true, Err: err}
			}
			return c, nil
		}
	} else {
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, &dialError{Err: err}
			}
			return c, nil
		}
	}
	return tr
}

// rpcClient talks XML-RPC to one supervisord, keeping its connection alive
// across calls as Python's SupervisorTransport does.
type rpcClient struct {
	target   target
	username *string
	password *string
	http     *http.Client
}

func newRPCClient(serverURL string, username, password *string, files tlsFiles) (*rpcClient, error) {
	t, err := parseServerURL(serverURL, files)
	if err != nil {
		return nil, err
	}
	return &rpcClient{target: t, username: username, password: password,
		http: &http.Client{Transport: t.transport(), CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}, nil
}

func (c *rpcClient) close() {
	if tr, ok := c.http.Transport.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
}

// call invokes method with args (strings and ints) and returns the decoded
// result: string, int64, bool, float64, time.Time, []any, map[string]any
// or nil.
func (c *rpcClient) call(method string, args ...any) (any, error) {
	data, err := c.callBody(method, args)
	if err != nil {
		return nil, err
	}
	return decodeResponse(data)
}

// callBody invokes method with args and returns the answer's body.
func (c *rpcClient) callBody(method string, args []any) (string, error) {
	for _, a := range args {
		if n, ok := a.(int); ok && (n > 1<<31-1 || n < -(1<<31)) {
			return "", errOverflow
		}
	}
	body, err := encodeCall(method, args)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", method, err)
	}
	req, err := http.NewRequest(http.MethodPost, c.target.base+"/RPC2", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("request %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("Accept", "text/xml")
	req.Header.Set("User-Agent", "gosupervisor-supervisorctl")
	if c.username != nil && c.password != nil {
		req.SetBasicAuth(*c.username, *c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var de *dialError
		if errors.As(err, &de) {
			return "", de
		}
		return "", fmt.Errorf("%s: %w", method, err)
	}
	data, err := readBody(resp)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
		return "", &protocolError{Code: resp.StatusCode, Reason: reason}
	}
	if err != nil {
		return "", fmt.Errorf("%s: reading response: %w", method, err)
	}
	return data, nil
}

// encodeCall writes a methodCall with args (strings, ints and booleans,
// all supervisorctl sends) as kolo/xmlrpc writes it: the client's own
// encoder, so the binary does not link kolo's net/rpc and encoding/gob
// (whose init alone cost 2 ms of every supervisorctl run). No args means
// no <params>.
func encodeCall(method string, args []any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>`)
	b.WriteString(method)
	b.WriteString("</methodName>")
	if args != nil {
		b.WriteString("<params>")
		for _, a := range args {
			b.WriteString("<param><value>")
			switch v := a.(type) {
			case string:
				b.WriteString("<string>")
				xml.EscapeText(&b, []byte(v))
				b.WriteString("</string>")
			case int:
				b.WriteString("<int>" + strconv.Itoa(v) + "</int>")
			case bool:
				if v {
					b.WriteString("<boolean>1</boolean>")
				} else {
					b.WriteString("<boolean>0</boolean>")
				}
			default:
				return nil, fmt.Errorf("cannot encode a %T parameter", a)
			}
			b.WriteString("</value></param>")
		}
		b.WriteString("</params>")
	}
	b.WriteString("</methodCall>")
	return b.Bytes(), nil
}

// readBody reads an answer into a string, sized by its Content-Length
// (supervisord sends one): a 1.2 MB getAllProcessInfo is read with one
// allocation and decoded without a copy.
func readBody(resp *http.Response) (string, error) {
	var b strings.Builder
	if n := resp.ContentLength; n > 0 && n < 1<<30 {
		b.Grow(int(n))
	}
	_, err := io.Copy(&b, resp.Body)
	return b.String(), err
}

// errOverflow is xmlrpc.client's OverflowError for an int beyond 32 bits.
var errOverflow = errors.New("int exceeds XML-RPC limits")

// decodeResponse parses a methodResponse with the shared decoder (kolo's
// cannot be used: it mis-decodes an empty <string></string>, which
// supervisord sends for every empty description or spawnerr, and has no
// <nil/>). A control character XML forbids is reported where expat would
// find it.
func decodeResponse(data string) (any, error) {
	// the fast path takes only bodies without such characters
	if v, ok := xmlrpcvalue.DecodePlainResponse(data); ok {
		return v, nil
	}
	if pe := findInvalidChar(data); pe != nil {
		return nil, pe
	}
	v, f, err := xmlrpcvalue.DecodeResponse([]byte(data))
	if err != nil {
		return nil, &parseError{Line: 1, Column: 0, Err: err}
	}
	if f != nil {
		return nil, &rpcFault{Code: int(f.Code), String: f.String}
	}
	return v, nil
}

// findInvalidChar reports the first control character XML forbids, with
// the line and column expat gives after Python's transport has turned every
// non-ASCII character into a &#N; reference (supervisord sends control
// characters of a log raw).
func findInvalidChar(data string) *parseError {
	line, col := 1, 0
	for _, r := range data {
		switch {
		case r == '\n':
			line++
			col = 0
			continue
		case r < 0x20 && r != '\t' && r != '\r':
			return &parseError{Line: line, Column: col, Err: fmt.Errorf("illegal character %U", r)}
		case r >= 0x80:
			col += len("&#;") + len(strconv.Itoa(int(r)))
			continue
		}
		col++
	}
	return nil
}
