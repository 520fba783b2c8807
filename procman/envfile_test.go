package procman

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gosupervisor/gosupervisor/config"
)

func TestParseEnvFile(t *testing.T) {
	cases := []struct {
		name, text string
		want       []envVar
		err        string
	}{
		{"empty", "", nil, ""},
		{"basic", "A=1\n\n# comment\n  # indented comment\nB = two words \r\n", []envVar{{"A", "1"}, {"B", "two words"}}, ""},
		{"export", "export A=1\nexport\tB=2\nexporter=3\n", []envVar{{"A", "1"}, {"B", "2"}, {"exporter", "3"}}, ""},
		{"inline comment", "A=x # note\nB=x#y\nC='q # r' # s\n", []envVar{{"A", "x"}, {"B", "x#y"}, {"C", "q # r"}}, ""},
		{"single", `A='a \n "b" $c'`, []envVar{{"A", `a \n "b" $c`}}, ""},
		{"double", `A="a\n\t\"b\" \$c \\ \q"`, []envVar{{"A", "a\n\t\"b\" $c \\ \\q"}}, ""},
		{"multiline", "A=\"one\ntwo\"\nB=3\n", []envVar{{"A", "one\ntwo"}, {"B", "3"}}, ""},
		{"empty value", "A=\nB=''\n", []envVar{{"A", ""}, {"B", ""}}, ""},
		{"equals in value", "URL=postgres://u:p@h/db?x=1\n", []envVar{{"URL", "postgres://u:p@h/db?x=1"}}, ""},
		{"dotted key", "a.b_C9=1\n", []envVar{{"a.b_C9", "1"}}, ""},
		{"no equals", "A=1\nJUNK\n", nil, `line 2: not KEY=VALUE: "JUNK"`},
		{"bad key", "1A=1\n", nil, `line 1: not KEY=VALUE: "1A=1"`},
		{"unterminated", "A=1\nB=\"open\nmore\n", nil, "line 2: unterminated \" quote"},
		{"after quote", "A='x' y\n", nil, `line 1: text after the closing quote: "A='x' y"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseEnvFile([]byte(c.text))
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got, cmp.AllowUnexported(envVar{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func FuzzParseEnvFile(f *testing.F) {
	for _, s := range []string{"A=1\n", "export B='x'\n", "C=\"a\\n\nb\"\n", "#x\n\nD=e # f\n", "E=\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vars, err := parseEnvFile([]byte(s))
		if err != nil {
			return
		}
		for _, v := range vars {
			if !validEnvKey(v.key) {
				t.Fatalf("%q: invalid key %q accepted", s, v.key)
			}
		}
	})
}

// TestEnvFileSpawn: env files are read at each spawn, a later file wins,
// environment= wins over both; a missing file fails that spawn as a bad
// directory= does.
func TestEnvFileSpawn(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.env"), filepath.Join(dir, "b.env")
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "export FROM_A=1\nSHARED=a\nWINS=file\n")
	write(b, "SHARED='b b'\n")
	s, rec := newTestSupervisor(t, Options{})
	out := newLineSink()
	s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out} }
	p := proc("x", "env", "FROM_A,SHARED,WINS")
	p.Startsecs = 0
	p.EnvFiles = []string{a, b}
	p.Environment = append(p.Environment, config.EnvVar{Key: "WINS", Value: "environment"})
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "x", true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FROM_A=1 true", "SHARED=b b true", "WINS=environment true"} {
		if got := out.next(t); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	rec.waitState(t, "x", Exited, 10*time.Second)

	// Read again at the next spawn.
	write(b, "SHARED=changed\n")
	if _, _, err := s.Start(bg, "x", true); err != nil {
		t.Fatal(err)
	}
	out.next(t)
	if got := out.next(t); got != "SHARED=changed true" {
		t.Errorf("after the change: %q", got)
	}
	out.next(t)
	rec.waitFor(t, "second exit", 10*time.Second, func() bool { return len(rec.states("x")) == 6 })

	// A missing file fails the spawn like a bad directory.
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	p2 := proc("y", "exit", "0")
	p2.EnvFiles = []string{a}
	p2.Startretries = 0
	ys := &BufferSink{}
	s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stderr: ys} }
	if err := s.AddGroup(homogeneous(p2)); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Start(bg, "y", true)
	wantFault(t, err, ErrSpawnError, "y")
	rec.waitState(t, "y", Fatal, 10*time.Second)
	ys.Wait()
	want := "supervisor: couldn't read env_file " + a + ": ENOENT\nsupervisor: child process was not spawned\n"
	if ys.String() != want {
		t.Errorf("stderr %q, want %q", ys.String(), want)
	}
	if !rec.hasLog("WARN exited: y (exit status 127; not expected)") {
		t.Errorf("logs %s", strings.Join(rec.logLines(), "\n"))
	}
}
