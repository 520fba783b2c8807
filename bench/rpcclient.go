package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"iter"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kolo/xmlrpc"
)

// MethodCall encodes an XML-RPC request body. Params may be string, int,
// bool; that is all the benchmarks send.
func MethodCall(method string, params ...any) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0'?>\n<methodCall>\n<methodName>")
	b.WriteString(html.EscapeString(method))
	b.WriteString("</methodName>\n<params>\n")
	for _, p := range params {
		b.WriteString("<param>\n<value>")
		switch v := p.(type) {
		case string:
			b.WriteString("<string>" + html.EscapeString(v) + "</string>")
		case int:
			b.WriteString("<int>" + strconv.Itoa(v) + "</int>")
		case bool:
			if v {
				b.WriteString("<boolean>1</boolean>")
			} else {
				b.WriteString("<boolean>0</boolean>")
			}
		default:
			panic(fmt.Sprintf("bench.MethodCall: unsupported param %T", p))
		}
		b.WriteString("</value>\n</param>\n")
	}
	b.WriteString("</params>\n</methodCall>\n")
	return b.Bytes()
}

// Request is a pre-encoded POST /RPC2 (headers and body), so a client pays
// nothing per call to build it.
type Request []byte

// NewRequest frames body as a keep-alive HTTP/1.1 POST /RPC2.
func NewRequest(body []byte) Request {
	h := fmt.Sprintf("POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n", len(body))
	return append([]byte(h), body...)
}

// Client is a raw HTTP/1.1 keep-alive client for one unix socket
// connection. It is not safe for concurrent use: give each load goroutine
// its own.
type Client struct {
	sock       string
	timeout    time.Duration
	conn       net.Conn
	br         *bufio.Reader
	body       []byte
	Dials      int // connections opened (1 when keep-alive holds)
	LastStatus int
}

// NewClient returns a client that dials sock lazily; timeout bounds each call.
func NewClient(sock string, timeout time.Duration) *Client {
	return &Client{sock: sock, timeout: timeout}
}

// Close closes the connection, if any.
func (c *Client) Close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
}

func (c *Client) dial() error {
	conn, err := net.DialTimeout("unix", c.sock, c.timeout)
	if err != nil {
		return fmt.Errorf("dial %s: %w", c.sock, err)
	}
	c.conn = conn
	if c.br == nil {
		c.br = bufio.NewReaderSize(conn, 64<<10)
	} else {
		c.br.Reset(conn)
	}
	c.Dials++
	return nil
}

// Do sends req and returns the response body, which stays valid until the
// next call. A non-200 status is an error. The connection is reopened when
// the server closes it.
func (c *Client) Do(req Request) ([]byte, error) {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return nil, err
		}
	}
	if c.timeout > 0 {
		_ = c.conn.SetDeadline(time.Now().Add(c.timeout))
	}
	if _, err := c.conn.Write(req); err != nil {
		c.Close()
		return nil, fmt.Errorf("write request: %w", err)
	}
	body, keep, err := c.readResponse()
	if err != nil {
		c.Close()
		return nil, err
	}
	if !keep {
		c.Close()
	}
	if c.LastStatus != 200 {
		return body, fmt.Errorf("HTTP status %d", c.LastStatus)
	}
	return body, nil
}

