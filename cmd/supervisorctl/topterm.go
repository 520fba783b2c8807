package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// top's terminal: raw mode on the alternate screen, keys and window size
// in, a redraw of the model's view after each message. It replaces
// bubbletea, whose package init asked every terminal supervisorctl ran on
// for its background colour (an escape sequence written to the tty, and
// up to 5 s of waiting where nothing answers, as in script(1) or pexpect)
// before any command ran.

// topCmd is work top does off the screen loop (an RPC, a timer); its
// result is the next message, nil for none. done closes when top ends.
type topCmd func(done <-chan struct{}) any

// The messages top's loop hands the model besides the commands' results.
type (
	keyMsg  string // a key: "q", "up", "esc", "ctrl+c", ...
	sizeMsg struct{ width, height int }
	quitMsg struct{}
)

// quit ends top.
func quit(<-chan struct{}) any { return quitMsg{} }

// runTop runs m on the terminal in/out until a command answers quitMsg.
func runTop(m *topModel, in, out *os.File) error {
	fd := int(in.Fd())
	saved, err := term.MakeRaw(fd)
	if err != nil {
		return fmt.Errorf("raw mode: %w", err)
	}
	defer term.Restore(fd, saved)
	out.WriteString("\x1b[?1049h\x1b[?25l") // alternate screen, no cursor
	defer out.WriteString("\x1b[?25h\x1b[?1049l")

	msgs := make(chan any)
	done := make(chan struct{})
	run := func(cmds []topCmd) {
		for _, cmd := range cmds {
			if cmd == nil {
				continue
			}
			go func() {
				if v := cmd(done); v != nil {
					select {
					case msgs <- v:
					case <-done:
					}
				}
			}()
		}
	}
	// the key reader and the resize watcher are waited for: a key read
	// after top ends belongs to whatever reads the terminal next
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(done)
	wg.Add(2)
	go func() {
		defer wg.Done()
		readKeys(fd, msgs, done)
	}()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	size := func() any {
		w, h, err := term.GetSize(int(out.Fd()))
		if err != nil {
			return nil
		}
		return sizeMsg{w, h}
	}
	go func() {
		defer wg.Done()
		for {
			select {
			case <-winch:
				if v := size(); v != nil {
					select {
					case msgs <- v:
					case <-done:
						return
					}
				}
			case <-done:
				return
			}
		}
	}()
	if v := size(); v != nil {
		m.update(v)
	}
	run(m.init())
	draw(out, m.View(), m.width, m.height)
	for msg := range msgs {
		if _, ok := msg.(quitMsg); ok {
			return nil
		}
		run(m.update(msg))
		draw(out, m.View(), m.width, m.height)
	}
	return nil
}

// draw writes view over the screen from its top left corner, each line cut
// to width and the lines to height (as bubbletea's renderer does), the
// rest of each line and of the screen cleared.
func draw(out *os.File, view string, width, height int) {
	var b strings.Builder
	b.WriteString("\x1b[H")
	for i, line := range strings.Split(view, "\n") {
		if height > 0 && i >= height {
			break
		}
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString(cutWidth(line, width))
		b.WriteString("\x1b[K")
	}
	b.WriteString("\x1b[J")
	out.WriteString(b.String())
}

// cutWidth cuts s to n characters (n <= 0: no limit).
func cutWidth(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// readKeys sends the keys typed on fd as keyMsgs until done closes. It
// waits for input with select(2) in short turns, so it never sits in a
// read when top ends.
func readKeys(fd int, msgs chan<- any, done <-chan struct{}) {
	buf := make([]byte, 256)
	for {
		select {
		case <-done:
			return
		default:
		}
		var rd unix.FdSet
		rd.Set(fd)
		tv := unix.NsecToTimeval((50 * time.Millisecond).Nanoseconds())
		n, err := unix.Select(fd+1, &rd, nil, nil, &tv)
		if errors.Is(err, unix.EINTR) || err == nil && n == 0 {
			continue
		}
		if err != nil {
			return
		}
		n, err = unix.Read(fd, buf)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
			continue
		}
		if err != nil || n == 0 {
			return
		}
		for _, k := range parseKeys(buf[:n]) {
			select {
			case msgs <- keyMsg(k):
			case <-done:
				return
			}
		}
	}
}

// csiKeys names the cursor keys top reads, by the final byte (and
// parameter) of their escape sequences.
var csiKeys = map[string]string{
	"A": "up", "B": "down", "C": "right", "D": "left", "H": "home", "F": "end",
	"1~": "home", "7~": "home", "4~": "end", "8~": "end",
}

// parseKeys splits what one read got into keys: control characters,
// characters, and the cursor keys' escape sequences; a lone ESC is "esc".
func parseKeys(b []byte) []string {
	var keys []string
	for len(b) > 0 {
		switch c := b[0]; {
		case c == 0x1b:
			if len(b) == 1 {
				keys = append(keys, "esc")
				return keys
			}
			if b[1] != '[' && b[1] != 'O' {
				b = b[2:] // ESC then a key: alt+key, which top does not read
				continue
			}
			i := 2
			for i < len(b) && (b[i] < 0x40 || b[i] > 0x7e) {
				i++
			}
			if i == len(b) {
				return keys // a cut sequence: dropped
			}
			if k, ok := csiKeys[string(b[2:i+1])]; ok {
				keys = append(keys, k)
			}
			b = b[i+1:]
		case c == 0x03:
			keys = append(keys, "ctrl+c")
			b = b[1:]
		case c < 0x20 || c == 0x7f:
			b = b[1:]
		default:
			r, size := utf8.DecodeRune(b)
			keys = append(keys, string(r))
			b = b[size:]
		}
	}
	return keys
}
