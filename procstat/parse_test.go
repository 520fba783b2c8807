package procstat

import (
	"strings"
	"testing"
)

// statLine builds a stat line with the given command, ppid, four times
// and rss; the other fields are copied from a real line.
func statLine(pid int, comm string, ppid int, ut, st, cut, cst, rss string) string {
	f := strings.Fields("S PPID 15598 5656 0 -1 4194304 97 0 0 0 UT ST CUT CST 20 0 1 0 59020 3133440 RSS 18446744073709551615 94834573824000 94834573843881 140734227494688 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0")
	f[1], f[11], f[12], f[13], f[14], f[21] = itoa(ppid), ut, st, cut, cst, rss
	return itoa(pid) + " (" + comm + ") " + strings.Join(f, " ") + "\n"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    proc
		wantErr string
	}{
		{"plain", statLine(42, "cat", 7, "3", "4", "5", "6", "379"), proc{pid: 42, ppid: 7, ticks: 18, rssPages: 379}, ""},
		{"comm with spaces and parens", statLine(42, "a) (b c) S 9", 7, "1", "0", "0", "0", "2"), proc{pid: 42, ppid: 7, ticks: 1, rssPages: 2}, ""},
		{"empty comm", statLine(1, "", 0, "0", "0", "0", "0", "0"), proc{pid: 1}, ""},
		{"no newline", strings.TrimSuffix(statLine(5, "x", 1, "1", "1", "1", "1", "1"), "\n"), proc{pid: 5, ppid: 1, ticks: 4, rssPages: 1}, ""},
		{"large times", statLine(5, "x", 1, "1000000000000", "1", "0", "0", "1"), proc{pid: 5, ppid: 1, ticks: 1000000000001, rssPages: 1}, ""},
		{"short line", "42 (cat) S 7 1 2 3\n", proc{}, "short stat line"},
		{"no comm", "42 cat S 7\n", proc{}, "no command name"},
		{"bad pid", "x4 (cat) S 7\n", proc{}, "bad pid"},
		{"pid 0", statLine(0, "x", 0, "0", "0", "0", "0", "0"), proc{}, "bad pid"},
		{"empty", "", proc{}, "no pid field"},
		{"bad ppid", strings.Replace(statLine(42, "cat", 7, "1", "1", "1", "1", "1"), ") S 7 ", ") S -7 ", 1), proc{}, "bad ppid"},
		{"negative time", statLine(42, "cat", 7, "1", "1", "-1", "1", "1"), proc{}, "bad time field 13"},
		{"bad rss", statLine(42, "cat", 7, "1", "1", "1", "1", "1x"), proc{}, "bad rss"},
		{"overflowing rss", statLine(42, "cat", 7, "1", "1", "1", "1", "99999999999999999999"), proc{}, "bad rss"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.line))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseStat(%q) error = %v, want %q", tc.line, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseStat(%q): %v", tc.line, err)
			}
			if got != tc.want {
				t.Fatalf("parseStat(%q) = %+v, want %+v", tc.line, got, tc.want)
			}
		})
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte(statLine(42, "cat", 7, "3", "4", "5", "6", "379")))
	f.Add([]byte(statLine(42, "a) (b", 7, "3", "4", "5", "6", "379")))
	f.Add([]byte("1 () S"))
	f.Fuzz(func(t *testing.T, line []byte) {
		p, err := parseStat(line)
		if err != nil {
			return
		}
		if p.pid <= 0 || p.ppid < 0 || p.rssPages < 0 {
			t.Fatalf("parseStat(%q) = %+v: out of range", line, p)
		}
	})
}
