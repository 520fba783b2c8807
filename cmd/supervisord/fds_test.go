package main

import (
	"os"
	"slices"
	"strconv"
	"testing"
)

// Python's child closes descriptors 3 and up before its exec: a program
// must not inherit what supervisord itself inherited, such as a launching
// script's pipe (whose reader would then wait for an EOF as long as the
// program runs) or an open file.
func TestChildrenInheritNoDescriptor(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := os.Open("/etc/hostname")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := newEnv(t, "", map[string]string{"idle": "[program:idle]\ncommand=/bin/sleep 1000\nstartsecs=0\n"})
	d := e.startForegroundWith([]*os.File{w, f}) // the daemon's descriptors 3 and 4, not close-on-exec
	defer stopDaemon(t, d)
	w.Close()
	infos := e.waitStates(map[string]string{"idle:idle": "RUNNING"})
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(infos["idle:idle"].PID) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []int
	for _, ent := range ents {
		fd, err := strconv.Atoi(ent.Name())
		if err != nil {
			t.Fatalf("/proc/<pid>/fd entry %q", ent.Name())
		}
		fds = append(fds, fd)
	}
	slices.Sort(fds)
	if !slices.Equal(fds, []int{0, 1, 2}) {
		t.Errorf("the program has descriptors %v, want only 0, 1 and 2 (as under Python's supervisord)", fds)
	}
}
