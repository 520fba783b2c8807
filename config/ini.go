package config

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/pyint"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// iniFile is what Python's configparser.RawConfigParser (as supervisor's
// UnhosedConfigParser configures it: inline comment prefixes ';' and '#',
// strict=False, no interpolation) makes of one or more files.
//
// gopkg.in/ini.v1 (v1.67, with AllowPythonMultilineValues,
// SpaceBeforeInlineComment, PreserveSurroundedQuote, InsensitiveKeys)
// still reads supervisord.conf files differently from Python, e.g.:
// "a = `echo hi`" loses its backticks; a blank line inside an indented
// continuation value is an error ("key-value delimiter not found") where
// Python keeps it; "a=x \" joins the next line; a bad line stops the
// parse with no line number where Python lists every bad line as
// "[line  N]: '...'"; and it has no [DEFAULT] inheritance or
// section-to-file record for includes. So this file is a direct port of
// configparser.RawConfigParser._read for the options supervisor uses, and
// testdata/oracle.py checks it against Python on random input.
type iniFile struct {
	sections      []*iniSection // file order, DEFAULT excluded
	byName        map[string]*iniSection
	defaults      *iniSection // the [DEFAULT] section
	sectionToFile map[string]string
	lastSect      *iniSection // get's last section (nil: look it up)
	// keepOnly, when set, is the one section (besides DEFAULT) read
	// keeps: the lines of the others are checked as Python checks them,
	// with the same errors, but not stored (supervisorctl reads only its
	// section of a file that may hold thousands of programs).
	keepOnly string
}

type iniSection struct {
	name   string
	keys   []string // first-seen order
	values map[string]*iniValue
}

// iniValue is a value being read: its lines (first, then more) are
// joined with "\n" at the end into text.
type iniValue struct {
	reading bool     // lines are being read (then text is not set yet)
	first   string   // the first line, while reading
	more    []string // continuation lines, while reading (most values have none)
	text    string
}

// continued adds a continuation line; a value that was not being read
// (set, not read) starts over with it.
func (v *iniValue) continued(line string) {
	if !v.reading {
		*v = iniValue{reading: true, first: line}
		return
	}
	v.more = append(v.more, line)
}

// join ends reading: text is the lines joined, trailing whitespace cut,
// copied (a substring would keep the whole file's text alive).
func (v *iniValue) join() {
	if !v.reading {
		return
	}
	text := v.first
	if len(v.more) > 0 {
		text = strings.Join(append([]string{v.first}, v.more...), "\n")
	}
	*v = iniValue{text: strings.Clone(strings.TrimRightFunc(text, pyint.IsSpace))}
}

func newIniFile() *iniFile {
	return &iniFile{
		byName:        map[string]*iniSection{},
		defaults:      newIniSection("DEFAULT"),
		sectionToFile: map[string]string{},
	}
}

// only copies the DEFAULT section and the named one (if any) into a new
// iniFile: what the sections hold now, whatever is read into f later.
func (f *iniFile) only(name string) *iniFile {
	out := newIniFile()
	cp := func(s *iniSection) *iniSection {
		return &iniSection{name: s.name, keys: slices.Clone(s.keys), values: maps.Clone(s.values)}
	}
	out.defaults = cp(f.defaults)
	if s := f.byName[name]; s != nil {
		c := cp(s)
		out.byName[name] = c
		out.sections = append(out.sections, c)
	}
	return out
}

func newIniSection(name string) *iniSection {
	return &iniSection{name: name, values: map[string]*iniValue{}}
}

func (s *iniSection) set(key, value string) {
	if _, ok := s.values[key]; !ok {
		s.keys = append(s.keys, key)
	}
	s.values[key] = &iniValue{text: value}
}

