package procman

import (
	"strings"

	"github.com/gosupervisor/gosupervisor/config"
)

type envVar struct{ key, value string }

func fromConfigEnv(e config.Environment) []envVar {
	out := make([]envVar, len(e))
	for i, v := range e {
		out[i] = envVar{v.Key, v.Value}
	}
	return out
}

// childEnv builds a child's environment as Python's _spawn_as_child does:
// supervisord's environment, SUPERVISOR_ENABLED=1, SUPERVISOR_SERVER_URL
// (when known), SUPERVISOR_PROCESS_NAME, SUPERVISOR_GROUP_NAME, then the
// program's environment. A later key replaces an earlier one in place.
func childEnv(base []string, serverURL, process, group string, program []envVar) []string {
	vars := make([]envVar, 0, len(base)+4+len(program))
	index := make(map[string]int, len(base)+4+len(program))
	set := func(k, v string) {
		if i, ok := index[k]; ok {
			vars[i].value = v
			return
		}
		index[k] = len(vars)
		vars = append(vars, envVar{k, v})
	}
	for _, kv := range base {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		set(k, v)
	}
	set("SUPERVISOR_ENABLED", "1")
	if serverURL != "" {
		set("SUPERVISOR_SERVER_URL", serverURL)
	}
	set("SUPERVISOR_PROCESS_NAME", process)
	set("SUPERVISOR_GROUP_NAME", group)
	for _, v := range program {
		set(v.key, v.value)
	}
	out := make([]string, len(vars))
	for i, v := range vars {
		out[i] = v.key + "=" + v.value
	}
	return out
}
