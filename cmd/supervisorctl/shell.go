package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/chzyer/readline"
	"golang.org/x/term"
)

// The interactive shell's terminal side, as Python's supervisorctl gets it
// from GNU readline: line editing, Ctrl-R history search, tab completion
// of command, group, process and help topic names, and history_file.
// Without a terminal on both stdin and stdout the shell reads plain lines.

// lineEditor reads the shell's lines from a terminal.
type lineEditor struct {
	rl *readline.Instance
	// history is GNU readline's history list: the lines read from
	// history_file, then every non-empty line typed, duplicates kept.
	history []string
}

// completerDelims are GNU readline's word delimiters as Python's readline
// module sets them, less ':', '*' and '-' (exec_cmdloop removes them so
// "group:process", "group:*" and names with dashes are one word).
const completerDelims = " \t\n`~!@#$%^&()=+[{]}\\|;'\",<>/?"

// isTerminal reports whether f is a file open on a terminal.
func isTerminal(f any) (*os.File, bool) {
	file, ok := f.(*os.File)
	return file, ok && term.IsTerminal(int(file.Fd()))
}

// newLineEditor returns an editor when stdin and stdout are terminals
// (Python's input() uses readline only then), else nil.
func (c *controller) newLineEditor(history []string) *lineEditor {
	in, ok := isTerminal(c.in)
	if !ok {
		return nil
	}
	out, ok := isTerminal(c.out)
	if !ok {
		return nil
	}
	e := &lineEditor{history: history}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:       c.opts.prompt + "> ",
		Stdin:        in,
		Stdout:       out,
		Stderr:       c.errOut,
		HistoryLimit: 1 << 20, // GNU readline keeps everything unless told
		AutoComplete: completer{c},
		// GNU readline shows nothing for Ctrl-C or Ctrl-D: only the line
		// ends ("\n" tells chzyer/readline to print no ^C or ^D)
		InterruptPrompt: "\n",
		EOFPrompt:       "\n",
		FuncGetWidth: func() int {
			w, _, err := term.GetSize(int(out.Fd()))
			if err != nil || w <= 0 {
				return 80
			}
			return w
		},
	})
	if err != nil {
		return nil
	}
	for _, l := range history {
		rl.Operation.SaveHistory(l)
	}
	e.rl = rl
	return e
}

// readLine shows prompt and returns the edited line; io.EOF for Ctrl-D on
// an empty line, errInterrupted for Ctrl-C. The editor has already ended
// the line on the screen in both cases.
func (e *lineEditor) readLine(prompt string) (string, error) {
	e.rl.SetPrompt(prompt)
	line, err := e.rl.Readline()
	switch {
	case errors.Is(err, readline.ErrInterrupt):
		return "", errInterrupted
	case err != nil:
		return "", io.EOF
	}
	if line != "" {
		e.history = append(e.history, line)
	}
	return line, nil
}

func (e *lineEditor) close() { e.rl.Close() }

// readHistory is readline.read_history_file: one entry per line. A file
// that cannot be read is an empty history, as Python ignores the IOError.
func readHistory(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 4096), 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	return lines
}

// writeHistory is readline.write_history_file, which Python's shell calls
// at exit: the whole list, one entry per line, replacing the file. Errors
// are ignored, as Python ignores the IOError.
func writeHistory(path string, lines []string) {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	os.WriteFile(path, []byte(b.String()), 0o666)
}

// completer is Controller.complete for the line editor.
type completer struct{ c *controller }

// Do returns the completions of the word before the cursor, as suffixes of
// it, and the word's length.
func (cp completer) Do(line []rune, pos int) ([][]rune, int) {
	before := string(line[:pos])
	text := before[strings.LastIndexAny(before, completerDelims)+1:]
	var out [][]rune
	for _, m := range cp.c.complete(text, string(line)) {
		out = append(out, []rune(m[len(text):]))
	}
	return out, len([]rune(text))
}

// vocab is the shell's command words in Controller.vocab's order: "help",
// then the plugin's do_ methods sorted (with gosupervisor's own).
var vocab = []string{"help", "add", "avail", "clear", "exit", "fg", "health", "maintail", "open", "pid",
	"quit", "reload", "remove", "reread", "restart", "rotate", "shutdown", "signal", "start", "status",
	"stop", "tail", "top", "update", "upgrade", "version"}

// complete is Controller.complete: the candidates for text, each with the
// space readline appends, given the whole line.
func (c *controller) complete(text, line string) []string {
	var names []string
	words := strings.Fields(line)
	switch {
	case strings.TrimSpace(line) == "",
		len(words) == 1 && !strings.HasSuffix(line, " "),
		strings.Contains("help", words[0]): // Python tests `action in ('help')`, a substring test
		names = vocab
	case words[0] == "add" || words[0] == "remove" || words[0] == "update":
		for _, info := range c.completeInfo() {
			if !contains(names, info.Group) {
				names = append(names, info.Group)
			}
		}
	case contains([]string{"clear", "fg", "pid", "restart", "signal", "start", "status", "stop", "tail",
		"health", "rotate"}, words[0]):
		for _, info := range c.completeInfo() {
			if strings.Contains(text, ":") || info.Name != info.Group {
				names = append(names, info.Group+":"+info.Name)
				if !contains(names, info.Group+":*") {
					names = append(names, info.Group+":*")
				}
			} else {
				names = append(names, info.Name)
			}
		}
	}
	var matches []string
	for _, n := range names {
		if strings.HasPrefix(n, text) {
			matches = append(matches, n+" ")
		}
	}
	return matches
}

// completeInfo is Controller._get_complete_info: getAllProcessInfo, asked
// once per command line however often Tab is pressed. A failure completes
// nothing, as the exception Python's completer raises is swallowed.
func (c *controller) completeInfo() []processInfo {
	if c.completeCache != nil {
		return *c.completeCache
	}
	var infos []processInfo
	s, err := c.supervisor()
	if err == nil {
		err = s.callInto(&infos, "supervisor.getAllProcessInfo")
		s.close()
	}
	if err != nil {
		return nil
	}
	c.completeCache = &infos
	return infos
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}