// splitPyLines splits text the way Python iterates a file opened in text
// mode with universal newlines: "\r\n" and "\r" become "\n", and every
// line keeps its "\n".
func splitPyLines(text string) []string {
	if strings.Contains(text, "\r") {
		text = strings.ReplaceAll(text, "\r\n", "\n")
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	lines := make([]string, 0, strings.Count(text, "\n")+1)
	for len(text) > 0 {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			lines = append(lines, text)
			break
		}
		lines = append(lines, text[:i+1])
		text = text[i+1:]
	}
	return lines
}

// plainLine reports whether s has only ASCII bytes and no comment
// character (';' or '#').
func plainLine(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c == ';' || c == '#' {
			return false
		}
	}
	return true
}

// commentStart returns the rune index where an inline or whole-line
// comment starts in line, or -1, following configparser._read exactly.
func commentStart(line []rune) int {
	const none = int(^uint(0) >> 1)
	start := none
	prefixes := []rune{';', '#'}
	idx := map[rune]int{';': -1, '#': -1}
	for start == none && len(idx) > 0 {
		next := map[rune]int{}
		for _, p := range prefixes {
			from, ok := idx[p]
			if !ok {
				continue
			}
			i := -1
			for j := from + 1; j < len(line); j++ {
				if line[j] == p {
					i = j
					break
				}
			}
			if i == -1 {
				continue
			}
			next[p] = i
			if i == 0 || pyint.IsSpace(line[i-1]) {
				start = min(start, i)
			}
		}
		idx = next
	}
	stripped := strings.TrimFunc(string(line), pyint.IsSpace)
	if strings.HasPrefix(stripped, "#") || strings.HasPrefix(stripped, ";") {
		start = 0
	}
	if start == none {
		return -1
	}
	return start
}

// read parses one file's text into f, as RawConfigParser._read does.
// source is the name used in error messages.
func (f *iniFile) read(text, source string) error {
	var cursect *iniSection
	// discarded is cursect in a section keepOnly drops: it stays empty
	discarded := &iniSection{}
	var optname string
	haveOpt := false
	indentLevel := 0
	var perr *Error
	addErr := func(lineno int, line string) {
		if perr == nil {
			perr = &Error{Msg: "Source contains parsing errors: " + pyrepr.Str(source)}
		}
		perr.Msg += "\n\t[line " + padInt(lineno, 2) + "]: " + pyrepr.Str(line)
	}
	for i, line := range splitPyLines(text) {
		lineno := i + 1
		// Most lines are ASCII without a comment character: then the
		// rune indexes below are byte indexes and there is no comment.
		var runes []rune
		cs := -1
		if !plainLine(line) {
			runes = []rune(line)
			cs = commentStart(runes)
		}
		var value string
		if cs >= 0 {
			value = pyint.Strip(string(runes[:cs]))
		} else {
			value = pyint.Strip(line)
		}
		if value == "" {
			if cs < 0 && cursect != nil && haveOpt && optname != "" {
				if v := cursect.values[optname]; v != nil && v.reading {
					v.more = append(v.more, "")
				}
			}
			continue
		}
		cur := 0
		if runes == nil {
			for j := 0; j < len(line); j++ {
				if !pyint.IsSpace(rune(line[j])) {
					cur = j
					break
				}
			}
		} else {
			for j, r := range runes {
				if !pyint.IsSpace(r) {
					cur = j
					break
				}
			}
		}
		if cursect != nil && haveOpt && optname != "" && cur > indentLevel {
			if v := cursect.values[optname]; v != nil {
				v.continued(value)
			}
			continue
		}
		indentLevel = cur
		if header, ok := matchSectionHeader(value); ok {
			if s, ok := f.byName[header]; ok {
				cursect = s
			} else if header == "DEFAULT" {
				cursect = f.defaults
			} else if f.keepOnly != "" && header != f.keepOnly {
				cursect = discarded
			} else {
				cursect = newIniSection(strings.Clone(header))
				f.byName[cursect.name] = cursect
				f.sections = append(f.sections, cursect)
			}
			haveOpt, optname = false, ""
			continue
		}
		if cursect == nil {
			return &Error{Msg: "File contains no section headers.\nfile: " + pyrepr.Str(source) +
				", line: " + strconv.Itoa(lineno) + "\n" + pyrepr.Str(line)}
		}
		name, val, ok := matchOption(value)
		if !ok {
			addErr(lineno, line)
			continue
		}
		if name == "" {
			addErr(lineno, line)
		}
		if cursect == discarded {
			optname, haveOpt = name, true
			continue
		}
		name = strings.ToLower(strings.TrimRightFunc(name, pyint.IsSpace))
		optname, haveOpt = name, true
		if _, exists := cursect.values[name]; !exists {
			cursect.keys = append(cursect.keys, name)
		}
		cursect.values[name] = &iniValue{reading: true, first: pyint.Strip(val)}
	}
	f.joinMultiline()
	if perr != nil {
		return perr
	}
	return nil
}

