package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// TestTop drives top in a pseudo-terminal and reads the screen: over the
// unix socket (with the health columns), https, and http to Python's
// daemon (without them).
func TestTop(t *testing.T) {
	needBinaries(t)
	t.Run("unix socket", func(t *testing.T) {
		d := newDaemon(t, "go")
		text, err := os.ReadFile(d.conf)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(d.conf, append(text, gosupSection...), 0o644); err != nil {
			t.Fatal(err)
		}
		d.start()
		testTop(t, d, []string{"-c", d.conf}, true)
		// from the shell, and back to it
		p := startOnPty(t, ourCtl, d.dir, "-c", d.conf)
		p.waitLine(prompt)
		p.send("top\r")
		p.waitFor("top", func(s string) bool {
			return strings.Contains(s, "supervisorctl top") && rowRe("sleeper", "RUNNING").MatchString(s)
		})
		p.send("q")
		p.waitFor("the shell again", func(s string) bool { return !strings.Contains(s, "supervisorctl top") })
		p.waitLine(prompt)
		p.send("version\r")
		p.waitFor("version", func(s string) bool { return regexp.MustCompile(`(?m)^\d+\.\d+`).MatchString(s) })
		p.send("\x04")
		if code := p.wait(); code != 0 {
			t.Errorf("shell after top: exit %d", code)
		}
		d.stop()
	})
	t.Run("https", func(t *testing.T) {
		d, files := tlsDaemon(t)
		testTop(t, d, []string{"-s", fmt.Sprintf("https://localhost:%d", d.port), "-u", "user", "-p", "pw",
			"--tls_ca", files.ca, "--tls_cert", files.cert, "--tls_key", files.key}, true)
		d.stop()
	})
	t.Run("http python", func(t *testing.T) {
		if _, err := os.Stat(pyDaemon); err != nil {
			t.Skip("Python supervisord not installed")
		}
		d := newDaemon(t, "python")
		d.start()
		testTop(t, d, []string{"-s", fmt.Sprintf("http://127.0.0.1:%d", d.port), "-u", "user", "-p", "pw"}, false)
		d.stop()
	})
	assertNoChildren(t)
}

