package account

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestGroupsFile(t *testing.T) {
	groupFile = filepath.Join(t.TempDir(), "group")
	t.Cleanup(func() { groupFile = "/etc/group" })
	const text = "root:x:0:\nwheel:x:10:root,alice\nbad line\naudio:x:29:bob,alice\nalice:x:1000:\n" +
		"staff:x:50:alicex,xalice\nodd:x:notanumber:alice\nself:x:1000:alice\n"
	if err := os.WriteFile(groupFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		gid  int
		want []int
	}{
		{"alice", 1000, []int{1000, 10, 29, 1000}},
		{"root", 0, []int{0, 10}},
		{"nobody", 65534, []int{65534}},
	} {
		if got := Groups(c.name, c.gid); !slices.Equal(got, c.want) {
			t.Errorf("Groups(%q, %d) = %v, want %v", c.name, c.gid, got, c.want)
		}
	}
	groupFile = filepath.Join(t.TempDir(), "missing")
	if got := Groups("alice", 7); !slices.Equal(got, []int{7}) {
		t.Errorf("no group file: %v", got)
	}
}

// TestGroupsPython compares Groups with drop_privileges' list for every
// account of this machine.
func TestGroupsPython(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	out, err := exec.Command("/usr/bin/python3", "-c", `
import grp, json, pwd
print(json.dumps([[p.pw_name, p.pw_gid, [p.pw_gid] + [g.gr_gid for g in grp.getgrall() if p.pw_name in g.gr_mem]] for p in pwd.getpwall()]))
`).Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []struct {
		Name   string
		GID    int
		Groups []int
	}
	var raw [][]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	for _, r := range raw {
		var w struct {
			Name   string
			GID    int
			Groups []int
		}
		json.Unmarshal(r[0], &w.Name)
		json.Unmarshal(r[1], &w.GID)
		json.Unmarshal(r[2], &w.Groups)
		want = append(want, w)
	}
	if len(want) == 0 {
		t.Fatal("no accounts")
	}
	for _, w := range want {
		if got := Groups(w.Name, w.GID); !slices.Equal(got, w.Groups) {
			t.Errorf("%s: %v, want %v", w.Name, got, w.Groups)
		}
	}
}
