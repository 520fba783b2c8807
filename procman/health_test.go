package procman

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

func TestHealthRestartsAndReady(t *testing.T) {
	s, rec := newTestSupervisor(t, Options{})
	p := proc("flap", "sleep", "0.05", "exit", "0")
	p.Startsecs = 0
	p.Autorestart = config.AutorestartAlways
	q := proc("idle", "sleep", "30")
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddGroup(homogeneous(q)); err != nil {
		t.Fatal(err)
	}
	h, err := s.Health("flap")
	if err != nil || h.Restarts != 0 || h.Ready || h.Healthy || h.PID != 0 {
		t.Fatalf("fresh: %+v %v", h, err)
	}
	if _, _, err := s.Start(bg, "flap", true); err != nil {
		t.Fatal(err)
	}
	starts := func() int {
		n := 0
		for _, st := range rec.states("flap") {
			if st == "STARTING" {
				n++
			}
		}
		return n
	}
	rec.waitFor(t, "three spawns", 10*time.Second, func() bool { return starts() >= 3 })
	if _, _, err := s.Stop(bg, "flap", true); err != nil {
		t.Fatal(err)
	}
	h, _ = s.Health("flap")
	if want := starts() - 1; h.Restarts != want {
		t.Errorf("restarts %d after %d spawns (states %v)", h.Restarts, starts(), rec.states("flap"))
	}
	if h.Ready || h.Healthy || h.Name != "flap" || h.Group != "flap" {
		t.Errorf("stopped: %+v", h)
	}

	if _, _, err := s.Start(bg, "idle", true); err != nil {
		t.Fatal(err)
	}
	h, _ = s.Health("idle")
	if !h.Ready || !h.Healthy || h.PID == 0 || h.Restarts != 0 {
		t.Errorf("running: %+v", h)
	}
	all := s.AllHealth()
	if names := []string{all[0].Name, all[1].Name}; !slices.Equal(names, []string{"flap", "idle"}) {
		t.Errorf("AllHealth order %v", names)
	}
	for _, spec := range []string{"nope", "idle:*", "idle:nope"} {
		var e *Error
		if _, err := s.Health(spec); !errors.As(err, &e) || !errors.Is(err, ErrBadName) || e.Subject != spec {
			t.Errorf("Health(%q): %v", spec, err)
		}
	}
}
