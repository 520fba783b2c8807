package logrot

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var memProfileIdle = flag.String("logrot.idleheap", "", "write a heap profile of BenchmarkIdleChannels' live channels here")

var benchBytes = flag.Int64("logrot.benchbytes", 1<<30, "bytes captured per benchmark operation")

func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCapture measures capture throughput with rotation on: children
// write lines (64 KiB writes) into pipes, Channels read and log them.
// Metrics: MB/s, cpu-s/GiB of this process (getrusage RUSAGE_SELF) and of
// the writer children. Every byte must be written: 0 lost.
func BenchmarkCapture(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("children=%d", n), func(b *testing.B) { benchCapture(b, n, false) })
	}
	// Without rotation, and with read(2)/write(2) instead of splice(2) (the
	// path taken when a hook must see the bytes), to compare with the
	// baseline like for like.
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("children=%d/norotate", n), func(b *testing.B) { benchCaptureOpts(b, n, false, false, false) })
		b.Run(fmt.Sprintf("children=%d/norotate/readpath", n), func(b *testing.B) { benchCaptureOpts(b, n, false, false, true) })
	}
}

// BenchmarkCaptureTimestamps is BenchmarkCapture's one-child load with
// rotation, with *_logfile_timestamps off (splice) and on (every line read
// and stamped).
func BenchmarkCaptureTimestamps(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("timestamps=%v", on), func(b *testing.B) { benchCaptureOpts(b, 1, false, true, false, on) })
	}
}

// BenchmarkBaseline is the same load through a plain read/write loop per
// pipe into a file, with no rotation: the floor to compare against.
func BenchmarkBaseline(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("children=%d", n), func(b *testing.B) { benchCapture(b, n, true) })
	}
}

func benchCapture(b *testing.B, children int, baseline bool) {
	benchCaptureOpts(b, children, baseline, true, false)
}

func benchCaptureOpts(b *testing.B, children int, baseline, rotate, readPath bool, stamps ...bool) {
	total := *benchBytes
	per := total / int64(children)
	total = per * int64(children)
	// Rotation as configured by default (50MB, 10 backups) for one child;
	// smaller files and fewer backups for 100 so the disk is not filled.
	maxBytes, backups := int64(50<<20), 10
	if children > 1 {
		maxBytes, backups = 4<<20, 2
	}
	if !rotate {
		maxBytes = 0
	}
	b.SetBytes(total)
	b.ReportAllocs()
	var self, kids time.Duration
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		hub := NewHub(nil)
		chans := make([]*Channel, children)
		if !baseline {
			for i := range chans {
				cfg := ChannelConfig{
					ProcessName: fmt.Sprintf("p%d", i), Channel: "stdout",
					Path:     filepath.Join(dir, fmt.Sprintf("p%d.log", i)),
					MaxBytes: maxBytes, Backups: backups,
					Timestamps: len(stamps) > 0 && stamps[0],
				}
				c, err := hub.NewChannel(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if readPath {
					c.splice = false
				}
				chans[i] = c
			}
		}
		cmds := make([]*exec.Cmd, children)
		pipes := make([]*os.File, children)
		for i := range cmds {
			cmds[i], pipes[i] = startWriter(b, "repeat", uint64(i), per, 64<<10)
		}
		s0, k0 := cpuTime(syscall.RUSAGE_SELF), cpuTime(syscall.RUSAGE_CHILDREN)
		b.StartTimer()
		var wg sync.WaitGroup
		var written int64
		var mu sync.Mutex
		for i := range cmds {
			if baseline {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n := plainCopy(b, pipes[i], filepath.Join(dir, fmt.Sprintf("p%d.log", i)))
					mu.Lock()
					written += n
					mu.Unlock()
				}()
			} else {
				chans[i].Consume(pipes[i], cmds[i].Process.Pid)
			}
		}
		for _, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		wg.Wait()
		for _, c := range chans {
			if c == nil {
				continue
			}
			c.Wait()
			if err := c.Close(); err != nil {
				b.Fatal(err)
			}
			st := c.Stats()
			written += st.Read
			if st.Dropped != 0 || st.Read != st.Written && !c.cfg.Timestamps || st.Written < st.Read {
				b.Fatalf("lost bytes: %+v", st)
			}
		}
		b.StopTimer()
		self += cpuTime(syscall.RUSAGE_SELF) - s0
		kids += cpuTime(syscall.RUSAGE_CHILDREN) - k0
		if written != total {
			b.Fatalf("%d bytes written, want %d", written, total)
		}
		b.StartTimer()
	}
	gib := float64(total) * float64(b.N) / (1 << 30)
	b.ReportMetric(self.Seconds()/gib, "cpu-s/GiB")
	b.ReportMetric(kids.Seconds()/gib, "writer-cpu-s/GiB")
	b.ReportMetric(float64(osThreads()), "threads")
}

