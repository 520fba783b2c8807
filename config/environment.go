package config

import (
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/shlex"
)

// dictOfKeyValuePairs is datatypes.dict_of_key_value_pairs.
func dictOfKeyValuePairs(arg string) (Environment, error) {
	toks, err := shlex.Tokens(arg)
	if err != nil {
		return nil, errorf(err.Error())
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
