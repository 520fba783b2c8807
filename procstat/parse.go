package procstat

import (
	"bytes"
	"errors"
	"fmt"
)

// parseStat reads the pid, ppid, times and rss of one /proc/<pid>/stat
// line: "pid (comm) state ppid ... utime stime cutime cstime ... rss ...".
// comm may hold spaces and parentheses, so the fields are counted from
// the last ')'.
func parseStat(line []byte) (proc, error) {
	var p proc
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return p, errors.New("no pid field")
	}
	pid, ok := parseUint(line[:sp])
	if !ok || pid == 0 || pid > 1<<31-1 {
		return p, fmt.Errorf("bad pid %q", line[:sp])
	}
	p.pid = int32(pid)
	rparen := bytes.LastIndexByte(line, ')')
	if rparen < sp {
		return p, errors.New("no command name")
	}
	rest := line[rparen+1:]
	// Fields after ')', 0-based: 0 state, 1 ppid, 11 utime, 12 stime,
	// 13 cutime, 14 cstime, 21 rss (pages).
	field := -1
	for len(rest) > 0 && field < 21 {
		for len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
		end := bytes.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		tok := bytes.TrimRight(rest[:end], "\n")
		rest = rest[end:]
		if len(tok) == 0 {
			break
		}
		field++
		switch field {
		case 1:
			v, ok := parseUint(tok)
			if !ok || v > 1<<31-1 {
				return p, fmt.Errorf("bad ppid %q", tok)
			}
			p.ppid = int32(v)
		case 11, 12, 13, 14:
			// cutime and cstime are signed in the kernel's format
			// but never negative.
			v, ok := parseUint(tok)
			if !ok {
				return p, fmt.Errorf("bad time field %d %q", field, tok)
			}
			p.ticks += v
		case 21:
			v, ok := parseUint(tok)
			if !ok || v > 1<<62 {
				return p, fmt.Errorf("bad rss %q", tok)
			}
			p.rssPages = int64(v)
		}
	}
	if field < 21 {
		return p, fmt.Errorf("short stat line: %d fields after the command name", field+1)
	}
	return p, nil
}

// parseUint parses a decimal without sign; ok is false on anything else or
// on overflow past 2^63.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}
