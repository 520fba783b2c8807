package bench

import (
	"fmt"
	"testing"
	"time"
)

// The log capture figures: bytes lost, throughput against the disk limit,
// and daemon CPU against dd writing the same bytes into the page cache
// (the floor), beside dd moving the same pipes into files (a reference).
var (
	figLogRate        = Figure{ID: "log.MiBps", Title: "log capture with rotation, 100-byte lines", Unit: "MiB/s", Better: Higher}
	figLogBase        = Figure{ID: "log.baseline_MiBps", Title: "writer alone into a file (disk limit)", Unit: "MiB/s", Better: Higher, NoRatio: true}
	figLogCopier      = Figure{ID: "log.copier_cpu", Title: "dd moving the same pipe into a file: its CPU (reference)", Unit: "cpu-s", NoRatio: true}
	figLogLost        = Figure{ID: "log.lost", Title: "log capture: bytes lost", Unit: "bytes", Target: 0, HasTarget: true}
	figLogCPU         = Figure{ID: "log.cpu", Title: "log capture", Unit: "cpu-s", HasTarget: true}
	figLogFiles       = Figure{ID: "log.files", Title: "log capture: files (current + backups)", Unit: "files", NoRatio: true}
	figLog100Rate     = Figure{ID: "log100.MiBps", Title: "log capture, 100 writers at once, with rotation", Unit: "MiB/s", Better: Higher}
	figLog100Base     = Figure{ID: "log100.baseline_MiBps", Title: "100 writers alone into files (disk limit)", Unit: "MiB/s", Better: Higher, NoRatio: true}
	figLog100Lost     = Figure{ID: "log100.lost", Title: "log capture, 100 writers: bytes lost", Unit: "bytes", Target: 0, HasTarget: true}
	figLog100CPU      = Figure{ID: "log100.cpu", Title: "log capture, 100 writers", Unit: "cpu-s", HasTarget: true}
	figLog100Files    = Figure{ID: "log100.files", Title: "log capture, 100 writers: files", Unit: "files", NoRatio: true}
	figLogFloor       = Figure{ID: "log.pagecache_cpu", Title: "dd from /dev/zero into a file, 64 KiB writes: its CPU (page-cache write floor)", Unit: "cpu-s", NoRatio: true}
	figLog100Floor    = Figure{ID: "log100.pagecache_cpu", Title: "100 dd from /dev/zero into files at once: their CPU (page-cache write floor)", Unit: "cpu-s", NoRatio: true}
	figLogVsFloor     = Figure{ID: "log.cpu_vs_floor", Title: "log capture: daemon CPU / page-cache write floor", Unit: "x", NoRatio: true, Target: 1.5, HasTarget: true}
	figLog100Copier   = Figure{ID: "log100.copier_cpu", Title: "100 dd moving the 100 pipes into files: their CPU (reference)", Unit: "cpu-s", NoRatio: true}
	figLogSpliceSame  = Figure{ID: "log.splice_same_cpu", Title: "splice(2) alone moving a pipe into a file, writer on the reader's CPU: its CPU (kernel's share)", Unit: "cpu-s", NoRatio: true}
	figLogSpliceOther = Figure{ID: "log.splice_other_cpu", Title: "splice(2) alone moving a pipe into a file, writer on the other CPU: its CPU (kernel's share)", Unit: "cpu-s", NoRatio: true}
	figLog100VsFloor  = Figure{ID: "log100.cpu_vs_floor", Title: "log capture, 100 writers: daemon CPU / page-cache write floor", Unit: "x", NoRatio: true, Target: 1.5, HasTarget: true}
)

// BenchmarkLogCapture has one program write 1 GiB (256 MiB quick) of
// 100-byte lines, captured with 100MB rotation, and checks nothing is lost.
func BenchmarkLogCapture(b *testing.B) {
	eachDaemon(b, func(b *testing.B, spec Spec) {
		benchLogCapture(b, spec, 1, logFigs{figLogRate, figLogBase, figLogLost, figLogCPU, figLogFiles, figLogCopier, figLogFloor, figLogVsFloor, figLogSpliceSame, figLogSpliceOther})
	})
}

// BenchmarkLogCapture100 is BenchmarkLogCapture with 100 programs writing
// a hundredth each, all at once.
func BenchmarkLogCapture100(b *testing.B) {
	eachDaemon(b, func(b *testing.B, spec Spec) {
		benchLogCapture(b, spec, 100, logFigs{figLog100Rate, figLog100Base, figLog100Lost, figLog100CPU, figLog100Files, figLog100Copier, figLog100Floor, figLog100VsFloor, Figure{}, Figure{}})
	})
}

// logFigs are the figures of one log capture scenario (spliceSame and
// spliceOther only with one writer).
type logFigs struct {
	rate, base, lost, cpu, files, copier, floor, vsFloor Figure
	spliceSame, spliceOther                              Figure
}

// logTimeout bounds one capture scenario.
var logTimeout = 300 * time.Second

func benchLogCapture(b *testing.B, spec Spec, writers int, figs logFigs) {
	o := suite.Opts
	var last LogCapture
	var rates []float64
	for i := 0; i < b.N; i++ {
		r, err := MeasureLogCapture(spec, b.TempDir(), o.LogBytes, writers, logTimeout)
		if err != nil {
			fail(b, figs.rate, spec, err)
			return
		}
		last = r
		rates = append(rates, r.MiBps())
	}
	hideNs(b)
	record(b, figs.rate, spec, Median(rates), "MiB/s")
	record(b, figs.base, spec, last.BaselineMiBps(), "disk-MiB/s")
	record(b, figs.copier, spec, last.CopierCPU, "dd-pipe-cpu-s")
	record(b, figs.floor, spec, last.PageCacheCPU, "floor-cpu-s")
	if figs.spliceSame.ID != "" && last.SpliceSameCPU > 0 {
		record(b, figs.spliceSame, spec, last.SpliceSameCPU, "splice-same-cpu-s")
		record(b, figs.spliceOther, spec, last.SpliceOtherCPU, "splice-other-cpu-s")
	}
	record(b, figs.lost, spec, float64(last.Lost()), "lost-bytes")
	cpuFig := figs.cpu
	cpuFig.Target = 0.3 * float64(o.LogBytes) / (1 << 30) // 0.3 s per GiB
	cpuFig.Title = fmt.Sprintf("%s of %d MiB: daemon CPU", cpuFig.Title, o.LogBytes>>20)
	record(b, cpuFig, spec, last.CPU, "cpu-s")
	if last.PageCacheCPU > 0 {
		record(b, figs.vsFloor, spec, last.CPU/last.PageCacheCPU, "x-floor")
	}
	record(b, figs.files, spec, float64(last.Files), "files")
	if !last.ContentOK {
		b.Errorf("%s: oldest log file does not start with the writer's lines", spec.Name)
	}
	reportRatio(b, figs.rate, spec)
}
