package config

// procExpansions is the dict processes() builds for one [program:x]
// section: the common names, then (from the first update with the
// environment on) the ENV_ names of supervisord's environment, then the
// names set after. It behaves as the Python dict that is updated with the
// environment on every process_num, but does not copy the environment into
// each program's dict: at thousands of programs that copy was most of a
// config load's allocations.
type procExpansions struct {
	own   *expansions       // every name that is not an environment name
	env   *expansions       // supervisord's ENV_ names (nil before the first update)
	envAt int               // where env's names sit among own's (dict order)
	over  map[string]expVal // environment names set since the last update
}

func newProcExpansions() *procExpansions {
	return &procExpansions{own: newExpansionsSize(8)}
}

func (e *procExpansions) setStr(k, v string) { e.set(k, expVal{s: v}) }
func (e *procExpansions) setInt(k string, v int) {
	e.set(k, expVal{i: v, isInt: true})
}

func (e *procExpansions) set(k string, v expVal) {
	if e.env != nil {
		if _, ok := e.env.vals[k]; ok {
			if e.over == nil {
				e.over = map[string]expVal{}
			}
			e.over[k] = v
			return
		}
	}
	e.own.set(k, v)
}

// updateEnv is dict.update(env); env is the same on every call and shares
// no name with what was set before the first call (its names start with
// ENV_, the common names do not).
func (e *procExpansions) updateEnv(env *expansions) {
	if e.env == nil {
		e.env = env
		e.envAt = len(e.own.keys)
	}
	clear(e.over)
}

func (e *procExpansions) get(k string) (expVal, bool) {
	if e.env != nil {
		if v, ok := e.over[k]; ok {
			return v, true
		}
		if v, ok := e.env.vals[k]; ok {
			return v, true
		}
	}
	return e.own.get(k)
}

func (e *procExpansions) names() []string {
	if e.env == nil {
		return e.own.keys
	}
	out := make([]string, 0, len(e.own.keys)+len(e.env.keys))
	out = append(out, e.own.keys[:e.envAt]...)
	out = append(out, e.env.keys...)
	return append(out, e.own.keys[e.envAt:]...)
}

func (e *procExpansions) repr() string { return dictRepr(e) }
