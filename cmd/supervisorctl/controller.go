package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/xmlrpcvalue"
)

// LSB exit statuses used by supervisorctl 4.2.5.
const (
	exitSuccess            = 0
	exitGeneric            = 1
	exitInvalidArgs        = 2
	exitUnimplemented      = 3
	exitInsufficientPrivs  = 4
	exitNotInstalled       = 5
	exitNotRunning         = 7
	statusExitNotRunning   = 3
	statusExitUnknown      = 4
	supervisorAPIVersion   = "3.0"
	pySupervisorXMLRPCFile = "/usr/lib/python3/dist-packages/supervisor/xmlrpc.py"
	pySupervisorctlFile    = "/usr/lib/python3/dist-packages/supervisor/supervisorctl.py"
	pyXMLRPCClientFile     = "/usr/lib/python3.11/xmlrpc/client.py"
	pySocketFile           = "/usr/lib/python3.11/socket.py"
	pyGetpassFile          = "/usr/lib/python3.11/getpass.py"
)

// controller is supervisorctl's Controller plus its default plugin: it
// runs one command line at a time and keeps the exit status.
type controller struct {
	opts       *options
	out        io.Writer
	errOut     io.Writer
	in         io.Reader
	exitStatus int
	// interrupts delivers SIGINT while a command streams (tail -f, fg)
	// or waits for a line; nil when not interruptible.
	interrupts <-chan os.Signal
	// the stdin reader: requests, answers, and whether an answer is due
	lineReq     chan struct{}
	lines       chan lineResult
	linePending bool
	// editor is the shell's line editor on a terminal, nil otherwise
	editor *lineEditor
	// editorEOF: the editor read Ctrl-D and already ended the line
	editorEOF bool
	// completeCache is the process list completion fetched for the
	// current command line (Controller._complete_info)
	completeCache *[]processInfo
}

type lineResult struct {
	line string
	err  error
}

// errInterrupted is a Ctrl-C while waiting (Python's KeyboardInterrupt).
var errInterrupted = errors.New("interrupted")

// readLine returns the next line of stdin without its newline, io.EOF at
// the end, or errInterrupted on Ctrl-C. One goroutine reads stdin, one
// line per request and never ahead (getpass may read the terminal
// directly next); a line whose reader was interrupted is kept for the
// next call.
func (c *controller) readLine(interruptible bool) (string, error) {
	if c.lines == nil {
		c.lineReq = make(chan struct{})
		c.lines = make(chan lineResult)
		go func(req <-chan struct{}, res chan<- lineResult) {
			r := bufio.NewReader(c.in)
			eof := false
			for range req {
				if eof {
					res <- lineResult{err: io.EOF}
					continue
				}
				l, err := r.ReadString('\n')
				if err != nil && (err != io.EOF || l == "") {
					eof = true
					res <- lineResult{err: io.EOF}
					continue
				}
				res <- lineResult{line: strings.TrimSuffix(l, "\n")}
			}
		}(c.lineReq, c.lines)
	}
	if !c.linePending {
		c.lineReq <- struct{}{}
		c.linePending = true
	}
	var intr <-chan os.Signal
	if interruptible {
		intr = c.interrupts
	}
	select {
	case r := <-c.lines:
		c.linePending = false
		return r.line, r.err
	case <-intr:
		return "", errInterrupted
	}
}

func (c *controller) output(s string) { io.WriteString(c.out, s+"\n") }

// input is Python's input(prompt): the prompt goes to stdout, the line
// is read from stdin without its newline; io.EOF at end of input. In the
// shell on a terminal the line editor reads it (and Ctrl-C there is
// errInterrupted, as readline raises KeyboardInterrupt); otherwise Ctrl-C
// interrupts only when interruptible.
func (c *controller) input(prompt string, interruptible bool) (string, error) {
	if c.editor != nil {
		l, err := c.editor.readLine(prompt)
		if err == io.EOF {
			c.editorEOF = true
		}
		return l, err
	}
	io.WriteString(c.out, prompt)
	return c.readLine(interruptible)
}

// rawInput is input(prompt) where Ctrl-C is not caught.
func (c *controller) rawInput(prompt string) (string, error) { return c.input(prompt, false) }

// supervisor returns a client for the current server URL; like Python's
// getServerProxy it is created afresh for every command.
func (c *controller) supervisor() (*rpcClient, error) {
	return newRPCClient(c.opts.serverURL, c.opts.username, c.opts.password, c.opts.tls)
}

// upSupervisor is upcheck followed by get_supervisor, as most commands
// begin: nil when the daemon is not up (upcheck has said why) or on error.
func (c *controller) upSupervisor() (*rpcClient, error) {
	up, err := c.upcheck()
	if err != nil || !up {
		return nil, err
	}
	return c.supervisor()
}