func (c *Client) readResponse() (body []byte, keep bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return nil, false, fmt.Errorf("read status line: %w", err)
	}
	// HTTP/1.x NNN reason
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return nil, false, fmt.Errorf("bad status line %q", line)
	}
	c.LastStatus, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return nil, false, fmt.Errorf("bad status line %q", line)
	}
	keep = line[7] == '1' // HTTP/1.1 defaults to keep-alive, 1.0 to close
	length, chunked := -1, false
	for {
		h, err := c.br.ReadSlice('\n')
		if err != nil {
			return nil, false, fmt.Errorf("read header: %w", err)
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case asciiEqualFold(k, "content-length"):
			length, err = strconv.Atoi(string(v))
			if err != nil {
				return nil, false, fmt.Errorf("bad Content-Length %q", v)
			}
		case asciiEqualFold(k, "transfer-encoding"):
			chunked = bytes.Contains(bytes.ToLower(v), []byte("chunked"))
		case asciiEqualFold(k, "connection"):
			lv := bytes.ToLower(v)
			if bytes.Contains(lv, []byte("close")) {
				keep = false
			} else if bytes.Contains(lv, []byte("keep-alive")) {
				keep = true
			}
		}
	}
	c.body = c.body[:0]
	switch {
	case chunked:
		for {
			szLine, err := c.br.ReadSlice('\n')
			if err != nil {
				return nil, false, fmt.Errorf("read chunk size: %w", err)
			}
			sz := bytes.TrimSpace(szLine)
			if i := bytes.IndexByte(sz, ';'); i >= 0 {
				sz = sz[:i]
			}
			n, err := strconv.ParseInt(string(sz), 16, 64)
			if err != nil {
				return nil, false, fmt.Errorf("bad chunk size %q", szLine)
			}
			if n == 0 {
				for { // trailers up to the blank line
					t, err := c.br.ReadSlice('\n')
					if err != nil {
						return nil, false, fmt.Errorf("read trailer: %w", err)
					}
					if len(bytes.TrimSpace(t)) == 0 {
						break
					}
				}
				break
			}
			if c.body, err = readN(c.br, c.body, int(n)); err != nil {
				return nil, false, err
			}
			if _, err := c.br.Discard(2); err != nil {
				return nil, false, fmt.Errorf("read chunk end: %w", err)
			}
		}
	case length >= 0:
		if c.body, err = readN(c.br, c.body, length); err != nil {
			return nil, false, err
		}
	default: // body runs to EOF
		b, err := io.ReadAll(c.br)
		if err != nil {
			return nil, false, fmt.Errorf("read body: %w", err)
		}
		c.body = append(c.body, b...)
		keep = false
	}
	return c.body, keep, nil
}

func readN(r *bufio.Reader, dst []byte, n int) ([]byte, error) {
	start := len(dst)
	if cap(dst)-start < n {
		nd := make([]byte, start, start+n)
		copy(nd, dst)
		dst = nd
	}
	dst = dst[:start+n]
	if _, err := io.ReadFull(r, dst[start:]); err != nil {
		return nil, fmt.Errorf("read body (%d bytes): %w", n, err)
	}
	return dst, nil
}

func asciiEqualFold(b []byte, s string) bool {
	return len(b) == len(s) && strings.EqualFold(string(b), s)
}

// Call is a convenience for non-hot paths: encode, send, decode into v
// (a pointer, as for xmlrpc.Response.Unmarshal). Faults come back as errors.
func (c *Client) Call(v any, method string, params ...any) error {
	body, err := c.Do(NewRequest(MethodCall(method, params...)))
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	return Decode(body, v)
}

// Decode checks an XML-RPC response body for a fault and unmarshals it
// into v (nil to only check).
func Decode(body []byte, v any) error {
	r := xmlrpc.Response(body)
	if err := r.Err(); err != nil {
		return fmt.Errorf("xml-rpc fault: %w", err)
	}
	if !bytes.Contains(body, []byte("<methodResponse")) {
		return errors.New("not an XML-RPC methodResponse")
	}
	if v == nil {
		return nil
	}
	if err := r.Unmarshal(v); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// CountStates counts, in a getAllProcessInfo response, the structs whose
// integer "state" member is in want. It scans bytes instead of decoding, so
// polling 1,000 processes costs the client well under a millisecond.
func CountStates(body []byte, want ...int) (match, total int) {
	for n := range intMembers(body, "state") {
		total++
		for _, w := range want {
			if n == w {
				match++
				break
			}
		}
	}
	return match, total
}

// intMembers yields, in order, the integer value of every struct member
// named name in an XML-RPC body; a member whose value is not an <int> or
// <i4> is skipped. It scans bytes and allocates nothing per member.
func intMembers(body []byte, name string) iter.Seq[int] {
	key := []byte("<name>" + name + "</name>")
	return func(yield func(int) bool) {
		rest := body
		for {
			i := bytes.Index(rest, key)
			if i < 0 {
				return
			}
			rest = rest[i+len(key):]
			if n, ok := intValue(rest); ok && !yield(n) {
				return
			}
		}
	}
}

// intValue parses the <value><int>N</int></value> (or <i4>) that follows a
// member name, allowing whitespace between tags.
func intValue(b []byte) (int, bool) {
	b = bytes.TrimLeft(b, " \t\r\n")
	if !bytes.HasPrefix(b, []byte("<value>")) {
		return 0, false
	}
	b = bytes.TrimLeft(b[len("<value>"):], " \t\r\n")
	switch {
	case bytes.HasPrefix(b, []byte("<int>")):
		b = b[len("<int>"):]
	case bytes.HasPrefix(b, []byte("<i4>")):
		b = b[len("<i4>"):]
	default:
		return 0, false
	}
	end := bytes.IndexByte(b, '<')
	if end < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(b[:end])))
	return n, err == nil
}
