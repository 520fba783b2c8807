package reliability

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	soakFlag      = flag.Duration("soak", 0, "run TestSoak for this long (0: skip it)")
	soakProgs     = flag.Int("soakprogs", 1000, "TestSoak: programs (a third crash-looping, a third writing, a third idle)")
	soakRate      = flag.Int("soakrate", 20000, "TestSoak: bytes per second each writer writes (bounds the disk traffic)")
	soakSample    = flag.Duration("soaksample", 10*time.Second, "TestSoak: sampling interval")
	soakUSR2Every = flag.Duration("soakusr2", time.Minute, "TestSoak: SIGUSR2 interval")
)

// soakWriter writes numbered lines at a bounded rate until SIGTERM, then
// records how many it wrote in <dir>/<name>.count.
const soakWriter = `import os, signal, sys, time
name, d, rate = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = 0
stop = False
def term(*a):
    global stop
    stop = True
signal.signal(signal.SIGTERM, term)
pad = "y" * 80
per = max(1, rate // 100 // 10)  # lines per 100 ms
while not stop:
    t = time.time()
    for _ in range(per):
        sys.stdout.write("%d %s\n" % (n, pad))
        n += 1
    sys.stdout.flush()
    time.sleep(max(0, 0.1 - (time.time() - t)))
with open(os.path.join(d, name + ".count"), "w") as f:
    f.write(str(n))
`

type soakSampleRow struct {
	at                  time.Duration
	rss, fds, thr, zomb int
	kids                int     // live children of the daemon
	goroutines          int     // ours (/metrics); -1 for Python
	cpu                 float64 // daemon CPU seconds so far
	stored              int64
	calls, errs         int64
}

