package main

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// screen is a small terminal emulator for the pty tests: it keeps what a
// user would see of the line editor and of top (cursor movement, erasing,
// the alternate screen), so tests read the screen rather than the byte
// stream. Unknown sequences are ignored.
type screen struct {
	mu         sync.Mutex
	rows, cols int
	cells      [][]rune
	x, y       int
	wrapNext   bool
	pending    []byte
	raw        bytes.Buffer
	altScreen  bool
}

func newScreen(rows, cols int) *screen {
	s := &screen{rows: rows, cols: cols}
	s.clear()
	return s
}

func (s *screen) clear() {
	s.cells = make([][]rune, s.rows)
	for i := range s.cells {
		s.cells[i] = blankLine(s.cols)
	}
}

func blankLine(n int) []rune {
	l := make([]rune, n)
	for i := range l {
		l[i] = ' '
	}
	return l
}

// Text is the screen, right-trimmed lines, trailing blank lines dropped.
func (s *screen) Text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := make([]string, s.rows)
	for i, l := range s.cells {
		lines[i] = strings.TrimRight(string(l), " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// Line is the text of the cursor's row, up to the cursor or the last
// non-blank character, whichever is further.
func (s *screen) Line() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := strings.TrimRight(string(s.cells[s.y]), " ")
	if n := utf8.RuneCountInString(l); n < s.x {
		l += strings.Repeat(" ", s.x-n)
	}
	return l
}

// Raw is every byte written so far.
func (s *screen) Raw() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw.Write(p)
	s.pending = append(s.pending, p...)
	for len(s.pending) > 0 {
		n := s.step(s.pending)
		if n == 0 {
			break // an incomplete sequence: wait for more
		}
		s.pending = s.pending[n:]
	}
	return len(p), nil
}

// step consumes one character or sequence from b; 0 when b is incomplete.
func (s *screen) step(b []byte) int {
	switch c := b[0]; {
	case c == 0x1b:
		if len(b) < 2 {
			return 0
		}
		switch b[1] {
		case '[':
			i := 2
			for i < len(b) && (b[i] < 0x40 || b[i] > 0x7e) {
				i++
			}
			if i == len(b) {
				return 0
			}
			s.csi(string(b[2:i]), b[i])
			return i + 1
		case ']': // OSC, to BEL or ST
			for i := 2; i < len(b); i++ {
				if b[i] == 0x07 {
					return i + 1
				}
				if b[i] == 0x1b && i+1 < len(b) && b[i+1] == '\\' {
					return i + 2
				}
			}
			return 0
		case '(', ')':
			if len(b) < 3 {
				return 0
			}
			return 3
		case 'M':
			if s.y > 0 {
				s.y--
			}
			return 2
		}
		return 2
	case c == '\r':
		s.x, s.wrapNext = 0, false
	case c == '\n':
		s.lineFeed()
	case c == '\b':
		if s.x > 0 {
			s.x--
		}
		s.wrapNext = false
	case c == '\t':
		s.x = min((s.x/8+1)*8, s.cols-1)
	case c < 0x20 || c == 0x7f:
	default:
		if !utf8.FullRune(b) {
			return 0
		}
		r, n := utf8.DecodeRune(b)
		s.put(r)
		return n
	}
	return 1
}

func (s *screen) lineFeed() {
	s.wrapNext = false
	if s.y == s.rows-1 {
		copy(s.cells, s.cells[1:])
		s.cells[s.rows-1] = blankLine(s.cols)
		return
	}
	s.y++
}

func (s *screen) put(r rune) {
	if s.wrapNext {
		s.x = 0
		s.lineFeed()
	}
	s.cells[s.y][s.x] = r
	if s.x == s.cols-1 {
		s.wrapNext = true
	} else {
		s.x++
	}
}

func (s *screen) csi(params string, final byte) {
	private := strings.HasPrefix(params, "?")
	params = strings.TrimLeft(params, "?>=")
	var ns []int
	for _, p := range strings.Split(params, ";") {
		n, _ := strconv.Atoi(p)
		ns = append(ns, n)
	}
	arg := func(i, def int) int {
		if i < len(ns) && ns[i] > 0 {
			return ns[i]
		}
		return def
	}
	s.wrapNext = false
	switch final {
	case 'A':
		s.y = max(0, s.y-arg(0, 1))
	case 'B':
		s.y = min(s.rows-1, s.y+arg(0, 1))
	case 'C':
		s.x = min(s.cols-1, s.x+arg(0, 1))
	case 'D':
		s.x = max(0, s.x-arg(0, 1))
	case 'E':
		s.x, s.y = 0, min(s.rows-1, s.y+arg(0, 1))
	case 'F':
		s.x, s.y = 0, max(0, s.y-arg(0, 1))
	case 'G':
		s.x = min(s.cols-1, arg(0, 1)-1)
	case 'd':
		s.y = min(s.rows-1, arg(0, 1)-1)
	case 'H', 'f':
		s.y, s.x = min(s.rows-1, arg(0, 1)-1), min(s.cols-1, arg(1, 1)-1)
	case 'J':
		switch arg(0, 0) {
		case 0:
			copy(s.cells[s.y][s.x:], blankLine(s.cols-s.x))
			for y := s.y + 1; y < s.rows; y++ {
				s.cells[y] = blankLine(s.cols)
			}
		case 1:
			for y := 0; y < s.y; y++ {
				s.cells[y] = blankLine(s.cols)
			}
			copy(s.cells[s.y][:s.x+1], blankLine(s.x+1))
		default:
			s.clear()
		}
	case 'K':
		switch arg(0, 0) {
		case 0:
			copy(s.cells[s.y][s.x:], blankLine(s.cols-s.x))
		case 1:
			copy(s.cells[s.y][:s.x+1], blankLine(s.x+1))
		default:
			s.cells[s.y] = blankLine(s.cols)
		}
	case 'X':
		n := min(arg(0, 1), s.cols-s.x)
		copy(s.cells[s.y][s.x:], blankLine(n))
	case 'P':
		n := min(arg(0, 1), s.cols-s.x)
		l := s.cells[s.y]
		copy(l[s.x:], l[s.x+n:])
		copy(l[s.cols-n:], blankLine(n))
	case '@':
		n := min(arg(0, 1), s.cols-s.x)
		l := s.cells[s.y]
		copy(l[s.x+n:], l[s.x:s.cols-n])
		copy(l[s.x:s.x+n], blankLine(n))
	case 'L', 'M':
		n := min(arg(0, 1), s.rows-s.y)
		for i := 0; i < n; i++ {
			if final == 'L' {
				copy(s.cells[s.y+1:], s.cells[s.y:s.rows-1])
				s.cells[s.y] = blankLine(s.cols)
			} else {
				copy(s.cells[s.y:], s.cells[s.y+1:])
				s.cells[s.rows-1] = blankLine(s.cols)
			}
		}
	case 'h', 'l':
		if private && (params == "1049" || params == "47" || params == "1047") {
			s.altScreen = final == 'h'
			s.clear()
			s.x, s.y = 0, 0
		}
	}
}
