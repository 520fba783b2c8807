package events

import (
	"slices"
	"strings"
	"testing"
)

// FuzzListenerOutput feeds arbitrary listener output, cut at arbitrary
// points, between published events, and checks that no event is lost or
// duplicated: published = processed + discarded + buffered + in flight.
func FuzzListenerOutput(f *testing.F) {
	f.Add([]byte("READY\nRESULT 2\nOKREADY\nRESULT 4\nFAILREADY\n"), []byte{3, 9, 1})
	f.Add([]byte("READY\nRESULT 0\nREADY\nRESULT x\n"), []byte{6, 0, 12})
	f.Add([]byte("RESULT 2\nOK"), []byte{})
	f.Fuzz(func(t *testing.T, out []byte, cuts []byte) {
		h := newHarness(t)
		p, _ := h.pool("p", 4, []Type{REMOTE_COMMUNICATION}, "l1")
		pid := h.start(p, "l1")
		published := 0
		for _, c := range cuts {
			n := int(c) % (len(out) + 1)
			p.Feed("l1", pid, out[:n])
			out = out[n:]
			h.remote("x")
			published++
		}
		p.Feed("l1", pid, out)
		st := p.Status()
		var processed, discarded int
		for _, l := range h.log.take() {
			switch {
			case l == "DEBG l1: event was processed":
				processed++
			case strings.HasPrefix(l, "ERRO pool p event buffer overflowed"):
				discarded++
			}
		}
		inFlight := 0
		if ev := st.Listeners[0].Event; ev >= 0 {
			inFlight = 1
			if slices.Contains(st.Buffered, ev) {
				t.Fatalf("event %d both in flight and buffered", ev)
			}
		}
		sorted := slices.Clone(st.Buffered)
		slices.Sort(sorted)
		if len(slices.Compact(sorted)) != len(st.Buffered) {
			t.Fatalf("duplicate buffered events %v", st.Buffered)
		}
		if got := processed + discarded + len(st.Buffered) + inFlight; got != published {
			t.Fatalf("published %d, accounted %d (processed %d discarded %d buffered %v in flight %d)",
				published, got, processed, discarded, st.Buffered, inFlight)
		}
	})
}