// osThreads is this process's OS thread count (/proc/self/status).
func osThreads() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// plainCopy is the baseline: read(2)/write(2) with a 128 KiB buffer.
func plainCopy(b *testing.B, r *os.File, path string) int64 {
	defer r.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		b.Error(err)
		return 0
	}
	defer f.Close()
	buf := make([]byte, ChunkSize)
	var n int64
	for {
		m, err := r.Read(buf)
		if m > 0 {
			w, werr := f.Write(buf[:m])
			n += int64(w)
			if werr != nil {
				b.Error(werr)
				return n
			}
		}
		if err != nil {
			return n
		}
	}
}

// BenchmarkFloorFileWrite is this machine's floor: writing the same volume
// from memory into one file (no pipe, no rotation), 64 KiB per write.
func BenchmarkFloorFileWrite(b *testing.B) {
	total := *benchBytes
	buf := make([]byte, 64<<10)
	b.SetBytes(total)
	var self time.Duration
	for b.Loop() {
		b.StopTimer()
		f, err := os.Create(filepath.Join(b.TempDir(), "floor.log"))
		if err != nil {
			b.Fatal(err)
		}
		s0 := cpuTime(syscall.RUSAGE_SELF)
		b.StartTimer()
		for n := int64(0); n < total; n += int64(len(buf)) {
			if _, err := f.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		self += cpuTime(syscall.RUSAGE_SELF) - s0
		f.Close()
		b.StartTimer()
	}
	b.ReportMetric(self.Seconds()/(float64(total)*float64(b.N)/(1<<30)), "cpu-s/GiB")
}

// BenchmarkIdleChannels measures what 2,000 idle channels (1,000 processes,
// stdout and stderr, each with a log file and a pipe) cost: heap plus
// goroutine stacks per channel, and OS threads.
func BenchmarkIdleChannels(b *testing.B) {
	const n = 2000
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		hub := NewHub(nil)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		chans := make([]*Channel, n)
		writers := make([]*os.File, n)
		for i := range n {
			c, err := hub.NewChannel(ChannelConfig{ProcessName: fmt.Sprintf("p%d", i/2), Channel: "stdout",
				Path: filepath.Join(dir, fmt.Sprintf("p%d.log", i)), MaxBytes: 50 << 20, Backups: 10})
			if err != nil {
				b.Fatal(err)
			}
			r, w, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			if os.Getenv("IDLE_READPATH") != "" {
				c.splice = false
			}
			c.Consume(r, i)
			chans[i], writers[i] = c, w
		}
		b.StopTimer()
		if os.Getenv("IDLE_ACTIVE") != "" {
			// Channels that have logged something, then went idle.
			for _, w := range writers {
				w.Write([]byte("x\n"))
			}
			deadline := time.Now().Add(10 * time.Second)
			for _, c := range chans {
				for c.Stats().Written < 2 && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
			}
			// Workers give the pipes back, then exit.
			time.Sleep(hotIdle + workerIdle + 100*time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		runtime.GC()
		runtime.GC() // the second cycle shrinks stacks the first found oversized
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/n, "heap-bytes/channel")
		b.ReportMetric(float64(after.StackInuse-before.StackInuse)/n, "stack-bytes/channel")
		if *memProfileIdle != "" {
			f, err := os.Create(*memProfileIdle)
			if err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		b.ReportMetric(float64(osThreads()), "threads")
		b.ReportMetric(float64(hub.BuffersInUse()), "buffers-held")
		for i := range n {
			writers[i].Close()
			chans[i].Wait()
			chans[i].Close()
		}
		b.StartTimer()
	}
}
