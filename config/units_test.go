package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPyPercent checks str % dict against outputs taken from Python 3.11
// with d = {'a': 'x', 'n': 3}.
func TestPyPercent(t *testing.T) {
	d := newExpansions()
	d.setStr("a", "x")
	d.setInt("n", 3)
	for _, tc := range []struct{ format, want, err string }{
		{"%s", "{'a': 'x', 'n': 3}", ""},
		{"%s %s", "", "not enough arguments for format string"},
		{"%(a)d", "", "%d format: a real number is required, not str"},
		{"%(a)x", "", "%x format: an integer is required, not str"},
		{"%(a)f", "", "must be real number, not str"},
		{"%(a)c", "x", ""},
		{"%(n)c", "\x03", ""},
		{"%(a)z", "", "unsupported format character 'z' (0x7a) at index 4"},
		{"%(a", "", "incomplete format key"},
		{"%(a)", "", "incomplete format"},
		{"%", "", "incomplete format"},
		{"%(a)*d", "", "* wants int"},
		{"%(n)5.2s", "    3", ""},
		{"%(n)#x", "0x3", ""},
		{"%(n)+05d", "+0003", ""},
		{"%(a)-5s|", "x    |", ""},
		{"%(n)e", "3.000000e+00", ""},
		{"%(n)g", "3", ""},
		{"%(n)r", "3", ""},
		{"%(a)r", "'x'", ""},
		{"%(n)%", "", "unsupported format character '%' (0x25) at index 4"},
		{"%5%", "", "unsupported format character '%' (0x25) at index 2"},
		{"%(a)ld", "", "%d format: a real number is required, not str"},
		{"%(b)s %(c)s", "", "'b'"},
		{"%(n)-05d", "3    ", ""},
		{"%(n).3d", "003", ""},
		{"%(a)10.1r", "         '", ""},
		{"%(n)o", "3", ""},
		{"%(n)#o", "0o3", ""},
		{"%(n)F", "3.000000", ""},
		{"%(n)10c", "         \x03", ""},
		{"%(n)s%", "", "incomplete format"},
		{"%(a)s%(", "", "incomplete format key"},
		{"%(x(y))s", "", "'x(y)'"},
		{"%.*d", "", "* wants int"},
		{"%(n)*d", "", "not enough arguments for format string"},
		{"%(n)05.3d", "00003", ""},
		{"%(n) d", " 3", ""},
		{"%(n)5", "", "incomplete format"},
		{"%(n)lll", "", "unsupported format character 'l' (0x6c) at index 5"},
		{"%é", "", "unsupported format character '?' (0xe9) at index 1"},
		{"100%% of %(a)s", "100% of x", ""},
	} {
		got, err := pyPercent(tc.format, d)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tc.want || gotErr != tc.err {
			t.Errorf("%q %% d = %q, %q; want %q, %q", tc.format, got, gotErr, tc.want, tc.err)
		}
	}
}

// TestShlexEnvironment checks dict_of_key_value_pairs against Python.
func TestShlexEnvironment(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Environment
		err  string
	}{
		{"A=a b", Environment{{"A", "a"}}, ""},
		{"A=$HOME", Environment{{"A", "$"}}, ""},
		{"A=x=y", nil, "Unexpected end of key/value pairs in value 'A=x=y'"},
		{"A=1,,B=2", nil, "Unexpected end of key/value pairs in value 'A=1,,B=2'"},
		{`A="x,y" , B = 'q' ,C=/a:b`, Environment{{"A", "x,y"}, {"B", "q"}, {"C", "/a:b"}}, ""},
		{"A=1,A=2,B=3", Environment{{"A", "2"}, {"B", "3"}}, ""},
		{`A="unterminated`, nil, "No closing quotation"},
		{"A=b#c\nd", Environment{{"A", "bd"}}, ""},
		{"", nil, ""},
		{`A=a\b`, nil, `Unexpected end of key/value pairs in value 'A=a\b'`},
	} {
		got, err := dictOfKeyValuePairs(tc.in)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != tc.err || !cmp.Equal(got, tc.want) {
			t.Errorf("dictOfKeyValuePairs(%q) = %v, %q; want %v, %q", tc.in, got, gotErr, tc.want, tc.err)
		}
	}
}

