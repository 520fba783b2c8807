package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// pyGlob is Python 3.11's glob.glob(pattern) (not recursive, hidden files
// not matched by wildcards), in the order Python yields them.
func pyGlob(pattern string) []string {
	return pyIglob(pattern, false)
}

func hasMagic(s string) bool { return strings.ContainsAny(s, "*?[") }

// pySplit is posixpath.split.
func pySplit(p string) (string, string) {
	i := strings.LastIndexByte(p, '/') + 1
	head, tail := p[:i], p[i:]
	if head != "" && strings.Trim(head, "/") != "" {
		head = strings.TrimRight(head, "/")
	}
	return head, tail
}

// pyJoin is posixpath.join of two parts.
func pyJoin(a, b string) string {
	if strings.HasPrefix(b, "/") {
		return b
	}
	if a == "" || strings.HasSuffix(a, "/") {
		return a + b
	}
	return a + "/" + b
}

func pyIglob(pathname string, dironly bool) []string {
	dirname, basename := pySplit(pathname)
	if !hasMagic(pathname) {
		if basename != "" {
			if _, err := os.Lstat(pathname); err == nil {
				return []string{pathname}
			}
		} else if st, err := os.Stat(dirname); err == nil && st.IsDir() {
			return []string{pathname}
		}
		return nil
	}
	if dirname == "" {
		return globIn(".", "", basename, dironly)
	}
	var dirs []string
	if dirname != pathname && hasMagic(dirname) {
		dirs = pyIglob(dirname, true)
	} else {
		dirs = []string{dirname}
	}
	var out []string
	for _, d := range dirs {
		out = append(out, globIn(d, d, basename, dironly)...)
	}
	return out
}

// globIn lists matches of basename in dir, joined to prefix.
func globIn(dir, prefix, basename string, dironly bool) []string {
	var names []string
	if hasMagic(basename) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil
		}
		re := fnmatchRegexp(basename)
		for _, e := range entries {
			name := e.Name()
			if dironly {
				st, err := os.Stat(pyJoin(dir, name))
				if err != nil || !st.IsDir() {
					continue
				}
			}
			if !strings.HasPrefix(basename, ".") && strings.HasPrefix(name, ".") {
				continue
			}
			if re.MatchString(name) {
				names = append(names, name)
			}
		}
	} else if basename != "" {
		if _, err := os.Lstat(pyJoin(dir, basename)); err == nil {
			names = []string{basename}
		}
	} else if st, err := os.Stat(dir); err == nil && st.IsDir() {
		names = []string{""}
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = pyJoin(prefix, n)
	}
	return out
}

// fnmatchRegexp is fnmatch.translate for Go's regexp package.
func fnmatchRegexp(pat string) *regexp.Regexp {
	p := []rune(pat)
	n := len(p)
	var res strings.Builder
	res.WriteString(`(?s)\A`)
	esc := func(r rune) string { return fmt.Sprintf(`\x{%x}`, r) }
	lastStar := false
	for i := 0; i < n; {
		c := p[i]
		i++
		star := false
		switch c {
		case '*':
			if !lastStar {
				res.WriteString(".*")
			}
			star = true
		case '?':
			res.WriteString(".")
		case '[':
			j := i
			if j < n && p[j] == '!' {
				j++
			}
			if j < n && p[j] == ']' {
				j++
			}
			for j < n && p[j] != ']' {
				j++
			}
			if j >= n {
				res.WriteString(esc('['))
				break
			}
			var chunks [][]rune
			stuff := p[i:j]
			if !strings.ContainsRune(string(stuff), '-') {
				chunks = [][]rune{stuff}
			} else {
				k := i + 1
				if p[i] == '!' {
					k = i + 2
				}
				for {
					f := -1
					for x := k; x < j; x++ {
						if p[x] == '-' {
							f = x
							break
						}
					}
					if f < 0 {
						break
					}
					chunks = append(chunks, p[i:f])
					i = f + 1
					k = f + 3
				}
				if chunk := p[i:j]; len(chunk) > 0 {
					chunks = append(chunks, chunk)
				} else {
					last := chunks[len(chunks)-1]
					chunks[len(chunks)-1] = append(append([]rune(nil), last...), '-')
				}
				for k := len(chunks) - 1; k > 0; k-- {
					a, b := chunks[k-1], chunks[k]
					if len(a) > 0 && len(b) > 0 && a[len(a)-1] > b[0] {
						merged := append(append([]rune(nil), a[:len(a)-1]...), b[1:]...)
						chunks[k-1] = merged
						chunks = append(chunks[:k], chunks[k+1:]...)
					}
				}
			}
			i = j + 1
			total := 0
			for k, ch := range chunks {
				total += len(ch)
				if k > 0 {
					total++
				}
			}
			neg := len(chunks) > 0 && len(chunks[0]) > 0 && chunks[0][0] == '!'
			switch {
			case total == 0:
				res.WriteString(`[^\x00-\x{10ffff}]`)
			case total == 1 && neg:
				res.WriteString(".")
			default:
				res.WriteString("[")
				if neg {
					res.WriteString("^")
					chunks[0] = chunks[0][1:]
				}
				for k, ch := range chunks {
					if k > 0 {
						res.WriteString("-")
					}
					for _, r := range ch {
						res.WriteString(esc(r))
					}
				}
				res.WriteString("]")
			}
		default:
			res.WriteString(esc(c))
		}
		lastStar = star
	}
	res.WriteString(`\z`)
	re, err := regexp.Compile(res.String())
	if err != nil {
		// a class Python accepts but RE2 rejects (e.g. a reversed range
		// left at the start after "!"): match nothing, as Python's re
		// would have raised.
		return regexp.MustCompile(`[^\x00-\x{10ffff}]`)
	}
	return re
}
