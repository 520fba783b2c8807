package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// padInt is Python's "%Nd".
func padInt(i, width int) string {
	s := strconv.Itoa(i)
	for len(s) < width {
		s = " " + s
	}
	return s
}

// expVal is one expansion value: Python str or int.
type expVal struct {
	s     string
	i     int
	isInt bool
}

// expansions is an insertion-ordered Python dict of expansion names.
type expansions struct {
	keys []string
	vals map[string]expVal
}

func newExpansions() *expansions { return &expansions{vals: map[string]expVal{}} }

// newExpansionsSize is newExpansions with room for n keys.
func newExpansionsSize(n int) *expansions {
	return &expansions{keys: make([]string, 0, n), vals: make(map[string]expVal, n)}
}

func (e *expansions) setStr(k, v string) { e.set(k, expVal{s: v}) }
func (e *expansions) setInt(k string, v int) {
	e.set(k, expVal{i: v, isInt: true})
}

func (e *expansions) set(k string, v expVal) {
	if _, ok := e.vals[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
}

// update is dict.update.
func (e *expansions) update(o *expansions) {
	for _, k := range o.keys {
		e.set(k, o.vals[k])
	}
}

func (e *expansions) clone() *expansions {
	c := newExpansions()
	c.update(e)
	return c
}

func (v expVal) str() string {
	if v.isInt {
		return strconv.Itoa(v.i)
	}
	return v.s
}

func (v expVal) repr() string {
	if v.isInt {
		return strconv.Itoa(v.i)
	}
	return pyrepr.Str(v.s)
}

// expLookup is a read-only Python dict of expansions.
type expLookup interface {
	get(key string) (expVal, bool)
	names() []string // in dict order
	repr() string
}

func (e *expansions) get(k string) (expVal, bool) {
	v, ok := e.vals[k]
	return v, ok
}

func (e *expansions) names() []string { return e.keys }

// expView is dict(base.items() + top.items()) without copying.
type expView struct {
	base *expansions
	top  expLookup
}

func (v expView) get(k string) (expVal, bool) {
	if x, ok := v.top.get(k); ok {
		return x, true
	}
	return v.base.get(k)
}

func (v expView) names() []string {
	out := append([]string(nil), v.base.keys...)
	for _, k := range v.top.names() {
		if _, ok := v.base.vals[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

func (v expView) repr() string { return dictRepr(v) }

// dictRepr is Python's repr of the dict l stands for: its names in order,
// each with its value's repr.
func dictRepr(l expLookup) string {
	names := l.names()
	parts := make([]string, len(names))
	for i, k := range names {
		x, _ := l.get(k)
		parts[i] = pyrepr.Str(k) + ": " + x.repr()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// repr is the Python dict's repr.
func (e *expansions) repr() string { return dictRepr(e) }

// pyFormatError is a Python exception raised by str % dict.
type pyFormatError struct {
	keyError bool   // KeyError: msg is the missing key's repr
	msg      string // str(exception)
}

func (e *pyFormatError) Error() string { return e.msg }

// pyPercent is Python's `format % mapping` for a dict of str and int
// values.
func pyPercent(format string, m expLookup) (string, error) {
	if !strings.Contains(format, "%") {
		return format, nil
	}
	f := []rune(format)
	var out strings.Builder
	// CPython's argument cursor: the dict is available to the first
	// conversion only; a (key) makes its value the one available argument.
	curIsDict, avail := true, true
	var cur expVal
	n := len(f)
	for i := 0; i < n; i++ {
		if f[i] != '%' {
			out.WriteRune(f[i])
			continue
		}
		i++
		if i >= n {
			return "", &pyFormatError{msg: "incomplete format"}
		}
		if f[i] == '%' {
			out.WriteByte('%')
			continue
		}
		if f[i] == '(' {
			depth := 1
			j := i + 1
			for j < n && depth > 0 {
				if f[j] == '(' {
					depth++
				} else if f[j] == ')' {
					depth--
				}
				j++
			}
			if depth > 0 {
				return "", &pyFormatError{msg: "incomplete format key"}
			}
			key := string(f[i+1 : j-1])
			v, ok := m.get(key)
			if !ok {
				return "", &pyFormatError{keyError: true, msg: pyrepr.Str(key)}
			}
			cur, curIsDict, avail = v, false, true
			i = j
		}
		nextArg := func() (expVal, bool, error) {
			if !avail {
				return expVal{}, false, &pyFormatError{msg: "not enough arguments for format string"}
			}
			avail = false
			return cur, curIsDict, nil
		}
		starArg := func() (int, error) {
			v, isDict, err := nextArg()
			if err != nil {
				return 0, err
			}
			if isDict || !v.isInt {
				return 0, &pyFormatError{msg: "* wants int"}
			}
			return v.i, nil
		}
		var flagMinus, flagPlus, flagSpace, flagAlt, flagZero bool
	flags:
		for i < n {
			switch f[i] {
			case '-':
				flagMinus = true
			case '+':
				flagPlus = true
			case ' ':
				flagSpace = true
			case '#':
				flagAlt = true
			case '0':
				flagZero = true
			default:
				break flags
			}
			i++
		}
		width, prec := -1, -1
		if i < n && f[i] == '*' {
			w, err := starArg()
			if err != nil {
				return "", err
			}
			if w < 0 {
				flagMinus, w = true, -w
			}
			width = min(w, 1<<20)
			i++
		} else {
			for i < n && f[i] >= '0' && f[i] <= '9' {
				if width < 0 {
					width = 0
				}
				width = width*10 + int(f[i]-'0')
				if width > 1<<20 {
					return "", &pyFormatError{msg: "width too big"}
				}
				i++
			}
		}
		if i < n && f[i] == '.' {
			i++
			prec = 0
			if i < n && f[i] == '*' {
				p, err := starArg()
				if err != nil {
					return "", err
				}
				prec = max(min(p, 1<<20), 0)
				i++
			} else {
				for i < n && f[i] >= '0' && f[i] <= '9' {
					prec = prec*10 + int(f[i]-'0')
					if prec > 1<<20 {
						return "", &pyFormatError{msg: "precision too big"}
					}
					i++
				}
			}
		}
		if i < n && (f[i] == 'h' || f[i] == 'l' || f[i] == 'L') {
			i++
		}
		if i >= n {
			return "", &pyFormatError{msg: "incomplete format"}
		}
		c := f[i]
		argv, isDict, err := nextArg()
		if err != nil {
			return "", err
		}
		arg := &argv
		typeName := "dict"
		if !isDict {
			if arg.isInt {
				typeName = "int"
			} else {
				typeName = "str"
			}
		}
		var body, sign string
		numeric := false
		switch c {
		case 's', 'r', 'a':
			switch {
			case isDict:
				body = m.repr()
				if c == 'a' { // ascii(dict): the repr, non-ASCII escaped
					body = pyrepr.EscapeNonASCII(body)
				}
			case c == 's':
				body = arg.str()
			case c == 'r':
				body = arg.repr()
			default:
				if arg.isInt {
					body = arg.str()
				} else {
					body = pyrepr.ASCII(arg.s)
				}
			}
			if prec >= 0 {
				if r := []rune(body); len(r) > prec {
					body = string(r[:prec])
				}
			}
		case 'd', 'i', 'u', 'o', 'x', 'X':
			if isDict || !arg.isInt {
				if c == 'd' || c == 'i' || c == 'u' {
					return "", &pyFormatError{msg: "%" + string(c) + " format: a real number is required, not " + typeName}
				}
				return "", &pyFormatError{msg: "%" + string(c) + " format: an integer is required, not " + typeName}
			}
			numeric = true
			v := arg.i
			sign = numberSign(v < 0, flagPlus, flagSpace)
			if v < 0 {
				v = -v
			}
			switch c {
			case 'o':
				body = strconv.FormatInt(int64(v), 8)
			case 'x':
				body = strconv.FormatInt(int64(v), 16)
			case 'X':
				body = strings.ToUpper(strconv.FormatInt(int64(v), 16))
			default:
				body = strconv.Itoa(v)
			}
			if prec >= 0 {
				for len(body) < prec {
					body = "0" + body
				}
			}
			if flagAlt {
				switch c {
				case 'o':
					sign += "0o"
				case 'x':
					sign += "0x"
				case 'X':
					sign += "0X"
				}
			}
		case 'e', 'E', 'f', 'F', 'g', 'G':
			if isDict || !arg.isInt {
				return "", &pyFormatError{msg: "must be real number, not " + typeName}
			}
			numeric = true
			v := float64(arg.i)
			sign = numberSign(v < 0, flagPlus, flagSpace)
			if v < 0 {
				v = -v
			}
			p := prec
			if p < 0 {
				p = 6
			}
			verb := string(c)
			if c == 'F' {
				verb = "f"
			}
			if flagAlt {
				verb = "#" + verb
			}
			body = fmt.Sprintf("%."+strconv.Itoa(p)+verb, v)
		case 'c':
			switch {
			case isDict:
				return "", &pyFormatError{msg: "%c requires int or char"}
			case arg.isInt:
				if arg.i < 0 || arg.i > 0x10ffff {
					return "", &pyFormatError{msg: "%c arg not in range(0x110000)"}
				}
				body = string(rune(arg.i))
			case utf8.RuneCountInString(arg.s) == 1:
				body = arg.s
			default:
				return "", &pyFormatError{msg: "%c requires int or char"}
			}
		default:
			shown := "?"
			if c >= 32 && c <= 126 {
				shown = string(c)
			}
			return "", &pyFormatError{msg: fmt.Sprintf("unsupported format character '%s' (0x%x) at index %d", shown, c, i)}
		}
		total := utf8.RuneCountInString(sign) + utf8.RuneCountInString(body)
		switch {
		case width <= total:
			out.WriteString(sign + body)
		case flagMinus:
			out.WriteString(sign + body + strings.Repeat(" ", width-total))
		case flagZero && numeric:
			out.WriteString(sign + strings.Repeat("0", width-total) + body)
		default:
			out.WriteString(strings.Repeat(" ", width-total) + sign + body)
		}
	}
	return out.String(), nil
}

// expand is supervisor.options.expand: name is the option's name as
// Python's messages give it.
func expand(s string, m expLookup, name string) (string, error) {
	out, err := pyPercent(s, m)
	if err == nil {
		return out, nil
	}
	fe := err.(*pyFormatError)
	if fe.keyError {
		avail := append([]string(nil), m.names()...)
		sort.Strings(avail)
		return "", &Error{Msg: fmt.Sprintf("Format string %s for %s contains names (%s) which cannot be expanded. Available names: %s",
			pyrepr.Str(s), pyrepr.Str(name), fe.msg, strings.Join(avail, ", "))}
	}
	return "", &Error{Msg: fmt.Sprintf("Format string %s for %s is badly formatted: %s", pyrepr.Str(s), pyrepr.Str(name), fe.msg)}
}

// numberSign is what %-formatting writes before a number: "-" for a
// negative one, else "+" with the + flag, " " with the space flag.
func numberSign(negative, flagPlus, flagSpace bool) string {
	switch {
	case negative:
		return "-"
	case flagPlus:
		return "+"
	case flagSpace:
		return " "
	}
	return ""
}
