package config

import (
	"bufio"
	"encoding/json"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type oracleReq struct {
	Kind  string `json:"kind"`
	Input string `json:"input"`
}

// askPython sends requests to testdata/oracle.py and returns its answers.
func askPython(t *testing.T, reqs []oracleReq) []map[string]any {
	script, _ := filepath.Abs("testdata/oracle.py")
	var in strings.Builder
	for _, r := range reqs {
		b, _ := json.Marshal(r)
		in.Write(b)
		in.WriteByte('\n')
	}
	cmd := exec.Command("/usr/bin/python3", script)
	cmd.Env = testEnviron
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle.py: %v", err)
	}
	var res []map[string]any
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		res = append(res, m)
	}
	if len(res) != len(reqs) {
		t.Fatalf("oracle answered %d of %d", len(res), len(reqs))
	}
	return res
}

func goIni(text string) map[string]any {
	f := newIniFile()
	if err := f.read(text, "t.conf"); err != nil {
		return map[string]any{"error": err.Error()}
	}
	pairs := func(s *iniSection) []any {
		out := []any{}
		for _, k := range s.keys {
			out = append(out, []any{k, s.values[k].text})
		}
		return out
	}
	secs := []any{}
	for _, s := range f.sections {
		secs = append(secs, []any{s.name, pairs(s)})
	}
	return map[string]any{"sections": secs, "defaults": pairs(f.defaults)}
}

func goFmt(s string) map[string]any {
	e := newExpansions()
	e.setStr("a", "x")
	e.setInt("n", 3)
	e.setStr("here", "/h")
	out, err := expand(s, e, "name")
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return map[string]any{"out": out}
}

func goEnv(s string) map[string]any {
	env, err := dictOfKeyValuePairs(s)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return map[string]any{"pairs": envPairs(env)}
}

var iniFragments = []string{
	"[s]", "[t]", "[DEFAULT]", "[s] junk", "[]", "[a]b]", " [s]", "k = v", "k=v", "K : v", "k = v ;c",
	"k = v;c", "k = v # c", "#c", ";c", "  ; c", "   cont", "\tcont", "", "  ", "=v", "k =", "k",
	"k = a ; b # c", "k = #x", "[s];c", "x = é ü", "  k2 = indented", "k = \"q ; r\"", "k:v=w", "\u00a0k = v",
}

var fmtFragments = []string{"%(a)s", "%(n)d", "%(n)02d", "%%", "%", "%(", "%(a)", "%(b)s", "%s", "%d", "%(n)x",
	"%(a)d", "%(n)-4d", "%(n)+.3d", "%(here)s", "x", " ", "é", "%(a)5.1s", "%(n)c", "%(n)*d", "%(n)z", "%(a)r", "%(n)lX"}

var envFragments = []string{"A", "=", "1", ",", " ", `"`, "'", "x y", "$", "#", "\n", "/", ":", "\\", "B", "é", "-", "(", "%"}

func randomJoin(r *rand.Rand, frags []string, n int, sep string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = frags[r.Intn(len(frags))]
	}
	return strings.Join(parts, sep)
}

func randomOracleReqs(seed int64, n int) []oracleReq {
	r := rand.New(rand.NewSource(seed))
	var reqs []oracleReq
	for i := 0; i < n; i++ {
		reqs = append(reqs,
			oracleReq{"ini", randomJoin(r, iniFragments, 1+r.Intn(8), "\n") + pick(r, []string{"", "\n"})},
			oracleReq{"fmt", randomJoin(r, fmtFragments, 1+r.Intn(4), "")},
			oracleReq{"env", randomJoin(r, envFragments, 1+r.Intn(10), "")})
	}
	return reqs
}

func goAnswer(req oracleReq) map[string]any {
	var got map[string]any
	switch req.Kind {
	case "ini":
		got = goIni(req.Input)
	case "fmt":
		got = goFmt(req.Input)
	default:
		got = goEnv(req.Input)
	}
	g, _ := json.Marshal(got)
	var gj map[string]any
	_ = json.Unmarshal(g, &gj)
	return gj
}

// TestOracleGolden replays random parser-level inputs whose Python
// answers are stored in testdata/oracle.golden.jsonl (-update asks
// Python again).
func TestOracleGolden(t *testing.T) {
	path := "testdata/oracle.golden.jsonl"
	if *update {
		reqs := randomOracleReqs(1, 400)
		var b strings.Builder
		for i, want := range askPython(t, reqs) {
			line, _ := json.Marshal(map[string]any{"req": reqs[i], "want": want})
			b.Write(line)
			b.WriteByte('\n')
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec struct {
			Req  oracleReq      `json:"req"`
			Want map[string]any `json:"want"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		n++
		if d := cmp.Diff(rec.Want, goAnswer(rec.Req)); d != "" {
			t.Errorf("%s %q differs (-python +go):\n%s", rec.Req.Kind, rec.Req.Input, d)
		}
	}
	if n < 1000 {
		t.Errorf("only %d oracle records", n)
	}
}

// TestPythonOracle compares the ini reader, %-expansion and environment
// parsing with Python on -pyrandom random inputs.
func TestPythonOracle(t *testing.T) {
	needPython(t)
	reqs := randomOracleReqs(*pySeed, *pyRandom)
	fails := 0
	for i, want := range askPython(t, reqs) {
		gj := goAnswer(reqs[i])
		if d := cmp.Diff(want, gj); d != "" {
			fails++
			t.Errorf("%s %q differs (-python +go):\n%s", reqs[i].Kind, reqs[i].Input, d)
			if fails > 10 {
				t.Fatal("too many differences")
			}
		}
	}
}