// selectedRow is the name on the row top marks as selected.
func selectedRow(scr string) string {
	for _, l := range strings.Split(scr, "\n") {
		if rest, ok := strings.CutPrefix(l, "> "); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

// selectTop moves top's selection to name with the j and k keys.
func selectTop(p *ptyProc, name string) {
	p.t.Helper()
	for range 30 {
		cur := selectedRow(p.scr.Text())
		if cur == name {
			return
		}
		key := "j"
		if name < cur {
			key = "k"
		}
		p.send(key)
		p.waitFor("the selection to move from "+cur, func(s string) bool { return selectedRow(s) != cur })
	}
	p.t.Fatalf("could not select %s; screen:\n%s", name, p.scr.Text())
}

func rowRe(name, rest string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^[> ] ` + regexp.QuoteMeta(name) + ` +` + rest)
}

func testTop(t *testing.T, d *testDaemon, args []string, health bool) {
	p := startOnPty(t, ourCtl, d.dir, append(args, "top")...)
	p.waitFor("sleeper running", func(s string) bool {
		return strings.Contains(s, "supervisorctl top") && rowRe("sleeper", `RUNNING +\d+ +0:00:\d\d`).MatchString(s)
	})
	scr := p.scr.Text()
	if health {
		if !strings.Contains(scr, "RESTARTS") || !rowRe("sleeper", `RUNNING +\d+ +[0-9:]+ +0 +\S+ +[0-9.]+s +[0-9.]+[KM] +ok`).MatchString(scr) ||
			!rowRe("fails", `FATAL +- +- +1 .* no`).MatchString(scr) {
			t.Errorf("health columns missing:\n%s", scr)
		}
	} else if strings.Contains(scr, "RESTARTS") || !strings.Contains(scr, "DESCRIPTION") || !rowRe("manual", `STOPPED +- +- +Not started`).MatchString(scr) {
		t.Errorf("a server without health should show descriptions:\n%s", scr)
	}
	// it refreshes: the update time changes
	stamp := regexp.MustCompile(`updated (\d\d:\d\d:\d\d)`)
	first := stamp.FindStringSubmatch(scr)
	if first == nil {
		t.Fatalf("no update time:\n%s", scr)
	}
	p.waitFor("a later update", func(s string) bool {
		m := stamp.FindStringSubmatch(s)
		return m != nil && m[1] != first[1]
	})
	// a change made elsewhere appears
	if _, err := d.call("supervisor.startProcess", "manual"); err != nil {
		t.Fatal(err)
	}
	p.waitFor("manual running", func(s string) bool { return rowRe("manual", `RUNNING +\d+`).MatchString(s) })
	if _, err := d.call("supervisor.stopProcess", "manual"); err != nil {
		t.Fatal(err)
	}
	p.waitFor("manual stopped", func(s string) bool { return rowRe("manual", `STOPPED`).MatchString(s) })

	// keys act on the selected process
	selectTop(p, "sleeper")
	p.send("x")
	p.waitFor("sleeper stopped", func(s string) bool {
		return rowRe("sleeper", `STOPPED`).MatchString(s) && strings.Contains(s, "sleeper: stopped")
	})
	if st, err := d.states(); err != nil || st["sleeper"] != "STOPPED" {
		t.Errorf("after x the daemon has sleeper %s (%v)", st["sleeper"], err)
	}
	p.send("s")
	p.waitFor("sleeper started", func(s string) bool {
		return rowRe("sleeper", `RUNNING +\d+`).MatchString(s) && strings.Contains(s, "sleeper: started")
	})
	before := rowRe("sleeper", `RUNNING +(\d+)`).FindStringSubmatch(p.scr.Text())
	p.send("r")
	p.waitFor("sleeper restarted", func(s string) bool {
		m := rowRe("sleeper", `RUNNING +(\d+)`).FindStringSubmatch(s)
		return m != nil && m[1] != before[1] && strings.Contains(s, "sleeper: stopped; sleeper: started")
	})
	// the cursor keys as a terminal sends them
	p.send("\x1b[B")
	p.waitFor("the selection below sleeper", func(s string) bool { return selectedRow(s) > "sleeper" })
	p.send("\x1b[A")
	p.waitFor("sleeper selected again", func(s string) bool { return selectedRow(s) == "sleeper" })
	selectTop(p, "talker")
	p.send("t")
	p.waitFor("talker's log", func(s string) bool { return strings.Contains(s, "tail talker") && strings.Contains(s, "out-line") })
	p.send("q")
	p.waitFor("the list again", func(s string) bool { return strings.Contains(s, "  NAME") })
	p.send("t")
	p.waitFor("talker's log", func(s string) bool { return strings.Contains(s, "tail talker") })
	p.send("\x1b") // Esc
	p.waitFor("the list again", func(s string) bool { return strings.Contains(s, "  NAME") })
	// a smaller terminal: the screen fits it, the selection stays shown
	p.resize(12, 60)
	p.waitFor("the screen in 12x60", func(s string) bool {
		lines := strings.Split(s, "\n")
		for _, l := range lines {
			if utf8.RuneCountInString(l) > 60 {
				return false
			}
		}
		return len(lines) <= 12 && strings.HasPrefix(s, "supervisorctl top") && selectedRow(s) == "talker" &&
			strings.Contains(lines[len(lines)-1], "s start  x stop")
	})
	p.resize(ptyRows, ptyCols)
	p.waitFor("the screen in full size", func(s string) bool {
		return strings.Contains(s, "HEALTH") || strings.Contains(s, "DESCRIPTION")
	})
	// sort by state: FATAL first
	p.send("o")
	p.waitFor("sorted by state", func(s string) bool {
		lines := strings.Split(s, "\n")
		return strings.Contains(s, "sort (state)") && len(lines) > 2 && strings.Contains(lines[2], "fails")
	})
	p.send("q")
	if code := p.wait(); code != 0 {
		t.Errorf("top exit %d", code)
	}
}

// resize gives p's terminal a new size; the kernel tells the program
// with SIGWINCH.
func (p *ptyProc) resize(rows, cols int) {
	p.t.Helper()
	if err := unix.IoctlSetWinsize(int(p.master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(rows), Col: uint16(cols)}); err != nil {
		p.t.Fatalf("TIOCSWINSZ: %v", err)
	}
}

// TestNoTerminalQuery: a command on a terminal writes its output and
// nothing else, and exits without waiting for the terminal. (bubbletea
// v1's package init asked the terminal for its background colour,
// "ESC]11;?" and "ESC[6n", before any command ran, and waited up to 5 s
// for an answer a pty like this one never gives; v2, which top uses, asks
// nothing until a program runs.) Nothing here answers the terminal, so a
// query would show in the bytes written.
func TestNoTerminalQuery(t *testing.T) {
	needBinaries(t)
	conf := cannedServer(t, 0, map[string][]byte{"supervisor.getSupervisorVersion": valueAnswer("<string>4.2.5</string>")}, nil)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "exit"}, "exit\tExit the supervisor shell."},
		{[]string{"version"}, "4.2.5"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			p := startOnPty(t, ourCtl, t.TempDir(), append([]string{"-c", conf}, tt.args...)...)
			if code := p.wait(); code != 0 {
				t.Fatalf("exit %d: %q", code, p.scr.Raw())
			}
			<-p.readDone
			raw := p.scr.Raw()
			if strings.Contains(raw, "\x1b") {
				t.Errorf("an escape sequence on the terminal: %q", raw)
			}
			if !strings.Contains(raw, tt.want) {
				t.Errorf("output %q: want %q", raw, tt.want)
			}
		})
	}
}
