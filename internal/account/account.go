// Package account owns the group list supervisord gives a process whose
// user it changes: Python's drop_privileges sets the groups to the user's
// primary gid followed by every /etc/group entry that names the user as a
// member (grp.getgrall() order, duplicates kept).
package account

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// groupFile is read by Groups; tests point it elsewhere.
var groupFile = "/etc/group"

// Groups is the setgroups list for user name with primary gid: gid first,
// then the gid of each group that lists name as a member. An unreadable
// group file gives just gid.
func Groups(name string, gid int) []int {
	groups := []int{gid}
	f, err := os.Open(groupFile)
	if err != nil {
		return groups
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 4 {
			continue
		}
		for _, m := range strings.Split(fields[3], ",") {
			if m == name {
				if g, err := strconv.Atoi(fields[2]); err == nil {
					groups = append(groups, g)
				}
				break
			}
		}
	}
	return groups
}
