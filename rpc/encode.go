package rpc

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
	"github.com/gosupervisor/gosupervisor/internal/timedelta"
	"github.com/gosupervisor/gosupervisor/procman"
)

// Member is one struct member; Struct keeps members in the order Python's
// dicts emit them.
type Member struct {
	Name  string
	Value any
}

// Struct is an XML-RPC struct with ordered members.
type Struct []Member

// Values the encoder accepts: int, int64, bool, string, float64, []any,
// []string, []int, Struct, []Struct, and the rpc-owned data types
// (ProcessInfo, ConfigInfo, Result and slices of them) which are converted
// to Structs in Python's member order.

const (
	xmlHeader       = "<?xml version='1.0'?>\n"
	responseHead    = xmlHeader + "<methodResponse>\n<params>\n<param>\n"
	responseTail    = "</param>\n</params>\n</methodResponse>\n"
	faultHead       = xmlHeader + "<methodResponse>\n<fault>\n"
	faultTail       = "</fault>\n</methodResponse>\n"
	replacementChar = "\uFFFD"
)

// EncodeResponse appends a methodResponse holding v, byte for byte as
// Python's xmlrpc.client.dumps((v,), methodresponse=True) writes it.
func EncodeResponse(dst []byte, v any) ([]byte, error) {
	dst = append(dst, responseHead...)
	dst, err := appendValue(dst, v, 0)
	if err != nil {
		return nil, err
	}
	return append(dst, responseTail...), nil
}

// EncodeFault appends a fault methodResponse as Python's dumps(Fault) does.
func EncodeFault(dst []byte, f *Fault) []byte {
	dst = append(dst, faultHead...)
	dst, _ = appendValue(dst, faultStruct(f), 0)
	return append(dst, faultTail...)
}

func faultStruct(f *Fault) Struct {
	return Struct{{"faultCode", f.Code}, {"faultString", f.String}}
}

const maxEncodeDepth = 100

func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxEncodeDepth {
		return nil, fmt.Errorf("encode: value nested deeper than %d", maxEncodeDepth)
	}
	var err error
	switch x := v.(type) {
	case int:
		dst = appendInt(dst, int64(x))
	case int64:
		dst = appendInt(dst, x)
	case bool:
		if x {
			dst = append(dst, "<value><boolean>1</boolean></value>\n"...)
		} else {
			dst = append(dst, "<value><boolean>0</boolean></value>\n"...)
		}
	case string:
		dst = append(dst, "<value><string>"...)
		dst = appendEscaped(dst, x)
		dst = append(dst, "</string></value>\n"...)
	case float64:
		dst = append(dst, "<value><double>"...)
		dst = append(dst, pyrepr.Float(x)...)
		dst = append(dst, "</double></value>\n"...)
	case Struct:
		dst = append(dst, "<value><struct>\n"...)
		for _, m := range x {
			dst = append(dst, "<member>\n<name>"...)
			dst = appendEscaped(dst, m.Name)
			dst = append(dst, "</name>\n"...)
			if dst, err = appendValue(dst, m.Value, depth+1); err != nil {
				return nil, err
			}
			dst = append(dst, "</member>\n"...)
		}
		dst = append(dst, "</struct></value>\n"...)
	case []any:
		dst = append(dst, "<value><array><data>\n"...)
		for _, e := range x {
			if dst, err = appendValue(dst, e, depth+1); err != nil {
				return nil, err
			}
		}
		dst = append(dst, "</data></array></value>\n"...)
	case []string:
		dst = append(dst, "<value><array><data>\n"...)
		for _, e := range x {
			dst, _ = appendValue(dst, e, depth+1)
		}
		dst = append(dst, "</data></array></value>\n"...)
	case []int:
		dst = append(dst, "<value><array><data>\n"...)
		for _, e := range x {
			dst = appendInt(dst, int64(e))
		}
		dst = append(dst, "</data></array></value>\n"...)
	case []Struct:
		dst = append(dst, "<value><array><data>\n"...)
		for _, e := range x {
			if dst, err = appendValue(dst, e, depth+1); err != nil {
				return nil, err
			}
		}
		dst = append(dst, "</data></array></value>\n"...)
	case ProcessInfo:
		dst = appendProcessInfo(dst, &x, time.Now().Unix())
	case []ProcessInfo:
		dst = append(dst, "<value><array><data>\n"...)
		now := time.Now().Unix()
		for i := range x {
			dst = appendProcessInfo(dst, &x[i], now)
		}
		dst = append(dst, "</data></array></value>\n"...)
	case ConfigInfo:
		return appendValue(dst, x.toStruct(), depth)
	case []ConfigInfo:
		dst = append(dst, "<value><array><data>\n"...)
		for i := range x {
			dst, _ = appendValue(dst, x[i].toStruct(), depth+1)
		}
		dst = append(dst, "</data></array></value>\n"...)
	case Result:
		return appendValue(dst, x.toStruct(), depth)
	case []Result:
		dst = append(dst, "<value><array><data>\n"...)
		for i := range x {
			r := &x[i]
			dst = append(dst, "<value><struct>\n"...)
			dst = appendStringMember(dst, "name", r.Name)
			dst = appendStringMember(dst, "group", r.Group)
			dst = appendIntMember(dst, "status", int64(r.Status))
			dst = appendStringMember(dst, "description", r.Description)
			dst = append(dst, "</struct></value>\n"...)
		}
		dst = append(dst, "</data></array></value>\n"...)
	case *Fault:
		return appendValue(dst, faultStruct(x), depth)
	default:
		// Python cannot marshal None or unknown objects either (HTTP 500).
		return nil, fmt.Errorf("encode: cannot marshal %T", v)
	}
	return dst, nil
}

