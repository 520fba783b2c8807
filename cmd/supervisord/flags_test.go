package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gosupervisor/gosupervisor/internal/getopt"
)

func TestGetopt(t *testing.T) {
	tests := []struct {
		args []string
		opts []getopt.Opt
		rest []string
		err  string
	}{
		{args: []string{"-nc", "f.conf"}, opts: []getopt.Opt{{Name: "-n"}, {Name: "-c", Arg: "f.conf"}}},
		{args: []string{"-cf.conf", "-s"}, opts: []getopt.Opt{{Name: "-c", Arg: "f.conf"}, {Name: "-s"}}},
		{args: []string{"--configuration=a=b"}, opts: []getopt.Opt{{Name: "--configuration", Arg: "a=b"}}},
		{args: []string{"--conf", "x"}, opts: []getopt.Opt{{Name: "--configuration", Arg: "x"}}},
		{args: []string{"--nod", "--sil"}, opts: []getopt.Opt{{Name: "--nodaemon"}, {Name: "--silent"}}},
		{args: []string{"--logfile", "l"}, opts: []getopt.Opt{{Name: "--logfile", Arg: "l"}}}, // exact match beats prefixes
		{args: []string{"--log", "l"}, err: "option --log not a unique prefix"},
		{args: []string{"-n", "x", "-s"}, opts: []getopt.Opt{{Name: "-n"}}, rest: []string{"x", "-s"}},
		{args: []string{"--", "-n"}, rest: []string{"-n"}},
		{args: []string{"-"}, rest: []string{"-"}},
		{args: []string{"-q"}, err: "option -q requires argument"},
		{args: []string{"-:"}, err: "option -: not recognized"},
		{args: []string{"--minprocs"}, err: "option --minprocs requires argument"},
		{args: []string{"--silent=1"}, err: "option --silent must not have an argument"},
		{args: []string{"--gosupervisor-version"}, opts: []getopt.Opt{{Name: "--gosupervisor-version"}}},
		{args: []string{"--gosupervisor"}, err: "option --gosupervisor not recognized"},
	}
	for _, tt := range tests {
		opts, rest, err := cmdline.Parse(tt.args)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("getopt(%q): error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("getopt(%q): %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.opts, opts, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("getopt(%q) options (-want +got):\n%s", tt.args, diff)
		}
		if diff := cmp.Diff(tt.rest, rest); diff != "" && !(len(tt.rest) == 0 && len(rest) == 0) {
			t.Errorf("getopt(%q) rest (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestParseArgs(t *testing.T) {
	c, err := parseArgs([]string{"-n", "-c", "x.conf", "-e", "debug", "--minprocs", "10"}, "/")
	if err != nil {
		t.Fatal(err)
	}
	if c.configFile != "x.conf" || !c.overrides.Nodaemon || c.overrides.Minprocs == nil || *c.overrides.Minprocs != 10 || c.overrides.Loglevel == nil {
		t.Errorf("parsed %+v", c)
	}
	for args, want := range map[string][]string{
		"positional arguments are not supported: ['a', \"b'c\"]": {"a", "b'c"},
		"conflicting command line option '--configuration'":      {"-c", "a", "--configuration", "b"},
		"conflicting command line option '--nodaemon'":           {"-n", "--nodaemon", "-n"},
	} {
		_, err := parseArgs(want, "/")
		if ue, ok := err.(*usageError); !ok || ue.msg != args {
			t.Errorf("parseArgs(%q): %v, want usage error %q", want, err, args)
		}
	}
	if c, err := parseArgs([]string{"-x", "-h"}, "/"); err == nil {
		t.Errorf("-x -h: %+v; a getopt error comes first", c)
	}
	if c, err := parseArgs([]string{"-h", "-x"}, "/"); err == nil || c != nil {
		t.Errorf("-h -x: getopt still rejects -x first (as Python): %v", err)
	}
	if c, err := parseArgs([]string{"-v", "-m", "bad"}, "/"); err != nil || !c.showVersion {
		t.Errorf("-v acts before later options are checked: %+v, %v", c, err)
	}
}
