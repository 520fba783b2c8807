// Package getopt is Python's getopt.getopt, which supervisord and
// supervisorctl parse their command lines with: options stop at the first
// non-option argument or "--", short options cluster ("-nc f"), long
// options may be abbreviated to a unique prefix, and the error texts are
// Python's.
package getopt

import (
	"fmt"
	"slices"
	"strings"
)

// Opt is one parsed option: Name is "-c" or "--configuration" (a long
// option always spelled out), Arg its argument ("" when it takes none).
type Opt struct {
	Name string
	Arg  string
}

// Spec is what getopt.getopt is given.
type Spec struct {
	// Short is Python's shortopts: letters, each followed by ':' when it
	// takes an argument ("h?c:v").
	Short string
	// Long is Python's longopts: names, with a trailing '=' when the
	// option takes an argument.
	Long []string
	// ExactLong are long options without an argument that match only when
	// spelled out in full, so they never make a prefix of a Python option
	// ambiguous (our own additions).
	ExactLong []string
}

// Parse returns the options and the remaining arguments.
func (s Spec) Parse(args []string) ([]Opt, []string, error) {
	var opts []Opt
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		if args[0] == "--" {
			return opts, args[1:], nil
		}
		if strings.HasPrefix(args[0], "--") {
			o, rest, err := s.long(args[0][2:], args[1:])
			if err != nil {
				return nil, nil, err
			}
			opts, args = append(opts, o), rest
			continue
		}
		var err error
		opts, args, err = s.shorts(opts, args[0][1:], args[1:])
		if err != nil {
			return nil, nil, err
		}
	}
	return opts, args, nil
}

// long is Python's do_longs and long_has_args.
func (s Spec) long(opt string, args []string) (Opt, []string, error) {
	var val *string
	if name, v, ok := strings.Cut(opt, "="); ok {
		opt, val = name, &v
	}
	if slices.Contains(s.ExactLong, opt) {
		if val != nil {
			return Opt{}, nil, fmt.Errorf("option --%s must not have an argument", opt)
		}
		return Opt{Name: "--" + opt}, args, nil
	}
	var poss []string
	for _, o := range s.Long {
		if strings.HasPrefix(o, opt) {
			poss = append(poss, o)
		}
	}
	if len(poss) == 0 {
		return Opt{}, nil, fmt.Errorf("option --%s not recognized", opt)
	}
	var full string
	switch {
	case slices.Contains(poss, opt):
		full = opt
	case slices.Contains(poss, opt+"="):
		full = opt + "="
	case len(poss) > 1:
		return Opt{}, nil, fmt.Errorf("option --%s not a unique prefix", opt)
	default:
		full = poss[0]
	}
	name, hasArg := strings.CutSuffix(full, "=")
	if !hasArg {
		if val != nil {
			return Opt{}, nil, fmt.Errorf("option --%s must not have an argument", name)
		}
		return Opt{Name: "--" + name}, args, nil
	}
	if val == nil {
		if len(args) == 0 {
			return Opt{}, nil, fmt.Errorf("option --%s requires argument", name)
		}
		val, args = &args[0], args[1:]
	}
	return Opt{Name: "--" + name, Arg: *val}, args, nil
}

// shorts is Python's do_shorts and short_has_arg for one "-xyz" word.
func (s Spec) shorts(opts []Opt, word string, args []string) ([]Opt, []string, error) {
	for word != "" {
		c := word[:1]
		word = word[1:]
		i := strings.Index(s.Short, c)
		if i < 0 || c == ":" {
			return nil, nil, fmt.Errorf("option -%s not recognized", c)
		}
		if i+1 >= len(s.Short) || s.Short[i+1] != ':' {
			opts = append(opts, Opt{Name: "-" + c})
			continue
		}
		if word == "" {
			if len(args) == 0 {
				return nil, nil, fmt.Errorf("option -%s requires argument", c)
			}
			word, args = args[0], args[1:]
		}
		return append(opts, Opt{Name: "-" + c, Arg: word}), args, nil
	}
	return opts, args, nil
}