// statusSupervisor is upSupervisor for status and health: a daemon that
// is not up leaves exit status 4 (do_status's LSB status UNKNOWN).
func (c *controller) statusSupervisor() (*rpcClient, error) {
	s, err := c.upSupervisor()
	if s == nil && err == nil {
		c.exitStatus = statusExitUnknown
	}
	return s, err
}

// setExitStatusFromFault is Controller.set_exitstatus_from_xmlrpc_fault.
func (c *controller) setExitStatusFromFault(code, ignored int) {
	switch code {
	case ignored, faults.Success:
	case faults.SpawnError, faults.AbnormalTermination, faults.NotRunning:
		c.exitStatus = exitNotRunning
	default:
		c.exitStatus = exitGeneric
	}
}

// errnoOf returns the errno of a connection failure.
func errnoOf(err error) (syscall.Errno, bool) {
	var de *dialError
	if !errors.As(err, &de) {
		return 0, false
	}
	var en syscall.Errno
	if errors.As(de.Err, &en) {
		return en, true
	}
	return 0, false
}

// upcheck is Controller.upcheck: getVersion must answer 3.0. It returns
// false (with the message written) when the command should not go on, or
// an error to report as an uncaught exception.
func (c *controller) upcheck() (bool, error) {
	s, err := c.supervisor()
	if err != nil {
		return false, err
	}
	defer s.close()
	api, err := s.call("supervisor.getVersion")
	if err != nil {
		var f *rpcFault
		if errors.As(err, &f) {
			if f.Code == faults.UnknownMethod {
				c.output("Sorry, supervisord responded but did not recognize " +
					"the supervisor namespace commands that supervisorctl " +
					"uses to control it.  Please check that the " +
					"[rpcinterface:supervisor] section is enabled in the " +
					"configuration file (see sample.conf).")
				c.exitStatus = exitUnimplemented
				return false, nil
			}
			c.exitStatus = exitGeneric
			return false, err
		}
		if en, ok := errnoOf(err); ok {
			switch en {
			case syscall.ECONNREFUSED:
				c.output(c.opts.serverURL + " refused connection")
				c.exitStatus = exitInsufficientPrivs
				return false, nil
			case syscall.ENOENT:
				c.output(c.opts.serverURL + " no such file")
				c.exitStatus = exitNotRunning
				return false, nil
			}
			c.exitStatus = exitGeneric
		}
		return false, err
	}
	if api != supervisorAPIVersion {
		c.output(fmt.Sprintf("Sorry, this version of supervisorctl expects to "+
			"talk to a server with API version %s, but the "+
			"remote version is %s.", supervisorAPIVersion, xmlrpcvalue.Str(api)))
		c.exitStatus = exitNotInstalled
		return false, nil
	}
	return true, nil
}

// parseline is cmd.Cmd.parseline.
func parseline(line string) (cmd, arg, rest string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" {
		return "", "", line, false
	}
	if line[0] == '?' {
		line = "help " + line[1:]
	} else if line[0] == '!' {
		return "", "", line, false
	}
	i := 0
	for i < len(line) && isIdentChar(line[i]) {
		i++
	}
	return line[:i], strings.TrimSpace(line[i:]), line, true
}

func isIdentChar(c byte) bool {
	return isASCIILetter(c) || (c >= '0' && c <= '9') || c == '_'
}

// commandFunc runs one command with its argument string. stop ends the
// interactive loop.
type commandFunc func(c *controller, arg string) (stop bool, err error)

// onecmd is Controller.onecmd: it dispatches one line, reports uncaught
// errors as Python does and handles 401 answers.
func (c *controller) onecmd(line string) bool {
	cmd, arg, line, ok := parseline(line)
	if line == "" {
		return false
	}
	if !ok || cmd == "" {
		c.unknown(line)
		return false
	}
	f := lookupCommand(cmd)
	if f == nil {
		c.unknown(line)
		return false
	}
	c.completeCache = nil
	stop, err := f(c, arg)
	if err == nil {
		return stop
	}
	if errors.Is(err, errInterrupted) {
		// Ctrl-C at a question in the shell: KeyboardInterrupt ends it
		return true
	}
	var pe *protocolError
	if errors.As(err, &pe) {
		if pe.Code != 401 {
			c.exitStatus = exitGeneric
			c.reportError(err)
			return false
		}
		if c.opts.interactive {
			c.output("Server requires authentication")
			username, rerr := c.rawInput("Username:")
			if errors.Is(rerr, errInterrupted) {
				return true
			}
			if rerr != nil {
				c.reportError(inputEOF(212))
				c.exitStatus = exitGeneric
				return false
			}
			password, rerr := c.getpass("Password:")
			if rerr != nil {
				c.reportError(&eofError{file: pyGetpassFile, line: 148})
				c.exitStatus = exitGeneric
				return false
			}
			c.output("")
			c.opts.username = &username
			c.opts.password = &password
			return c.onecmd(line)
		}
		c.output("Server requires authentication")
		c.exitStatus = exitGeneric
		// Python runs the command a second time here; its outcome is
		// what the user sees next.
		if _, err = f(c, arg); err == nil {
			return false
		}
	}
	c.reportError(err)
	c.exitStatus = exitGeneric
	return false
}