// TestSoak runs -soak long (skipped without it): -soakprogs programs, a
// third crash-looping, a third writing numbered lines with rotation, a
// third idle; 8 RPC clients looping getAllProcessInfo, stop/start and
// readLog; SIGUSR2 every -soakusr2. It samples RSS, descriptors, OS
// threads, zombies and stored log bytes every -soaksample and passes when
// every RPC was answered, no zombie is left, the descriptor and memory
// figures are flat after warm-up, and every writer's retained log is a
// gapless, duplicate-free run of its lines ending at its last one.
func TestSoak(t *testing.T) {
	if *soakFlag <= 0 {
		t.Skip("run with -args -soak=DURATION")
	}
	eachFlavor(t, func(t *testing.T, fl flavor) {
		dir := t.TempDir()
		counts := filepath.Join(dir, "counts")
		os.Mkdir(counts, 0o755)
		os.WriteFile(filepath.Join(dir, "writer.py"), []byte(soakWriter), 0o644)
		third := *soakProgs / 3
		var b strings.Builder
		fmt.Fprintf(&b, "[program:crash]\ncommand=sh -c \"sleep 5; exit 1\"\nprocess_name=%%(program_name)s%%(process_num)04d\nnumprocs=%d\nstartsecs=1\nautorestart=true\nstartretries=1000000\nstopasgroup=true\nkillasgroup=true\n\n", third)
		fmt.Fprintf(&b, "[program:writer]\ncommand=/usr/bin/python3 %s %%(program_name)s%%(process_num)04d %s %d\nprocess_name=%%(program_name)s%%(process_num)04d\nnumprocs=%d\nstartsecs=0\nstdout_logfile_maxbytes=1MB\nstdout_logfile_backups=50\nstopwaitsecs=30\n\n",
			filepath.Join(dir, "writer.py"), counts, *soakRate, third)
		fmt.Fprintf(&b, "[program:idle]\ncommand=sleep 100000\nprocess_name=%%(program_name)s%%(process_num)04d\nnumprocs=%d\nstartsecs=0\n\n", *soakProgs-2*third)
		d := start(t, fl, setup{dir: dir, programs: b.String(), extra: "minfds=16384", metrics: true})
		waitFor(t, 10*time.Minute, "every writer and idle program RUNNING", func() bool {
			list, err := d.infos()
			if err != nil {
				return false
			}
			n := 0
			for _, p := range list {
				if p.Group != "crash" && p.StateName == "RUNNING" {
					n++
				}
			}
			return n == *soakProgs-third
		})

		var calls, errs atomic.Int64
		var latMu sync.Mutex
		lat := map[string]*latencies{}
		methods := []string{"getAllProcessInfo", "stopProcess", "startProcess", "tailProcessStdoutLog"}
		for _, m := range methods {
			lat[m] = &latencies{}
		}
		var firstErr atomic.Value
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				idle := fmt.Sprintf("idle:idle%04d", i)
				writer := fmt.Sprintf("writer:writer%04d", i)
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					var err error
					t0 := time.Now()
					switch k % 4 {
					case 0:
						// Raw HTTP: the figure is the daemon's, not the
						// test client's XML decoding.
						err = d.rawAllInfo(*soakProgs)
					case 1:
						err = d.call("supervisor.stopProcess", []any{idle, true}, nil)
					case 2:
						err = d.call("supervisor.startProcess", []any{idle, true}, nil)
					case 3:
						var r []any
						err = d.call("supervisor.tailProcessStdoutLog", []any{writer, 0, 4096}, &r)
					}
					latMu.Lock()
					lat[methods[k%4]].add(time.Since(t0), err)
					latMu.Unlock()
					calls.Add(1)
					if err != nil {
						errs.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
				}
			}()
		}

		var rows []soakSampleRow
		t0 := time.Now()
		nextUSR2 := t0.Add(*soakUSR2Every)
		usr2 := 0
		for time.Since(t0) < *soakFlag {
			time.Sleep(min(*soakSample, time.Until(nextUSR2)))
			if time.Now().After(nextUSR2) {
				syscall.Kill(d.pid, syscall.SIGUSR2)
				usr2++
				nextUSR2 = nextUSR2.Add(*soakUSR2Every)
			}
			if len(rows) == 0 || time.Since(t0)-rows[len(rows)-1].at >= *soakSample-50*time.Millisecond {
				gr := -1
				if fl.name == "ours" {
					if v, err := d.metric("go_goroutines"); err == nil {
						gr = int(v)
					}
				}
				live, zomb := childCounts(d.pid)
				row := soakSampleRow{goroutines: gr, at: time.Since(t0), rss: rssKiB(d.pid), fds: fdCount(d.pid), thr: threads(d.pid),
					zomb: zomb, kids: live, cpu: cpuSeconds(d.pid), stored: dirBytes(filepath.Join(dir, "childlogs")), calls: calls.Load(), errs: errs.Load()}
				rows = append(rows, row)
				t.Logf("sample t=%ds rss=%dKiB fds=%d children=%d threads=%d goroutines=%d zombies=%d cpu=%.1fs stored=%dB calls=%d errors=%d",
					int(row.at.Seconds()), row.rss, row.fds, row.kids, row.thr, row.goroutines, row.zomb, row.cpu, row.stored, row.calls, row.errs)
			}
		}
		close(stop)
		wg.Wait()

		// Stop the writers (they record their counts) and judge their logs.
		d.mustCall("supervisor.stopProcessGroup", []any{"writer", true}, nil)
		lost, checked := 0, 0
		for i := range third {
			name := fmt.Sprintf("writer%04d", i)
			cb, err := os.ReadFile(filepath.Join(counts, name+".count"))
			if err != nil {
				t.Errorf("%s wrote no count: %v", name, err)
				continue
			}
			n, _ := strconv.Atoi(string(cb))
			if msg := checkSequence(filepath.Join(dir, "childlogs"), name, n); msg != "" {
				lost++
				if lost <= 5 {
					t.Errorf("%s: %s", name, msg)
				}
			}
			checked++
		}
		// Stop everything: no zombie may be left, the table agrees with /proc.
		d.mustCall("supervisor.stopAllProcesses", []any{true}, nil)
		d.settleConsistent(120 * time.Second)
		// Warm-up: the first fifth of the samples, at least the first minute.
		warm := len(rows) / 5
		for warm < len(rows) && rows[warm].at < time.Minute {
			warm++
		}
		post := rows[warm:]
		figure(t, fl, "duration", *soakFlag)
		figure(t, fl, "programs", *soakProgs)
		figure(t, fl, "rpc_calls", calls.Load())
		figure(t, fl, "rpc_errors", errs.Load())
		figure(t, fl, "sigusr2_sent", usr2)
		for _, m := range methods {
			figure(t, fl, m+"_p50_p99", fmt.Sprint(lat[m].pct(0.5).Round(time.Millisecond), " ", lat[m].pct(0.99).Round(time.Millisecond)))
		}
		figure(t, fl, "writers_checked", checked)
		figure(t, fl, "writers_with_gaps", lost)
		figure(t, fl, "zombies_at_end", zombies(d.pid))
		if len(post) >= 2 {
			figure(t, fl, "rss_kib_slope_per_min", fmt.Sprintf("%.1f", slope(post, func(r soakSampleRow) float64 { return float64(r.rss) })))
			figure(t, fl, "fds_slope_per_min", fmt.Sprintf("%.2f", slope(post, func(r soakSampleRow) float64 { return float64(r.fds) })))
			figure(t, fl, "goroutines_slope_per_min", fmt.Sprintf("%.2f", slope(post, func(r soakSampleRow) float64 { return float64(r.goroutines) })))
			figure(t, fl, "max_goroutines", maxOf(rows, func(r soakSampleRow) int { return r.goroutines }))
			figure(t, fl, "threads_slope_per_min", fmt.Sprintf("%.2f", slope(post, func(r soakSampleRow) float64 { return float64(r.thr) })))
			figure(t, fl, "max_rss_kib", maxOf(rows, func(r soakSampleRow) int { return r.rss }))
			figure(t, fl, "max_fds", maxOf(rows, func(r soakSampleRow) int { return r.fds }))
			figure(t, fl, "max_threads", maxOf(rows, func(r soakSampleRow) int { return r.thr }))
			figure(t, fl, "max_zombies_sampled", maxOf(rows, func(r soakSampleRow) int { return r.zomb }))
			figure(t, fl, "daemon_cpu_s", fmt.Sprintf("%.1f", rows[len(rows)-1].cpu))
			figure(t, fl, "rpc_calls_per_s", fmt.Sprintf("%.1f", float64(calls.Load())/soakFlag.Seconds()))
		}
		if fl.name != "ours" {
			return
		}
		if errs.Load() != 0 {
			t.Errorf("%d of %d RPC calls failed, first: %v", errs.Load(), calls.Load(), firstErr.Load())
		}
		if len(post) < 12 {
			t.Logf("%d samples after warm-up: too few to judge flatness (figures only)", len(post))
		} else {
			// Flat means the floor does not rise: rotation waves spike RSS
			// and fds for a moment (garbage, files being swapped), a leak
			// lifts the minimum. Compare the first and last quarter's
			// minima after warm-up. Descriptors are judged net of the 3
			// pipes each live child holds: how many of the 333
			// crash-looping children are between two runs depends on the
			// box's load and moves the raw count by hundreds. Goroutines
			// (Hub workers come and go with the busy pipes, also a matter
			// of load) are judged by their slope over the run.
			q := len(post) / 4
			floor := func(rs []soakSampleRow, f func(soakSampleRow) int) int {
				m := f(rs[0])
				for _, r := range rs {
					m = min(m, f(r))
				}
				return m
			}
			rss := func(r soakSampleRow) int { return r.rss }
			fds := func(r soakSampleRow) int { return r.fds }
			own := func(r soakSampleRow) int { return r.fds - 3*r.kids }
			grs := func(r soakSampleRow) int { return r.goroutines }
			early, late := post[:q], post[len(post)-q:]
			span := (post[len(post)-1].at - post[0].at).Minutes()
			grRise := slope(post, func(r soakSampleRow) float64 { return float64(r.goroutines) }) * span
			figure(t, fl, "rss_floor_kib_early_late", fmt.Sprint(floor(early, rss), " ", floor(late, rss)))
			figure(t, fl, "fds_floor_early_late", fmt.Sprint(floor(early, fds), " ", floor(late, fds)))
			figure(t, fl, "fds_net_of_children_floor_early_late", fmt.Sprint(floor(early, own), " ", floor(late, own)))
			figure(t, fl, "goroutines_floor_early_late", fmt.Sprint(floor(early, grs), " ", floor(late, grs)))
			figure(t, fl, "goroutines_rise_by_slope", fmt.Sprintf("%.1f", grRise))
			if grRise > 32 {
				t.Errorf("goroutines rose after warm-up: slope %.2f/min, %.0f over %.0f min", grRise/span, grRise, span)
			}
			if floor(late, own) > floor(early, own)+32 {
				t.Errorf("descriptor floor (net of 3 per live child) rose after warm-up: %d -> %d", floor(early, own), floor(late, own))
			}
			if floor(late, rss) > floor(early, rss)*3/2+8192 {
				t.Errorf("RSS floor rose after warm-up: %d -> %d KiB", floor(early, rss), floor(late, rss))
			}
		}
	})
}

