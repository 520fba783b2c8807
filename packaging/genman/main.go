// Command genman writes the man pages of supervisord and supervisorctl from
// the help texts the binaries themselves print, so a page never disagrees
// with the program it documents. scripts/package runs it with host-built
// binaries (the help text is the same on every architecture).
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

func main() {
	bin := flag.String("bin", "", "the binary whose help text is documented (supervisord or supervisorctl)")
	version := flag.String("version", "", "the version printed in the page footer")
	date := flag.String("date", "", "the date printed in the page footer (YYYY-MM-DD)")
	out := flag.String("o", "", "the output file; a .gz name is gzip-compressed without a timestamp")
	flag.Parse()
	if *bin == "" || *out == "" || *version == "" || *date == "" {
		fmt.Fprintln(os.Stderr, "usage: genman -bin BINARY -version V -date YYYY-MM-DD -o FILE.1[.gz]")
		os.Exit(2)
	}
	if err := run(*bin, *version, *date, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genman:", err)
		os.Exit(1)
	}
}

func run(bin, version, date, out string) error {
	name := filepath.Base(bin)
	page := Page{Name: name, Version: version, Date: date}
	dir, err := os.MkdirTemp("", "genman")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// An empty config of our own keeps the client from reading the build
	// machine's /etc/supervisor/supervisord.conf.
	conf := filepath.Join(dir, "empty.conf")
	if err := os.WriteFile(conf, []byte("[supervisorctl]\n"), 0o644); err != nil {
		return err
	}
	help, err := output(dir, bin, "-h")
	if err != nil {
		return err
	}
	page.Help = strings.ReplaceAll(help, bin, name)
	if name == "supervisorctl" {
		list, err := output(dir, bin, "-c", conf, "help")
		if err != nil {
			return err
		}
		for _, topic := range Topics(list) {
			text, err := output(dir, bin, "-c", conf, "help", topic)
			if err != nil {
				return err
			}
			page.Commands = append(page.Commands, Command{Name: topic, Help: text})
		}
	}
	roff := page.Render()
	var data []byte
	if strings.HasSuffix(out, ".gz") {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write([]byte(roff)) // the header carries no name and no time: reproducible
		if err := zw.Close(); err != nil {
			return err
		}
		data = buf.Bytes()
	} else {
		data = []byte(roff)
	}
	return os.WriteFile(out, data, 0o644)
}

func output(dir, bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, stderr.String())
	}
	if stdout.Len() == 0 {
		return "", errors.New(bin + " " + strings.Join(args, " ") + ": printed nothing")
	}
	return stdout.String(), nil
}

// Page is one man page in section 1.
type Page struct {
	Name, Version, Date string
	Help                string    // the -h text
	Commands            []Command // supervisorctl's actions, from `help TOPIC`
}

// Command is one supervisorctl action and its help text.
type Command struct{ Name, Help string }

var topicLine = regexp.MustCompile(`^[a-z][a-z ]*$`)

// Topics returns the command names of a `help` listing (the words after
// the ===== rule), in order.
func Topics(list string) []string {
	var topics []string
	ruled := false
	for _, line := range strings.Split(list, "\n") {
		line = strings.TrimRight(line, " ")
		switch {
		case strings.HasPrefix(line, "====="):
			ruled = true
		case ruled && line != "" && topicLine.MatchString(line):
			topics = append(topics, strings.Fields(line)...)
		}
	}
	slices.Sort(topics) // the listing is column-major
	return topics
}

// summary is each command's one-line NAME text.
var summary = map[string]string{
	"supervisord":   "run a set of programs as a supervisor (Python supervisord 4.2.5 compatible)",
	"supervisorctl": "control the programs run by supervisord",
}

// optionLine is an option of the -h text: "-c/--configuration FILENAME -- text".
var optionLine = regexp.MustCompile(`^(-\S+(?: \S+)?) -- (.*)$`)

// Render returns the page as roff (man macros): NAME, SYNOPSIS (the Usage
// line), DESCRIPTION (the text before the options), OPTIONS (each
// "-x/--long ARG -- text" with its indented continuation lines), USAGE
// (text after the options), COMMANDS (supervisorctl's actions), FILES, SEE
// ALSO.
func (p Page) Render() string {
	var synopsis string
	var description, options, usage []string
	part := &description
	inOption := false
	for _, line := range strings.Split(strings.TrimRight(p.Help, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "Usage: "):
			synopsis = strings.TrimPrefix(strings.TrimPrefix(line, "Usage: "), p.Name+" ")
		case line == "Options:":
			part = &options
		case part == &options && optionLine.MatchString(line):
			m := optionLine.FindStringSubmatch(line)
			options = append(options, ".TP", ".B "+escape(m[1]), escape(m[2]))
			inOption = true
		case part == &options && inOption && strings.HasPrefix(line, " "):
			options = append(options, escape(strings.TrimSpace(line)))
		case strings.TrimSpace(line) == "":
			inOption = false
			if part == &options {
				part = &usage
			}
			*part = append(*part, ".PP")
		default:
			inOption = false
			if part == &options {
				part = &usage
			}
			*part = append(*part, escape(line))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %s 1 %q %q \"User Commands\"\n", strings.ToUpper(p.Name), p.Date, "gosupervisor "+p.Version)
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", p.Name, escape(summary[p.Name]))
	if synopsis != "" {
		fmt.Fprintf(&b, ".SH SYNOPSIS\n.B %s\n%s\n", p.Name, escape(synopsis))
	}
	for _, sec := range []struct {
		title string
		lines []string
	}{{"DESCRIPTION", description}, {"OPTIONS", options}, {"USAGE", usage}} {
		lines := trimPP(sec.lines)
		if len(lines) > 0 {
			fmt.Fprintf(&b, ".SH %s\n%s\n", sec.title, strings.Join(lines, "\n"))
		}
	}
	if len(p.Commands) > 0 {
		b.WriteString(".SH COMMANDS\n")
		for _, c := range p.Commands {
			fmt.Fprintf(&b, ".TP\n.B %s\n.nf\n%s\n.fi\n", escape(c.Name), escape(strings.TrimRight(c.Help, "\n")))
		}
	}
	b.WriteString(".SH FILES\n/etc/supervisor/supervisord.conf, /etc/supervisor/conf.d/*.conf\n")
	b.WriteString(".SH SEE ALSO\n")
	for _, other := range []string{"supervisord", "supervisorctl"} {
		if other != p.Name {
			fmt.Fprintf(&b, ".BR %s (1)\n", other)
		}
	}
	return b.String()
}

// trimPP drops paragraph breaks at either end of a section.
func trimPP(lines []string) []string {
	for len(lines) > 0 && lines[0] == ".PP" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == ".PP" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// escape makes text safe as a roff text line: backslashes doubled, a
// leading period or apostrophe (a request) and hyphens escaped.
func escape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	s = strings.ReplaceAll(s, "\t", " ")
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
