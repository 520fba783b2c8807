package procman

import "errors"

// Python's shlex errors, with its wording.
var (
	//lint:ignore ST1005 the text is Python's, shown in spawnerr
	errNoClosingQuotation = errors.New("No closing quotation")
	//lint:ignore ST1005 the text is Python's, shown in spawnerr
	errNoEscapedCharacter = errors.New("No escaped character")
)

// shlexSplit splits a command line as Python's shlex.split(s) does (POSIX
// mode, whitespace_split, no comments): single quotes are literal, double
// quotes allow \" and \\ escapes, a backslash outside quotes escapes any
// character, and an empty quoted string yields an empty word.
func shlexSplit(s string) ([]string, error) {
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
		return nil, errNoClosingQuotation
	case stEscape:
		return nil, errNoEscapedCharacter
	case stWord:
		emit()
	}
	return words, nil
}