// rawAllInfo calls getAllProcessInfo on a fresh connection and checks the
// answer holds n processes, without decoding it.
func (d *daemon) rawAllInfo(n int) error {
	resp, body, err := d.roundTrip(false, rpcRequest(methodCall("supervisor.getAllProcessInfo", ""), "Connection: close\r\n"))
	if err != nil {
		return err
	}
	if got := strings.Count(string(body), "<name>statename</name>"); resp.StatusCode != 200 || got != n {
		return fmt.Errorf("getAllProcessInfo: HTTP %d, %d processes, want %d", resp.StatusCode, got, n)
	}
	return nil
}

// checkSequence reads every retained log file of writer name (current and
// rotated) and checks that its numbered lines form a gapless,
// duplicate-free run ending at n-1 (the writer's last line).
func checkSequence(logdir, name string, n int) string {
	files, _ := filepath.Glob(filepath.Join(logdir, name+"*stdout*"))
	var seqs []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err.Error()
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if line == "" {
				continue
			}
			v, err := strconv.Atoi(strings.Fields(line)[0])
			if err != nil {
				return fmt.Sprintf("garbled line %q in %s", line, f)
			}
			seqs = append(seqs, v)
		}
	}
	if n == 0 {
		return ""
	}
	if len(seqs) == 0 {
		return fmt.Sprintf("wrote %d lines, none stored", n)
	}
	sort.Ints(seqs)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] == seqs[i-1] {
			return fmt.Sprintf("line %d stored twice", seqs[i])
		}
		if seqs[i] != seqs[i-1]+1 {
			return fmt.Sprintf("lines %d..%d missing", seqs[i-1]+1, seqs[i]-1)
		}
	}
	if last := seqs[len(seqs)-1]; last != n-1 {
		return fmt.Sprintf("wrote %d lines, the log ends at line %d", n, last)
	}
	return ""
}

// slope is the least-squares slope of f over the rows, per minute.
func slope(rows []soakSampleRow, f func(soakSampleRow) float64) float64 {
	var sx, sy, sxx, sxy float64
	for _, r := range rows {
		x := r.at.Minutes()
		y := f(r)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	n := float64(len(rows))
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

func maxOf(rows []soakSampleRow, f func(soakSampleRow) int) int {
	m := 0
	for _, r := range rows {
		m = max(m, f(r))
	}
	return m
}

// cpuSeconds is the user+system CPU time of pid (clock ticks of 1/100 s).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return -1
	}
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return float64(ut+st) / 100
}

// dirBytes sums the sizes of the regular files in dir.
func dirBytes(dir string) int64 {
	ents, _ := os.ReadDir(dir)
	var n int64
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}