func TestPyGlob(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.conf", "b.conf", ".hidden.conf", "c.ini", "[x].conf", "sub/d.conf", ".hd/e.conf"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		pattern string
		want    []string
	}{
		{"*.conf", []string{"[x].conf", "a.conf", "b.conf"}},
		{".*.conf", []string{".hidden.conf"}},
		{"[ab].conf", []string{"a.conf", "b.conf"}},
		{"[!a].conf", []string{"b.conf"}},
		{"[x].conf", nil},
		{"[[]x].conf", []string{"[x].conf"}},
		{"*/*.conf", []string{"sub/d.conf"}},
		{"?.ini", []string{"c.ini"}},
		{"c.ini", []string{"c.ini"}},
		{"nope.ini", nil},
		{"[a-b].conf", []string{"a.conf", "b.conf"}},
		{"[b-a].conf", nil},
		{"sub/", []string{"sub/"}},
	} {
		got := pyGlob(dir + "/" + tc.pattern)
		var rel []string
		for _, g := range got {
			rel = append(rel, strings.TrimPrefix(g, dir+"/"))
		}
		sortStrings(rel)
		if !cmp.Equal(rel, tc.want) {
			t.Errorf("glob(%q) = %q, want %q", tc.pattern, rel, tc.want)
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	argv0 := filepath.Join(dir, "bin", "supervisord")
	want := filepath.Join(dir, "etc", "supervisord.conf")
	if err := os.WriteFile(want, []byte("[supervisord]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Find(argv0)
	if err != nil || got != want {
		t.Fatalf("Find = %q, %v; want %q", got, err, want)
	}
	paths := SearchPaths("/usr/bin/supervisord")
	wantPaths := []string{"/usr/etc/supervisord.conf", "/usr/supervisord.conf", "supervisord.conf",
		"etc/supervisord.conf", "/etc/supervisord.conf", "/etc/supervisor/supervisord.conf"}
	if !cmp.Equal(paths, wantPaths) {
		t.Errorf("SearchPaths = %q", paths)
	}
	if p := SearchPaths("supervisord"); p[0] != "etc/supervisord.conf" || p[1] != "supervisord.conf" {
		t.Errorf("SearchPaths(bare) = %q", p)
	}
}

func TestOverridesSet(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"-e", "bogus"}, "invalid value for -e 'bogus': bad logging level name 'bogus'"},
		{[]string{"--loglevel", "debug", "-e", "info"}, "conflicting command line option '-e'"},
		{[]string{"-n", "-n"}, "conflicting command line option '-n'"},
		{[]string{"-m", "9"}, "invalid value for -m '9': 9 can not be converted to an octal type"},
		{[]string{"-y", "1.5MB"}, "invalid value for -y '1.5MB': invalid literal for int() with base 10: '1.5'"},
		{[]string{"-a", "x"}, "invalid value for -a 'x': invalid literal for int() with base 10: 'x'"},
		{[]string{"-d", "/nonexistent"}, "invalid value for -d '/nonexistent': /nonexistent is not an existing directory"},
		{[]string{"-l", "/nonexistent/x.log"}, "invalid value for -l '/nonexistent/x.log': The directory named as part of the path /nonexistent/x.log does not exist"},
		{[]string{"-l", "x.log", "-d", dir, "-q", dir, "-u", "nobody", "-i", "id", "-z", "3"}, ""},
	} {
		o := &Overrides{Cwd: dir}
		var err error
		for i := 0; i < len(tc.args) && err == nil; i++ {
			_, takes := IsOverrideFlag(tc.args[i])
			arg := ""
			if takes {
				arg = tc.args[i+1]
			}
			err = o.Set(tc.args[i], arg)
			if takes {
				i++
			}
		}
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.err {
			t.Errorf("%q: error %q, want %q", tc.args, got, tc.err)
		}
	}
}

// TestLoadErrorsAreTyped checks the not-found and unreadable cases.
func TestLoadErrorsAreTyped(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "missing.conf"), LoadOptions{Environ: testEnviron})
	want := "could not find config file " + filepath.Join(dir, "missing.conf")
	if e, ok := err.(*Error); !ok || e.Error() != want {
		t.Errorf("Load(missing) = %v, want %q", err, want)
	}
}