// appendInt writes <int>. Python's marshaller refuses ints beyond 32 bits
// (HTTP 500, e.g. getAllConfigInfo with a 4 GB logfile_maxbytes); we send
// the true value, which xmlrpc.client and Go clients parse. Timestamps are
// capped to 32 bits by the caller, as supervisor's capped_int does.
func appendInt(dst []byte, n int64) []byte {
	dst = append(dst, "<value><int>"...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, "</int></value>\n"...)
}

// appendEscaped writes s as XML character data. Like Python it escapes only
// &, < and >. Unlike Python (which emits control characters raw and so
// produces XML no client can parse, or fails with HTTP 500 on invalid
// UTF-8), it always yields well-formed XML 1.0: CR becomes &#13; (so the
// client reads back the same CR instead of a LF), and bytes that are not
// valid UTF-8 or characters XML 1.0 forbids (C0 controls other than TAB,
// LF, CR; U+FFFE, U+FFFF) become U+FFFD.
func appendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var rep string
			switch {
			case c == '&':
				rep = "&amp;"
			case c == '<':
				rep = "&lt;"
			case c == '>':
				rep = "&gt;"
			case c == '\r':
				rep = "&#13;"
			case c < 0x20 && c != '\t' && c != '\n':
				rep = replacementChar
			default:
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, rep...)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == 0xFFFE || r == 0xFFFF {
			dst = append(dst, s[start:i]...)
			dst = append(dst, replacementChar...)
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// appendStringMember and appendIntMember write one struct member without
// boxing the value (the hot path of getAllProcessInfo).
func appendStringMember(dst []byte, name, v string) []byte {
	dst = append(dst, "<member>\n<name>"...)
	dst = append(dst, name...)
	dst = append(dst, "</name>\n<value><string>"...)
	dst = appendEscaped(dst, v)
	return append(dst, "</string></value>\n</member>\n"...)
}

func appendIntMember(dst []byte, name string, v int64) []byte {
	dst = append(dst, "<member>\n<name>"...)
	dst = append(dst, name...)
	dst = append(dst, "</name>\n"...)
	dst = appendInt(dst, v)
	return append(dst, "</member>\n"...)
}

// appendProcessInfo writes the 14-member ProcessInfo struct in Python's
// order; now is used when the info carries no clock of its own.
func appendProcessInfo(dst []byte, p *ProcessInfo, now int64) []byte {
	if p.Now == 0 {
		q := *p
		q.Now = now
		p = &q
	}
	dst = append(dst, "<value><struct>\n"...)
	dst = appendStringMember(dst, "name", p.Name)
	dst = appendStringMember(dst, "group", p.Group)
	dst = appendIntMember(dst, "start", cappedInt(p.Start))
	dst = appendIntMember(dst, "stop", cappedInt(p.Stop))
	dst = appendIntMember(dst, "now", cappedInt(p.Now))
	dst = appendIntMember(dst, "state", int64(p.State))
	dst = appendStringMember(dst, "statename", p.State.String())
	dst = appendStringMember(dst, "spawnerr", p.SpawnErr)
	dst = appendIntMember(dst, "exitstatus", int64(p.ExitStatus))
	dst = appendStringMember(dst, "logfile", p.StdoutLogfile)
	dst = appendStringMember(dst, "stdout_logfile", p.StdoutLogfile)
	dst = appendStringMember(dst, "stderr_logfile", p.StderrLogfile)
	dst = appendIntMember(dst, "pid", int64(p.PID))
	if p.State == procman.Running {
		// the common case, written without a temporary string
		dst = append(dst, "<member>\n<name>description</name>\n<value><string>pid "...)
		dst = strconv.AppendInt(dst, int64(p.PID), 10)
		dst = append(dst, ", uptime "...)
		dst = timedelta.Append(dst, p.uptime())
		dst = append(dst, "</string></value>\n</member>\n"...)
	} else {
		dst = appendStringMember(dst, "description", p.Description())
	}
	return append(dst, "</struct></value>\n"...)
}

// sizeHint guesses the encoded size of v to allocate once.
func sizeHint(v any) int {
	switch x := v.(type) {
	case []ProcessInfo:
		// Markup, numbers and the description's own words take about
		// 1,100 bytes per process; then its strings (the spawnerr also
		// appears in the description, the stdout log path twice).
		n := 512
		for i := range x {
			p := &x[i]
			n += 1150 + len(p.Name) + len(p.Group) + 2*len(p.SpawnErr) + 2*len(p.StdoutLogfile) + len(p.StderrLogfile)
		}
		return n
	case []ConfigInfo:
		return 512 + len(x)*2600
	case []Result:
		return 512 + len(x)*320
	}
	return 1024
}

// cappedInt is supervisor's capped_int: timestamps saturate at 32 bits.
func cappedInt(n int64) int64 {
	return min(max(n, -1<<31), 1<<31-1)
}
