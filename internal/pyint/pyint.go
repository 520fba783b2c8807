// Package pyint owns Python's int() of a str, the rule config values,
// signal numbers, octal modes and XML-RPC integers (both sides of the
// wire) are read with, and the str.strip() whitespace it (and
// configparser) trims.
package pyint

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode"

	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// plainDigits is Parse's fast path for what configs hold almost always:
// up to 18 ASCII digits of the base, nothing else.
func plainDigits(s string, base int) (int, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d := uint64(s[i]) - '0'
		if s[i] < '0' || d >= uint64(base) {
			return 0, false
		}
		v = v*uint64(base) + d
	}
	return int(min(v, uint64(Clamp))), true
}

// Parse is Python's int(s, base) for base 10 or 8: surrounding whitespace
// (intSpace), a sign, single underscores between digits, any Unicode decimal
// digit, "0o" in base 8. The error's text is Python's ValueError message.
// Python's ints have no limit; a value beyond Clamp is clamped to it.
func Parse(s string, base int) (int, error) {
	if v, ok := plainDigits(s, base); ok {
		return v, nil
	}
	mag, neg, err := parse(s, base)
	if err != nil {
		return 0, err
	}
	v := Clamp
	if mag < uint64(Clamp) {
		v = int(mag)
	}
	if neg {
		v = -v
	}
	return v, nil
}

// ErrRange marks a well-formed int() literal whose value is outside int64.
var ErrRange = errors.New("integer out of range")

// Int64 is Parse for a value that must be exact, as an XML-RPC <int> is:
// a literal outside int64 is an error wrapping ErrRange
// ("integer out of range: '...'") instead of a clamped value.
func Int64(s string, base int) (int64, error) {
	mag, neg, err := parse(s, base)
	switch {
	case err != nil:
		return 0, err
	case neg && mag <= 1<<63:
		return int64(-mag), nil
	case !neg && mag <= math.MaxInt64:
		return int64(mag), nil
	}
	return 0, fmt.Errorf("%w: %s", ErrRange, pyrepr.Str(s))
}

// parse is int(s, base) as a sign and a magnitude; a magnitude beyond
// uint64 is reported as math.MaxUint64.
func parse(s string, base int) (mag uint64, neg bool, err error) {
	t := strings.TrimFunc(s, intSpace)
	if strings.HasPrefix(t, "+") || strings.HasPrefix(t, "-") {
		neg = t[0] == '-'
		t = t[1:]
	}
	if base == 8 && len(t) >= 2 && t[0] == '0' && (t[1] == 'o' || t[1] == 'O') {
		t = strings.TrimPrefix(t[2:], "_")
	}
	bad := func() (uint64, bool, error) {
		return 0, false, errors.New("invalid literal for int() with base " + strconv.Itoa(base) + ": " + pyrepr.Str(s))
	}
	if t == "" {
		return bad()
	}
	prevUnderscore := true
	for _, r := range t {
		if r == '_' {
			if prevUnderscore {
				return bad()
			}
			prevUnderscore = true
			continue
		}
		d := -1
		if r >= '0' && r <= '9' {
			d = int(r - '0')
		} else if unicode.Is(unicode.Nd, r) {
			d = ndValue(r)
		}
		if d < 0 || d >= base {
			return bad()
		}
		prevUnderscore = false
		hi, lo := bits.Mul64(mag, uint64(base))
		sum, carry := bits.Add64(lo, uint64(d), 0)
		if hi != 0 || carry != 0 {
			sum = math.MaxUint64 // keeps checking the rest of the literal
		}
		mag = sum
	}
	if prevUnderscore {
		return bad()
	}
	return mag, neg, nil
}

// Clamp is where huge integers are clamped: 2^62 on 64-bit platforms,
// 2^30 on 32-bit ones (GOARCH=arm), so it always fits an int.
const Clamp = int(^uint(0) >> 2)

// ndValue is the decimal value of a Unicode Nd digit.
func ndValue(r rune) int {
	for _, rt := range unicode.Nd.R16 {
		if uint16(r) >= rt.Lo && uint16(r) <= rt.Hi && r <= 0xffff {
			return int(uint16(r)-rt.Lo) % 10
		}
	}
	for _, rt := range unicode.Nd.R32 {
		if uint32(r) >= rt.Lo && uint32(r) <= rt.Hi {
			return int(uint32(r)-rt.Lo) % 10
		}
	}
	return -1
}

// IsSpace reports whether Python's str.isspace() is true for r.
func IsSpace(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0d, r >= 0x1c && r <= 0x20:
		return true
	case r < 0x80:
		return false
	}
	switch r {
	case 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// intSpace is the whitespace int() skips: IsSpace but for U+001C..U+001F
// (int() turns non-ASCII spaces into ' ', then skips only ASCII
// whitespace).
func intSpace(r rune) bool { return IsSpace(r) && (r < 0x1c || r > 0x1f) }

// Strip is Python's str.strip() with no arguments.
func Strip(s string) string {
	// ASCII ends (nearly every config value) need no rune decoding.
	i, j := 0, len(s)
	for i < j && s[i] < 0x80 && IsSpace(rune(s[i])) {
		i++
	}
	for j > i && s[j-1] < 0x80 && IsSpace(rune(s[j-1])) {
		j--
	}
	if (i < j && s[i] >= 0x80) || (j > i && s[j-1] >= 0x80) {
		return strings.TrimFunc(s[i:j], IsSpace)
	}
	return s[i:j]
}
