// Command supervisorctl is the gosupervisor client: a drop-in for Python
// supervisor 4.2.5's supervisorctl. It owns the command line and config
// lookup (ClientOptions), the XML-RPC client over unix sockets, HTTP and
// HTTPS, every command of the default controller plugin with Python's
// output text and LSB exit statuses, log streaming (tail -f, maintail -f,
// fg), the interactive shell (on a terminal with line editing, history
// and completion, shell.go), and gosupervisor's own commands: top, health,
// rotate and status --json.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"golang.org/x/term"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}

// run is supervisorctl.main: it returns the exit status.
func run(argv []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	progname := "supervisorctl"
	if len(argv) > 0 {
		progname = argv[0]
		argv = argv[1:]
	}
	o, err := realize(argv, env{progname: progname, environ: environ}, stdout, stderr)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.Code
		}
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return exitInvalidArgs
	}
	c := &controller{opts: o, out: stdout, errOut: stderr, in: stdin}
	if len(o.args) > 0 {
		c.onecmd(strings.Join(o.args, " "))
		return c.exitStatus
	}
	if o.interactive {
		c.cmdloop()
	}
	return exitSuccess
}

// catchInterrupts makes Ctrl-C arrive on c.interrupts until the returned
// function is called: tail -f, fg and the shell prompt handle it as
// Python's KeyboardInterrupt handlers do. Elsewhere SIGINT keeps its
// default and ends the program, as an uncaught KeyboardInterrupt does.
// The shell catches them for its whole life; commands inside it then
// share its channel.
func (c *controller) catchInterrupts() func() {
	if c.interrupts != nil {
		return func() {}
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	c.interrupts = ch
	return func() {
		signal.Stop(ch)
		c.interrupts = nil
	}
}

// cmdloop is Controller.exec_cmdloop: "status" first, then one command
// per line until EOF, quit or exit. On a terminal the lines are read by
// the line editor (shell.go); history_file is read first and written back
// at the end, as Python's readline does.
//
// Ctrl-C leaves the shell with status 0, as Python's KeyboardInterrupt
// handler in exec_cmdloop does; during tail -f or fg it ends only those.
// A Ctrl-C during another command takes effect when that command is done
// (Python would abort it at once).
func (c *controller) cmdloop() {
	defer c.catchInterrupts()()
	var history []string
	if c.opts.historyFile != "" {
		history = readHistory(c.opts.historyFile)
	}
	c.editor = c.newLineEditor(history)
	defer func() {
		if c.editor != nil {
			history = c.editor.history
			c.editor.close()
			c.editor = nil
		}
		if c.opts.historyFile != "" {
			writeHistory(c.opts.historyFile, history)
		}
	}()
	line := "status"
	for {
		if c.onecmd(line) {
			return
		}
		select {
		case <-c.interrupts:
			c.output("")
			return
		default:
		}
		l, err := c.input(c.opts.prompt+"> ", true)
		switch {
		case errors.Is(err, errInterrupted):
			if c.editor == nil {
				c.output("")
			}
			return
		case err != nil:
			l = "EOF"
		}
		line = l
	}
}

// getpass is getpass.getpass: the prompt and the answer go through the
// terminal with echo off; without a terminal it warns and reads stdin.
func (c *controller) getpass(prompt string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		// getpass.fallback_getpass, warning included
		io.WriteString(c.errOut, pyGetpassFile+":91: GetPassWarning: Can not control echo on the terminal.\n"+
			"  passwd = fallback_getpass(prompt, stream)\n"+
			"Warning: Password input may be echoed.\n"+prompt)
		line, err := c.readLine(false)
		if err != nil {
			return "", err
		}
		io.WriteString(c.errOut, "\n")
		return line, nil
	}
	defer tty.Close()
	io.WriteString(tty, prompt)
	// echo off, the line read in the terminal's canonical mode
	pw, err := term.ReadPassword(int(tty.Fd()))
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	io.WriteString(tty, "\n")
	return string(pw), nil
}
