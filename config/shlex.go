package config

import (
	"strings"
)

// shlexTokens is Python's list(shlex.shlex(s)) in non-POSIX mode with
// supervisor's extra word characters "/.+-():".
func shlexTokens(s string) ([]string, error) {
	const wordchars = "abcdfeghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/.+-():"
	const whitespace = " \t\r\n"
	const quotes = `'"`
	in := []rune(s)
	pos := 0
	read := func() (rune, bool) {
		if pos >= len(in) {
			return 0, false
		}
		r := in[pos]
		pos++
		return r, true
	}
	readline := func() {
		for pos < len(in) {
			r := in[pos]
			pos++
			if r == '\n' {
				return
			}
		}
	}
	is := func(set string, r rune) bool { return strings.ContainsRune(set, r) }
	var pushback []string
	state := ' '
	eof := false
	readToken := func() (string, error) {
		token := ""
		for {
			c, ok := read()
			if eof {
				return "", nil
			}
			switch {
			case state == ' ':
				switch {
				case !ok:
					eof = true
					return token, nil
				case is(whitespace, c):
					if token != "" {
						return token, nil
					}
				case c == '#':
					readline()
				case is(wordchars, c):
					token = string(c)
					state = 'a'
				case is(quotes, c):
					token = string(c)
					state = c
				default:
					token = string(c)
					return token, nil
				}
			case state == '\'' || state == '"':
				if !ok {
					return "", errorf("No closing quotation")
				}
				token += string(c)
				if c == state {
					state = ' '
					return token, nil
				}
			default: // 'a'
				switch {
				case !ok:
					eof = true
					return token, nil
				case is(whitespace, c):
					state = ' '
					if token != "" {
						return token, nil
					}
				case c == '#':
					readline()
				case is(wordchars, c) || is(quotes, c):
					token += string(c)
				default:
					pushback = append(pushback, string(c))
					state = ' '
					if token != "" {
						return token, nil
					}
				}
			}
		}
	}
	var out []string
	for {
		if len(pushback) > 0 {
			// pushback is a deque used with appendleft/popleft: LIFO
			tok := pushback[len(pushback)-1]
			pushback = pushback[:len(pushback)-1]
			out = append(out, tok)
			continue
		}
		tok, err := readToken()
		if err != nil {
			return nil, err
		}
		if tok == "" {
			return out, nil
		}
		out = append(out, tok)
	}
}

// dictOfKeyValuePairs is datatypes.dict_of_key_value_pairs.
func dictOfKeyValuePairs(arg string) (Environment, error) {
	toks, err := shlexTokens(arg)
	if err != nil {
		return nil, err
	}
	var env Environment
	for i := 0; i < len(toks); i += 4 {
		if i+3 > len(toks) || toks[i+1] != "=" {
			return nil, errorf("Unexpected end of key/value pairs in value '" + arg + "'")
		}
		env = env.with(toks[i], strings.Trim(toks[i+2], `'"`))
	}
	return env, nil
}

// with is dict assignment: an existing key keeps its place.
func (e Environment) with(k, v string) Environment {
	for i := range e {
		if e[i].Key == k {
			e[i].Value = v
			return e
		}
	}
	return append(e, EnvVar{Key: k, Value: v})
}
