package getopt

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var spec = Spec{
	Short: "h?c:vnu:kts",
	Long:  []string{"help", "configuration=", "version", "nodaemon", "user=", "logfile=", "logfile_maxbytes=", "silent", "strip_ansi"},
}

var cases = [][]string{
	{},
	{"-n"},
	{"-nc", "f.conf"},
	{"-cf.conf", "-s"},
	{"-c"},
	{"-x"},
	{"-:"},
	{"--configuration=a=b"},
	{"--conf", "x"},
	{"--nod", "--sil"},
	{"--logfile", "l"},
	{"--logf", "l"},
	{"--log", "l"},
	{"--s"},
	{"--silent=1"},
	{"--user"},
	{"--nope"},
	{"-n", "x", "-s"},
	{"-n", "--", "-s"},
	{"-", "-n"},
	{"-?h", "--help"},
	{"--version", "--v"},
	{"-k", "-t", "-u", "root", "--user=", "--strip"},
}

// TestMatchesPython runs every case through Python's getopt.getopt and
// compares options, remaining arguments and error texts.
func TestMatchesPython(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	in, _ := json.Marshal(map[string]any{"short": spec.Short, "long": spec.Long, "cases": cases})
	script := `
import getopt, json, sys
d = json.load(sys.stdin)
out = []
for args in d["cases"]:
    try:
        opts, rest = getopt.getopt(args, d["short"], d["long"])
        out.append({"opts": [[o, a] for o, a in opts], "rest": rest, "err": ""})
    except getopt.GetoptError as e:
        out.append({"opts": None, "rest": None, "err": e.msg})
json.dump(out, sys.stdout)
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(string(in))
	b, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []struct {
		Opts [][2]string
		Rest []string
		Err  string
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for i, args := range cases {
		opts, rest, err := spec.Parse(args)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		var gotOpts [][2]string
		for _, o := range opts {
			gotOpts = append(gotOpts, [2]string{o.Name, o.Arg})
		}
		if err != nil {
			gotOpts, rest = nil, nil
		}
		w := want[i]
		if gotErr != w.Err || !cmp.Equal(gotOpts, w.Opts, cmpopts.EquateEmpty()) || !cmp.Equal(rest, w.Rest, cmpopts.EquateEmpty()) {
			t.Errorf("%q: got %v %q %q, Python %v %q %q", args, gotOpts, rest, gotErr, w.Opts, w.Rest, w.Err)
		}
	}
}

func TestExactLong(t *testing.T) {
	s := Spec{Short: "v", Long: []string{"version"}, ExactLong: []string{"gosupervisor-version"}}
	for _, tt := range []struct {
		args []string
		want []Opt
		err  string
	}{
		{[]string{"--gosupervisor-version"}, []Opt{{Name: "--gosupervisor-version"}}, ""},
		{[]string{"--gosupervisor"}, nil, "option --gosupervisor not recognized"},
		{[]string{"--gosupervisor-version=1"}, nil, "option --gosupervisor-version must not have an argument"},
		{[]string{"--v"}, []Opt{{Name: "--version"}}, ""},
	} {
		got, _, err := s.Parse(tt.args)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: err %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("%q: %v %v, want %v", tt.args, got, err, tt.want)
		}
	}
}

// FuzzParse: Parse never panics; what it leaves is a tail of its input,
// and every option it returns is one of the spec's.
func FuzzParse(f *testing.F) {
	for _, c := range cases {
		f.Add(strings.Join(c, "\x00"))
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		opts, rest, err := spec.Parse(args)
		if err != nil {
			return
		}
		if len(rest) > len(args) || !slices.Equal(rest, args[len(args)-len(rest):]) {
			t.Fatalf("%q: rest %q is not a tail", args, rest)
		}
		for _, o := range opts {
			name, long := strings.CutPrefix(o.Name, "--")
			switch {
			case long && (slices.Contains(spec.Long, name) || slices.Contains(spec.Long, name+"=")):
			case !long && len(o.Name) == 2 && strings.Contains(spec.Short, o.Name[1:]) && o.Name[1] != ':':
			default:
				t.Fatalf("%q: option %q is not in the spec", args, o.Name)
			}
		}
	})
}
