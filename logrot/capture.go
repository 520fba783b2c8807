package logrot

import "bytes"

// Capture-mode tokens (ProcessCommunicationEvent.BEGIN_TOKEN / END_TOKEN).
var (
	beginToken = []byte("<!--XSUPERVISOR:BEGIN-->")
	endToken   = []byte("<!--XSUPERVISOR:END-->")
)

// prefixAtEnd is medusa's find_prefix_at_end: the length of the longest
// proper prefix of token that data ends with.
func prefixAtEnd(data, token []byte) int {
	for l := len(token) - 1; l > 0; l-- {
		if bytes.HasSuffix(data, token[:l]) {
			return l
		}
	}
	return 0
}

// boundBuffer is Python's loggers.BoundIO: when a write would take the
// buffer past max, the first len(write) bytes are dropped first (so the
// buffer can exceed max when one write is larger than it).
type boundBuffer struct {
	max int64
	buf []byte
}

func (b *boundBuffer) write(p []byte) {
	if int64(len(b.buf)+len(p)) > b.max {
		if len(p) >= len(b.buf) {
			b.buf = b.buf[:0]
		} else {
			n := copy(b.buf, b.buf[len(p):])
			b.buf = b.buf[:n]
		}
	}
	b.buf = append(b.buf, p...)
}

func (b *boundBuffer) reset() {
	b.buf = nil
}

// segment is a piece of child output with the mode it was seen in.
type segment struct {
	data      []byte
	capturing bool
	// toggle is set on a zero-data segment marking a BEGIN or END token.
	toggle bool
}

// captureScanner splits output at capture tokens; a token split across
// reads is held back until the next read decides it. Unlike Python, output
// shorter than a token is not held back, and held-back bytes are flushed at
// EOF instead of being lost.
type captureScanner struct {
	capturing bool
	pending   []byte
}

// scan splits data (which it may retain only by copying) and calls emit
// for each segment in order.
func (s *captureScanner) scan(data []byte, emit func(segment)) {
	if len(s.pending) > 0 {
		joined := make([]byte, 0, len(s.pending)+len(data))
		joined = append(joined, s.pending...)
		data = append(joined, data...)
		s.pending = s.pending[:0]
	}
	for len(data) > 0 {
		token := beginToken
		if s.capturing {
			token = endToken
		}
		if i := bytes.Index(data, token); i >= 0 {
			if i > 0 {
				emit(segment{data: data[:i], capturing: s.capturing})
			}
			s.capturing = !s.capturing
			emit(segment{capturing: s.capturing, toggle: true})
			data = data[i+len(token):]
			continue
		}
		k := prefixAtEnd(data, token)
		if k < len(data) {
			emit(segment{data: data[:len(data)-k], capturing: s.capturing})
		}
		s.pending = append(s.pending, data[len(data)-k:]...)
		return
	}
}

// flush emits held-back bytes (at EOF).
func (s *captureScanner) flush(emit func(segment)) {
	if len(s.pending) > 0 {
		p := s.pending
		s.pending = nil
		emit(segment{data: p, capturing: s.capturing})
	}
}

// ansiTerminators are the bytes that end an escape sequence in Python's
// stripEscapes.
const ansiTerminators = "HfABCDRsuJKhlpm"

// ansiStripper is Python's stripEscapes (drop from ESC [ through the first
// terminator byte), with its state carried across reads so a sequence split
// between two reads is stripped too.
type ansiStripper struct {
	inSeq      bool // inside ESC [ ... waiting for a terminator
	pendingESC bool // the previous read ended with a lone ESC
}

func (a *ansiStripper) strip(src []byte) []byte {
	out := make([]byte, 0, len(src)+1)
	i := 0
	if a.pendingESC {
		a.pendingESC = false
		if len(src) > 0 && src[0] == '[' {
			a.inSeq = true
			i = 1
		} else {
			out = append(out, 0x1b)
		}
	}
	for i < len(src) {
		if a.inSeq {
			j := bytes.IndexAny(src[i:], ansiTerminators)
			if j < 0 {
				return out
			}
			i += j + 1
			a.inSeq = false
			continue
		}
		j := bytes.Index(src[i:], []byte{0x1b, '['})
		if j < 0 {
			rest := src[i:]
			if len(rest) > 0 && rest[len(rest)-1] == 0x1b {
				a.pendingESC = true
				rest = rest[:len(rest)-1]
			}
			return append(out, rest...)
		}
		out = append(out, src[i:i+j]...)
		i += j + 2
		a.inSeq = true
	}
	return out
}

// flush returns a held-back lone ESC (at EOF).
func (a *ansiStripper) flush() []byte {
	if a.pendingESC {
		a.pendingESC = false
		return []byte{0x1b}
	}
	return nil
}