func (c *controller) unknown(line string) {
	c.output("*** Unknown syntax: " + line)
	c.exitStatus = exitGeneric
}

// eofError is Python's EOFError from input() (or getpass) at the end of
// stdin, with the source line that asked.
type eofError struct {
	file string
	line int
	msg  string
}

func (e *eofError) Error() string { return e.msg }

// inputEOF is the EOFError of supervisorctl.py's raw_input at line.
func inputEOF(line int) error {
	return &eofError{file: pySupervisorctlFile, line: line, msg: "EOF when reading a line"}
}

// reportError prints an uncaught error as onecmd's
// "error: <class>, <message>: file: <f> line: <n>" line, naming the
// Python exception class, file and line supervisorctl 4.2.5 reports for
// the same failure so scripts that match on it keep working.
func (c *controller) reportError(err error) {
	class, msg, file, line := pyException(err)
	c.output(fmt.Sprintf("error: <class '%s'>, %s: file: %s line: %d", class, msg, file, line))
}

func pyException(err error) (class, msg, file string, line int) {
	var (
		pe     *protocolError
		f      *rpcFault
		de     *dialError
		bu     *badURLError
		px     *parseError
		uvr    *unknownResultError
		eof    *eofError
		cve    *tls.CertificateVerificationError
		alert  tls.AlertError
		recErr tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &pe):
		return "xmlrpc.client.ProtocolError", pe.Error(), pySupervisorXMLRPCFile, 539
	case errors.As(err, &f):
		return "xmlrpc.client.Fault", f.Error(), pyXMLRPCClientFile, 668
	case errors.As(err, &de):
		file, line = pySocketFile, 836
		if de.Unix {
			file, line = pySupervisorXMLRPCFile, 557
		}
		var en syscall.Errno
		if errors.As(de.Err, &en) {
			return pyErrnoClass(en), fmt.Sprintf("[Errno %d] %s", int(en), pyStrerror(en)), file, line
		}
		return "OSError", de.Err.Error(), file, line
	case errors.As(err, &bu):
		return "ValueError", bu.Error(), pySupervisorXMLRPCFile, 505
	case errors.As(err, &px):
		return "xml.parsers.expat.ExpatError", px.Error(), pyXMLRPCClientFile, 451
	case errors.As(err, &uvr):
		return "ValueError", uvr.Error(), pySupervisorctlFile, uvr.line
	case errors.Is(err, errOverflow):
		return "OverflowError", err.Error(), pyXMLRPCClientFile, 552
	case errors.As(err, &eof):
		return "EOFError", eof.msg, eof.file, eof.line
	case errors.As(err, &cve):
		// https (gosupervisor): named as Python's ssl module would
		return "ssl.SSLCertVerificationError", cve.Error(), "supervisorctl", 0
	case errors.As(err, &alert), errors.As(err, &recErr):
		return "ssl.SSLError", err.Error(), "supervisorctl", 0
	}
	return "Exception", err.Error(), "supervisorctl", 0
}

func pyErrnoClass(en syscall.Errno) string {
	switch en {
	case syscall.ENOENT:
		return "FileNotFoundError"
	case syscall.ECONNREFUSED:
		return "ConnectionRefusedError"
	case syscall.EACCES, syscall.EPERM:
		return "PermissionError"
	case syscall.ECONNRESET:
		return "ConnectionResetError"
	case syscall.ETIMEDOUT:
		return "TimeoutError"
	case syscall.ENOTDIR:
		return "NotADirectoryError"
	}
	return "OSError"
}

// pyStrerror is strerror(3) as glibc words it (Go's table differs in case
// for a few entries).
func pyStrerror(en syscall.Errno) string {
	s := en.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// unknownResultError is the ValueError supervisorctl raises for a result
// code it does not know.
type unknownResultError struct {
	code int
	name string
	line int
}

func (e *unknownResultError) Error() string {
	return fmt.Sprintf("Unknown result code %d for %s", e.code, e.name)
}