// matchSectionHeader is SECTCRE.match: "[" .+ "]" at the start, greedy.
func matchSectionHeader(value string) (string, bool) {
	if !strings.HasPrefix(value, "[") {
		return "", false
	}
	j := strings.LastIndexByte(value, ']')
	if j < 2 {
		return "", false
	}
	return value[1:j], true
}

// matchOption is OPTCRE: the option is everything before the first '=' or
// ':', the value everything after it, leading whitespace skipped.
func matchOption(value string) (name, val string, ok bool) {
	i := strings.IndexAny(value, "=:")
	if i < 0 {
		return "", "", false
	}
	return value[:i], strings.TrimLeftFunc(value[i+1:], pyint.IsSpace), true
}

func (f *iniFile) joinMultiline() {
	join := func(s *iniSection) {
		for _, k := range s.keys {
			s.values[k].join()
		}
	}
	join(f.defaults)
	for _, s := range f.sections {
		join(s)
	}
}

// hasSection is RawConfigParser.has_section (DEFAULT is not a section).
func (f *iniFile) hasSection(name string) bool {
	_, ok := f.byName[name]
	return ok
}

// get is RawConfigParser.get without interpolation: the section's value,
// else the DEFAULT one.
func (f *iniFile) get(section, option string) (string, bool) {
	option = strings.ToLower(option)
	// A program's options are read one after another: remember its
	// section (the map is not changed once the files are read).
	s := f.lastSect
	if s == nil || s.name != section {
		s = f.byName[section]
		f.lastSect = s
	}
	if s != nil {
		if v, ok := s.values[option]; ok {
			return v.text, true
		}
	}
	if len(f.defaults.values) == 0 {
		return "", false
	}
	if v, ok := f.defaults.values[option]; ok {
		return v.text, true
	}
	return "", false
}

// options is RawConfigParser.options: DEFAULT keys first, then the
// section's own new keys.
func (f *iniFile) options(section string) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range f.defaults.keys {
		out = append(out, k)
		seen[k] = true
	}
	if s, ok := f.byName[section]; ok {
		for _, k := range s.keys {
			if !seen[k] {
				out = append(out, k)
			}
		}
	}
	return out
}

// sectionNames is RawConfigParser.sections().
func (f *iniFile) sectionNames() []string {
	out := make([]string, len(f.sections))
	for i, s := range f.sections {
		out[i] = s.name
	}
	return out
}

// readSource reads one more file into f and records which file each new
// section came from (UnhosedConfigParser.read).
func (f *iniFile) readSource(text, filename string) error {
	before := len(f.sections)
	err := f.read(text, filename)
	for _, s := range f.sections[before:] {
		f.sectionToFile[s.name] = filename
	}
	return err
}

// expandHere is UnhosedConfigParser.expand_here: every value (including
// inherited DEFAULT ones) containing "%(here)s" gets here substituted and
// is stored in the section.
func (f *iniFile) expandHere(here string) {
	const hereFormat = "%(here)s"
	for _, s := range f.sections {
		for _, k := range f.options(s.name) {
			v, _ := f.get(s.name, k)
			if strings.Contains(v, hereFormat) {
				s.set(k, strings.ReplaceAll(v, hereFormat, here))
			}
		}
	}
}
