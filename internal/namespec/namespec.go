// Package namespec owns Python supervisor's names for processes: a
// namespec is "group:process", or the process name alone when it is its
// group's name (supervisor.options.make_namespec and split_namespec). The
// daemon (procman, rpc, webui), config's messages and supervisorctl all
// name processes through it.
package namespec

import "strings"

// Make is make_namespec: the process name alone when it is its group's
// name, else "group:process".
func Make(group, process string) string {
	if group == process {
		return process
	}
	return group + ":" + process
}

// Split is split_namespec: "g:p" is (g, p); "g:" and "g:*" are (g, ""),
// the whole group (Python's None); a spec without a colon, "p", is (p, p).
// Only the first colon splits: "g:p:q" is (g, "p:q").
func Split(spec string) (group, process string) {
	g, p, ok := strings.Cut(spec, ":")
	if !ok {
		return spec, spec
	}
	if p == "*" {
		p = ""
	}
	return g, p
}