// TestReread checks that reloadConfig's reading skips realize: an unknown
// [supervisord] user fails a start but not a reread.
func TestReread(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.conf")
	text := "[supervisord]\nuser = nosuchuserxyz\nlogfile = rel.log\n[program:a]\ncommand = /bin/cat\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := LoadOptions{Environ: testEnviron, Cwd: dir}
	if _, err := Load(path, opts); err == nil || err.Error() != "Invalid user name nosuchuserxyz" {
		t.Fatalf("Load = %v, want the user error", err)
	}
	opts.Reread = true
	cfg, err := Load(path, opts)
	if err != nil {
		t.Fatalf("reread: %v", err)
	}
	if len(cfg.Groups) != 1 || cfg.Supervisord.Logfile != "rel.log" || cfg.Supervisord.User.UID != -1 {
		t.Errorf("reread gave %d groups, logfile %q, user %+v", len(cfg.Groups), cfg.Supervisord.Logfile, cfg.Supervisord.User)
	}
}

// TestRereadKeepsEnvExpansions mirrors Python, whose environ_expansions
// keep [supervisord] environment= keys from earlier reads.
func TestRereadKeepsEnvExpansions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.conf")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("[supervisord]\nenvironment = OLD=1\n")
	first, err := Load(path, LoadOptions{Environ: testEnviron, Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	write("[supervisord]\n[program:a]\ncommand = /bin/echo %(ENV_OLD)s\n")
	if _, err := Load(path, LoadOptions{Environ: testEnviron, Cwd: dir}); err == nil {
		t.Fatal("a fresh start must not know ENV_OLD")
	}
	cfg, err := Load(path, LoadOptions{Environ: testEnviron, Cwd: dir, Reread: true, Previous: first})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Groups[0].Processes[0].Command; got != "/bin/echo 1" {
		t.Errorf("command = %q, want the old expansion", got)
	}
}

// TestLoadCtl checks supervisorctl's reading (expected values from
// Python's ClientOptions.read_config on the same files).
func TestLoadCtl(t *testing.T) {
	dir := t.TempDir()
	ctl := filepath.Join(dir, "c.conf")
	if err := os.WriteFile(ctl, []byte("[supervisorctl]\nserverurl = unix://%(here)s/../"+filepath.Base(dir)+"/s.sock\nprompt = %(ENV_TD_VAR)s\nhistory_file = ~/h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCtl("c.conf", LoadOptions{Environ: testEnviron, Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := &Supervisorctl{ServerURL: "unix://" + dir + "/s.sock", Prompt: "hello", HistoryFile: "/root/h"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("LoadCtl (-want +got):\n%s", d)
	}
	tls := filepath.Join(dir, "t.conf")
	if err := os.WriteFile(tls, []byte("[supervisorctl]\nserverurl = https://h:9001\ntls_ca = %(here)s/ca.pem\ntls_cert = c.pem\ntls_key = ~/k.pem\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = LoadCtl("t.conf", LoadOptions{Environ: testEnviron, Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	want = &Supervisorctl{ServerURL: "https://h:9001", Prompt: "supervisor", TLSCA: dir + "/ca.pem", TLSCert: dir + "/c.pem", TLSKey: "/root/k.pem"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("LoadCtl with TLS options (-want +got):\n%s", d)
	}
	none := filepath.Join(dir, "n.conf")
	if err := os.WriteFile(none, []byte("[supervisord]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCtl(none, LoadOptions{Environ: testEnviron}); err == nil || err.Error() != ".ini file does not include supervisorctl section" {
		t.Errorf("LoadCtl without the section: %v", err)
	}
}

// IsOverrideFlag (tests only) reports whether opt ("-l", "--logfile") is one of the
// supervisord options Set accepts, and whether it takes an argument.
func IsOverrideFlag(opt string) (known, takesArg bool) {
	name, ok := overrideOptions[opt]
	if !ok {
		return false, false
	}
	switch name {
	case "nodaemon", "silent", "nocleanup", "strip_ansi":
		return true, false
	}
	return true, true
}
