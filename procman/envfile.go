package procman

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/errno"
)

// env_file: KEY=VALUE files read at each spawn, below environment=.

// readEnvFiles reads the env files in order (a later one wins) and returns
// their variables. An unreadable file or a bad line is an error naming the
// file (and line).
func readEnvFiles(paths []string) ([]envVar, error) {
	var out []envVar
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("couldn't read env_file %s: %s", path, errno.NameOr(err))
		}
		vars, err := parseEnvFile(b)
		if err != nil {
			return nil, fmt.Errorf("bad env_file %s: %w", path, err)
		}
		out = append(out, vars...)
	}
	return out, nil
}

// parseEnvFile parses KEY=VALUE lines: blank lines and lines starting with
// # are skipped, an "export " prefix is allowed, a value may be single
// quoted (literal) or double quoted (\\, \", \n, \t, \r and \$ escapes);
// an unquoted value is trimmed and ends at " #". Quoted values may span
// lines.
func parseEnvFile(b []byte) ([]envVar, error) {
	var out []envVar
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	lineNo := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		lineNo++
		return strings.TrimSuffix(sc.Text(), "\r"), true
	}
	for {
		line, ok := next()
		if !ok {
			break
		}
		start := lineNo
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(t, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			t = strings.TrimSpace(rest)
		}
		key, val, ok := strings.Cut(t, "=")
		key = strings.TrimSpace(key)
		if !ok || !validEnvKey(key) {
			return nil, fmt.Errorf("line %d: not KEY=VALUE: %q", start, line)
		}
		val = strings.TrimLeft(val, " \t")
		if val == "" || (val[0] != '\'' && val[0] != '"') {
			if i := strings.Index(val, " #"); i >= 0 {
				val = val[:i]
			}
			if i := strings.Index(val, "\t#"); i >= 0 {
				val = val[:i]
			}
			out = append(out, envVar{key, strings.TrimRight(val, " \t")})
			continue
		}
		q := val[0]
		body := val[1:]
		var sb strings.Builder
		closed := false
		for !closed {
			for i := 0; i < len(body); i++ {
				c := body[i]
				switch {
				case c == q:
					if rest := strings.TrimSpace(body[i+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
						return nil, fmt.Errorf("line %d: text after the closing quote: %q", lineNo, line)
					}
					closed = true
				case q == '"' && c == '\\' && i+1 < len(body):
					i++
					switch e := body[i]; e {
					case 'n':
						sb.WriteByte('\n')
					case 't':
						sb.WriteByte('\t')
					case 'r':
						sb.WriteByte('\r')
					case '\\', '"', '$', '`':
						sb.WriteByte(e)
					default:
						sb.WriteByte('\\')
						sb.WriteByte(e)
					}
				default:
					sb.WriteByte(c)
				}
				if closed {
					break
				}
			}
			if closed {
				break
			}
			more, ok := next()
			if !ok {
				return nil, fmt.Errorf("line %d: unterminated %c quote", start, q)
			}
			sb.WriteByte('\n')
			body = more
			line = more
		}
		out = append(out, envVar{key, sb.String()})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", lineNo+1, err)
	}
	return out, nil
}

func validEnvKey(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range k {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// programEnv is the program's own environment at a spawn: its env files'
// variables, then environment= (which wins). A failure to read the env
// files is returned with environment= alone, so PATH lookup still works.
func (p *process) programEnv() ([]envVar, error) {
	if len(p.cfg.EnvFiles) == 0 {
		return p.penv, nil
	}
	vars, err := readEnvFiles(p.cfg.EnvFiles)
	if err != nil {
		return p.penv, err
	}
	return append(vars, p.penv...), nil
}
