package logrot

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata golden files from Python supervisor (/usr/bin/python3)")

type readCase struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Data   string `json:"data"`
	Error  string `json:"error"`
}

type tailCase struct {
	File      string `json:"file"`
	Offset    int64  `json:"offset"`
	Length    int64  `json:"length"`
	Data      string `json:"data"`
	NewOffset int64  `json:"newoffset"`
	Overflow  bool   `json:"overflow"`
}

// TestReadGolden compares ReadFile and TailFile with Python's readFile and
// tailFile on the files in testdata/read (values in read_golden.json,
// regenerated with -update).
func TestReadGolden(t *testing.T) {
	golden := filepath.Join("testdata", "read_golden.json")
	if *update {
		out, err := exec.Command("/usr/bin/python3", filepath.Join("testdata", "gen_read_golden.py")).Output()
		if err != nil {
			t.Fatalf("python: %v", err)
		}
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Read []readCase `json:"read"`
		Tail []tailCase `json:"tail"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Read) == 0 || len(g.Tail) == 0 {
		t.Fatal("empty golden file")
	}
	for _, c := range g.Read {
		want, _ := base64.StdEncoding.DecodeString(c.Data)
		got, err := ReadFile(filepath.Join("testdata", "read", c.File), c.Offset, c.Length)
		gotErr := ""
		switch {
		case errors.Is(err, ErrBadArguments):
			gotErr = "BAD_ARGUMENTS"
		case errors.Is(err, ErrFailed):
			gotErr = "FAILED"
		case err != nil:
			gotErr = err.Error()
		}
		if gotErr != c.Error || !bytes.Equal(got, want) {
			t.Errorf("ReadFile(%s, %d, %d) = %q, %q; Python gives %q, %q", c.File, c.Offset, c.Length, got, gotErr, want, c.Error)
		}
	}
	for _, c := range g.Tail {
		want, _ := base64.StdEncoding.DecodeString(c.Data)
		got, off, of := TailFile(filepath.Join("testdata", "read", c.File), c.Offset, c.Length)
		if !bytes.Equal(got, want) || off != c.NewOffset || of != c.Overflow {
			t.Errorf("TailFile(%s, %d, %d) = [%q %d %v]; Python gives [%q %d %v]", c.File, c.Offset, c.Length, got, off, of, want, c.NewOffset, c.Overflow)
		}
	}
}

// TestReadFileReference is the worked examples of the reference (§3.5) on
// the 9-byte file "err line\n".
func TestReadFileReference(t *testing.T) {
	path := filepath.Join("testdata", "read", "errline.txt")
	cases := []struct {
		offset, length int64
		want           string
		err            error
	}{
		{0, 0, "err line\n", nil},
		{100000000, 0, "", nil},
		{2, 3, "r l", nil},
		{0, -5, "", ErrBadArguments},
		{-4, 0, "ine\n", nil},
		{-400, 0, "err line\n", nil},
		{-100, 5, "", ErrBadArguments},
	}
	for _, c := range cases {
		got, err := ReadFile(path, c.offset, c.length)
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) || string(got) != c.want {
			t.Errorf("ReadFile(%d, %d) = %q, %v; want %q, %v", c.offset, c.length, got, err, c.want, c.err)
		}
	}
}

func TestTailFileReference(t *testing.T) {
	path := filepath.Join("testdata", "read", "errline.txt")
	cases := []struct {
		offset, length int64
		want           string
		newOffset      int64
		overflow       bool
	}{
		{0, 3, "ne\n", 9, true},
		{2, 3, "ne\n", 9, true},
		{100, 3, "", 9, false},
		{5, 100, "err line\n", 9, false},
		{-5, 3, "ne\n", 9, true},
	}
	for _, c := range cases {
		got, off, of := TailFile(path, c.offset, c.length)
		if string(got) != c.want || off != c.newOffset || of != c.overflow {
			t.Errorf("TailFile(%d, %d) = [%q %d %v]; want [%q %d %v]", c.offset, c.length, got, off, of, c.want, c.newOffset, c.overflow)
		}
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.log")
	if _, err := ReadFile(missing, 0, 0); !errors.Is(err, ErrNoFile) {
		t.Errorf("missing file: %v, want ErrNoFile", err)
	}
	// The existence check wins over bad arguments, as in readLog.
	if _, err := ReadFile(missing, -1, 5); !errors.Is(err, ErrNoFile) {
		t.Errorf("missing file, bad args: %v, want ErrNoFile", err)
	}
	if _, err := ReadFile(dir, -1, 5); !errors.Is(err, ErrFailed) {
		t.Errorf("directory: %v, want ErrFailed", err)
	}
	if data, off, of := TailFile(missing, 10, 10); len(data) != 0 || off != 0 || of {
		t.Errorf("TailFile(missing) = %q %d %v, want '' 0 false", data, off, of)
	}
	if data, off, of := TailFile(dir, 10, 10); len(data) != 0 || off != 10 || of {
		t.Errorf("TailFile(dir) = %q %d %v, want '' 10 false", data, off, of)
	}
}
