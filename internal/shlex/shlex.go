// Package shlex owns Python's shlex in the two modes supervisor uses:
// shlex.split for a program's command (Split) and the non-POSIX lexer with
// extra word characters for environment values (Tokens).
// testdata/golden.json holds Python's answers.
package shlex

import (
	"errors"
	"strings"
)

// Python's shlex errors, with its wording.
var (
	//lint:ignore ST1005 the text is Python's, shown in spawnerr and config errors
	ErrNoClosingQuotation = errors.New("No closing quotation")
	//lint:ignore ST1005 the text is Python's, shown in spawnerr
	ErrNoEscapedCharacter = errors.New("No escaped character")
)

// Split splits a command line as Python's shlex.split(s) does (POSIX
// mode, whitespace_split, no comments), as supervisor reads command: single quotes are literal, double
// quotes allow \" and \\ escapes, a backslash outside quotes escapes any
// character, and an empty quoted string yields an empty word.
func Split(s string) ([]string, error) {
	const (
		stWhite  = 0
		stWord   = 1
		stSingle = 2
		stDouble = 3
		stEscape = 4
	)
	isSpace := func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }
	var (
		words   []string
		token   []rune
		quoted  bool
		inWord  bool
		state   = stWhite
		escFrom = stWord // the state an escape returns to
	)
	emit := func() {
		if len(token) > 0 || quoted || inWord {
			words = append(words, string(token))
		}
		token, quoted, inWord = token[:0:0], false, false
	}
	for _, r := range s {
		switch state {
		case stWhite, stWord:
			switch {
			case isSpace(r):
				if state == stWord {
					emit()
				}
				state = stWhite
			case r == '\\':
				escFrom, state, inWord = stWord, stEscape, true
			case r == '\'':
				state, quoted, inWord = stSingle, true, true
			case r == '"':
				state, quoted, inWord = stDouble, true, true
			default:
				token = append(token, r)
				state, inWord = stWord, true
			}
		case stSingle:
			if r == '\'' {
				state = stWord
			} else {
				token = append(token, r)
			}
		case stDouble:
			switch r {
			case '"':
				state = stWord
			case '\\':
				escFrom, state = stDouble, stEscape
			default:
				token = append(token, r)
			}
		case stEscape:
			if escFrom == stDouble && r != '\\' && r != '"' {
				token = append(token, '\\')
			}
			token = append(token, r)
			state = escFrom
		}
	}
	switch state {
	case stSingle, stDouble:
		return nil, ErrNoClosingQuotation
	case stEscape:
		return nil, ErrNoEscapedCharacter
	case stWord:
		emit()
	}
	return words, nil
}

// Tokens is Python's list(shlex.shlex(s)) in non-POSIX mode with
// supervisor's extra word characters "/.+-():", as
// datatypes.dict_of_key_value_pairs reads environment: quotes stay in the
// token, '#' starts a comment, other punctuation is a token of its own.
func Tokens(s string) ([]string, error) {
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
					return "", ErrNoClosingQuotation
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
