package logrot

import (
	"bytes"
	"testing"
)

// pyStripEscapes is a direct port of Python's dispatchers.stripEscapes,
// the reference for FuzzStripANSI.
func pyStripEscapes(s []byte) []byte {
	var result []byte
	show := true
	i := 0
	for i < len(s) {
		if !show && bytes.IndexByte([]byte(ansiTerminators), s[i]) >= 0 {
			show = true
		} else if show {
			n := bytes.Index(s[i:], []byte("\x1b["))
			if n == -1 {
				return append(result, s[i:]...)
			}
			result = append(result, s[i:i+n]...)
			i += n
			show = false
		}
		i++
	}
	return result
}

// FuzzStripANSI: stripping any input, split anywhere, equals Python's
// stripEscapes on the whole input.
func FuzzStripANSI(f *testing.F) {
	f.Add([]byte("\x1b[31mred\x1b[0m"), uint16(3))
	f.Add([]byte("a\x1b"), uint16(1))
	f.Add([]byte("\x1b\x1b[m\x1b"), uint16(2))
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		i := int(cut) % (len(in) + 1)
		var a ansiStripper
		got := append(a.strip(in[:i]), a.strip(in[i:])...)
		got = append(got, a.flush()...)
		if want := pyStripEscapes(in); !bytes.Equal(got, want) {
			t.Fatalf("strip(%q) split at %d = %q, Python gives %q", in, i, got, want)
		}
	})
}

// scanAll runs the capture scanner over chunks and returns what would be
// logged, what would be captured (per capture), and the segment count.
func scanAll(chunks [][]byte) (logged []byte, captured [][]byte) {
	var s captureScanner
	var cur []byte
	emit := func(seg segment) {
		switch {
		case seg.toggle && seg.capturing:
			cur = []byte{}
		case seg.toggle:
			captured = append(captured, cur)
			cur = nil
		case seg.capturing:
			cur = append(cur, seg.data...)
		default:
			logged = append(logged, seg.data...)
		}
	}
	for _, c := range chunks {
		s.scan(c, emit)
	}
	s.flush(emit)
	return logged, captured
}

// FuzzCaptureSplit: however the output is split into reads, capture mode
// logs and captures the same bytes, and nothing but the tokens is lost.
func FuzzCaptureSplit(f *testing.F) {
	f.Add([]byte("a<!--XSUPERVISOR:BEGIN-->b<!--XSUPERVISOR:END-->c"), uint16(5), uint16(30))
	f.Add([]byte("<!--XSUPERVISOR:BEGIN<!--XSUPERVISOR:BEGIN-->"), uint16(10), uint16(20))
	f.Fuzz(func(t *testing.T, in []byte, c1, c2 uint16) {
		i, j := int(c1)%(len(in)+1), int(c2)%(len(in)+1)
		if i > j {
			i, j = j, i
		}
		wantLog, wantCap := scanAll([][]byte{in})
		gotLog, gotCap := scanAll([][]byte{in[:i], in[i:j], in[j:]})
		if !bytes.Equal(gotLog, wantLog) || len(gotCap) != len(wantCap) {
			t.Fatalf("split %d,%d of %q: logged %q captures %q; whole: %q %q", i, j, in, gotLog, gotCap, wantLog, wantCap)
		}
		for k := range wantCap {
			if !bytes.Equal(gotCap[k], wantCap[k]) {
				t.Fatalf("split %d,%d of %q: capture %d %q, whole %q", i, j, in, k, gotCap[k], wantCap[k])
			}
		}
		// Accounting: logged + captured (+ an unterminated capture, which
		// Python also never logs) + tokens = input length.
		n := len(wantLog)
		for _, c := range wantCap {
			n += len(c)
		}
		if n > len(in) {
			t.Fatalf("more bytes out than in for %q", in)
		}
	})
}
