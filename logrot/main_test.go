package logrot

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gosupervisor/gosupervisor/internal/testleak"
)

// childEnv switches the test binary into the writer child used by tests
// and benchmarks: LOGROT_TEST_CHILD=<kind>:<seed>:<bytes>:<writesize>.
const childEnv = "LOGROT_TEST_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	code := m.Run()
	// While fuzzing, the coordinator's own workers are children of this
	// process: the check is for tests that start writers.
	fuzzing := flag.Lookup("test.fuzz") != nil && flag.Lookup("test.fuzz").Value.String() != ""
	if code == 0 && !fuzzing {
		if kids := childrenOf(os.Getpid()); len(kids) > 0 {
			fmt.Fprintf(os.Stderr, "child processes left behind: %v\n", kids)
			code = 1
		}
	}
	if code == 0 {
		// Idle Hub workers exit after workerIdle; a worker stuck in a
		// task would still show up below (testleak.Find gives a loaded
		// box time for the workers to notice they are idle).
		time.Sleep(workerIdle + 200*time.Millisecond)
		// lumberjack v2.2.1 starts one mill goroutine per Logger and never
		// stops it, even on Close.
		if err := testleak.Find(goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun")); err != nil {
			fmt.Fprintf(os.Stderr, "goroutine leak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

func runChild(spec string) int {
	parts := strings.Split(spec, ":")
	if len(parts) != 4 {
		fmt.Fprintf(os.Stderr, "bad %s %q\n", childEnv, spec)
		return 2
	}
	seed, _ := strconv.ParseUint(parts[1], 10, 64)
	total, _ := strconv.ParseInt(parts[2], 10, 64)
	ws, _ := strconv.Atoi(parts[3])
	r := newStream(parts[0], seed, total)
	buf := make([]byte, ws)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if _, werr := os.Stdout.Write(buf[:n]); werr != nil {
				fmt.Fprintf(os.Stderr, "child write: %v\n", werr)
				return 1
			}
		}
		if err != nil {
			return 0
		}
	}
}

// childrenOf lists live (or zombie) processes whose parent is pid.
func childrenOf(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var kids []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kids = append(kids, p)
		}
	}
	return kids
}

// newStream returns the deterministic test data: "binary" is a ChaCha8
// stream (every byte value, no line structure), "lines" is numbered text
// lines of varying length.
func newStream(kind string, seed uint64, total int64) io.Reader {
	switch kind {
	case "binary":
		var key [32]byte
		for i := range 8 {
			key[i] = byte(seed >> (8 * i))
		}
		return io.LimitReader(rand.NewChaCha8(key), total)
	case "lines":
		return io.LimitReader(&lineGen{rng: rand.New(rand.NewPCG(seed, 1))}, total)
	case "repeat":
		// 1 MiB of lines, cycled: a writer cheap enough for benchmarks.
		block, _ := io.ReadAll(io.LimitReader(&lineGen{rng: rand.New(rand.NewPCG(seed, 1))}, 1<<20))
		return io.LimitReader(&cycle{block: block}, total)
	}
	panic("unknown stream kind " + kind)
}

type cycle struct {
	block []byte
	off   int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m := copy(p[n:], c.block[c.off:])
		n += m
		c.off = (c.off + m) % len(c.block)
	}
	return n, nil
}

type lineGen struct {
	rng  *rand.Rand
	n    int
	buf  []byte
	line []byte
}

func (g *lineGen) Read(p []byte) (int, error) {
	const prefix = "2026-11-25 12:00:00,000 INFO line "
	const pad = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	total := 0
	for len(p) > 0 {
		if len(g.line) == 0 {
			g.n++
			b := append(g.buf[:0], prefix...)
			b = strconv.AppendInt(b, int64(g.n), 10)
			b = append(b, ' ')
			b = append(b, pad[:g.rng.IntN(120)]...)
			b = append(b, '\n')
			g.buf = b
			g.line = b
		}
		c := copy(p, g.line)
		g.line = g.line[c:]
		p = p[c:]
		total += c
	}
	return total, nil
}

// startWriter runs the writer child with its stdout on a new pipe and
// returns the command and the pipe's read end.
func startWriter(tb testing.TB, kind string, seed uint64, total int64, writeSize int) (*exec.Cmd, *os.File) {
	tb.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s:%d:%d:%d", childEnv, kind, seed, total, writeSize))
	cmd.Stdout = w
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	w.Close()
	return cmd, r
}

// bufferedLines is a tiny helper for tests reading line files.
func readLines(tb testing.TB, path string) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
