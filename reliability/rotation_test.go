package reliability

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	rotProgs = flag.Int("rotprogs", 100, "TestMassRotation: writers rotating at once (the figures in README: 333)")
	rotTimes = flag.Int("rotations", 5, "TestMassRotation: rotations per writer")
)

// rotLine is one 100-byte numbered line of the writers' output.
func rotLine(i int) string { return fmt.Sprintf("%08d %s\n", i, strings.Repeat("r", 90)) }

// TestMassRotation: -rotprogs writers (100; README's figures use 333, the soak's third of 1,000)
// held at a gate, then let go at once, each writing -rotations+1 times
// its maxbytes into one shared log directory, so every writer rotates
// -rotations times in the same moment. Figures: the daemon's peak RSS
// (VmHWM) over its RSS before the wave, its CPU, and the files left;
// it passes when every byte is stored (no line lost or split) and the
// table agrees with /proc.
func TestMassRotation(t *testing.T) {
	const maxBytes = 20000
	eachFlavor(t, func(t *testing.T, fl flavor) {
		dir := t.TempDir()
		var data strings.Builder
		for i := 0; data.Len() < maxBytes*(*rotTimes+1); i++ {
			data.WriteString(rotLine(i))
		}
		os.WriteFile(filepath.Join(dir, "data"), []byte(data.String()), 0o644)
		gate := filepath.Join(dir, "go")
		logs := filepath.Join(dir, "childlogs")
		progs := fmt.Sprintf(`[program:w]
command=sh -c "while [ ! -e %s ]; do sleep 0.2; done; exec cat %s/data"
process_name=%%(program_name)s%%(process_num)04d
numprocs=%d
startsecs=0
autorestart=false
stdout_logfile=%s/%%(process_num)04d.log
stdout_logfile_maxbytes=%d
stdout_logfile_backups=50
stderr_logfile=NONE
`, gate, dir, *rotProgs, logs, maxBytes)
		d := start(t, fl, setup{dir: dir, programs: progs, extra: "minfds=4096"})
		d.waitAll(5*time.Minute, "RUNNING", *rotProgs)
		rssBefore := rssKiB(d.pid)
		hwmBefore := statusField(d.pid, "VmHWM")
		// Reset the peak to the current RSS (clear_refs 5) so VmHWM
		// measures the wave, not the spawns before it.
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", d.pid), []byte("5"), 0); err != nil {
			t.Logf("cannot reset VmHWM (%v): the peak may predate the wave", err)
		}
		cpuBefore := cpuSeconds(d.pid)
		os.WriteFile(gate, nil, 0o644)
		d.waitAll(5*time.Minute, "EXITED", *rotProgs)
		want := int64(*rotProgs) * int64(data.Len())
		waitFor(t, 2*time.Minute, "every byte in the logs", func() bool { return dirBytes(logs) >= want })
		hwm := statusField(d.pid, "VmHWM")
		ents, _ := os.ReadDir(logs)
		figure(t, fl, "writers", *rotProgs)
		figure(t, fl, "rotations_per_writer", *rotTimes)
		figure(t, fl, "files_in_log_dir", len(ents))
		figure(t, fl, "rss_before_kib", rssBefore)
		figure(t, fl, "peak_rss_kib", hwm)
		figure(t, fl, "peak_over_before_kib", hwm-rssBefore)
		figure(t, fl, "peak_before_wave_kib", hwmBefore)
		figure(t, fl, "cpu_s", fmt.Sprintf("%.2f", cpuSeconds(d.pid)-cpuBefore))
		if got := dirBytes(logs); got != want {
			t.Errorf("%d bytes in the logs, want %d", got, want)
		}
		// Every file holds whole lines only (ours rotates at a line
		// boundary; Python does not).
		for _, e := range ents {
			if fl.name != "ours" {
				break
			}
			b, _ := os.ReadFile(filepath.Join(logs, e.Name()))
			if len(b)%100 != 0 || (len(b) > 0 && b[len(b)-1] != '\n') {
				t.Errorf("%s: %d bytes, not whole lines", e.Name(), len(b))
				break
			}
		}
		d.settleConsistent(30 * time.Second)
	})
}
