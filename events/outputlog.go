package events

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// ListenerOutputLogLine is the main-log DEBG message supervisord writes for
// each chunk a listener prints on its stdout (PEventListenerDispatcher's
// handle_read_event): "'<name>' stdout output:\n" and the chunk as a Python
// bytes repr (b'READY\n'), unlike ordinary processes whose output is shown
// as text.
func ListenerOutputLogLine(name, channel string, data []byte) string {
	return pyStrRepr(name) + " " + channel + " output:\n" + PyBytesRepr(data)
}

// pyStrRepr renders s as Python's repr(str) does (strconv.IsPrint stands
// for str.isprintable; invalid UTF-8 bytes, which a Python str cannot
// hold, show as \ufffd).
func pyStrRepr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError || strconv.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			b.WriteString(`\x` + hex2(int64(r), 2))
		case r < 0x10000:
			b.WriteString(`\u` + hex2(int64(r), 4))
		default:
			b.WriteString(`\U` + hex2(int64(r), 8))
		}
	}
	b.WriteByte(q)
	return b.String()
}

func hex2(v int64, width int) string {
	s := strconv.FormatInt(v, 16)
	return strings.Repeat("0", width-len(s)) + s
}
