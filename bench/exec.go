package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runTo runs /bin/sh script with stdout to f.
func runTo(script string, f *os.File) error {
	cmd := exec.Command("/bin/sh", script)
	cmd.Stdout = f
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("run %s: %w: %s", script, err, stderr.String())
	}
	return nil
}

// copierCPU runs script with its stdout piped into dd, which writes it to
// out in 1 MiB blocks, and returns dd's own CPU seconds (user + system).
func copierCPU(script, out string, nbytes int64) (float64, error) {
	defer os.Remove(out)
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("copier pipe: %w", err)
	}
	writer := exec.Command("/bin/sh", script)
	writer.Stdout = pw
	dd := exec.Command("dd", "of="+out, "bs=1M", "iflag=fullblock", "status=none")
	dd.Stdin = pr
	var stderr strings.Builder
	dd.Stderr = &stderr
	if err := dd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return 0, fmt.Errorf("start dd: %w", err)
	}
	pr.Close()
	werr := writer.Start()
	pw.Close()
	if werr == nil {
		werr = writer.Wait()
	}
	derr := dd.Wait()
	if werr != nil {
		return 0, fmt.Errorf("copier writer: %w", werr)
	}
	if derr != nil {
		return 0, fmt.Errorf("dd: %w: %s", derr, stderr.String())
	}
	if st, err := os.Stat(out); err != nil {
		return 0, fmt.Errorf("dd: %w", err)
	} else if st.Size() != nbytes {
		return 0, fmt.Errorf("dd copied %d bytes, want %d", st.Size(), nbytes)
	}
	return (dd.ProcessState.UserTime() + dd.ProcessState.SystemTime()).Seconds(), nil
}

// copiersCPU runs copierCPU for writers copies of script at once, each into
// its own file in dir, and returns the CPU seconds of all the dd processes.
func copiersCPU(script, dir string, per int64, writers int) (float64, error) {
	return sumParallel(writers, func(i int) (float64, error) {
		return copierCPU(script, filepath.Join(dir, fmt.Sprintf("copier%03d.out", i)), per)
	})
}

// pageCacheCPU runs writers `dd if=/dev/zero bs=64K` at once, each writing
// per bytes into its own file in dir (64 KiB: what one read of a full pipe
// returns), and returns their CPU seconds summed: the page-cache write
// floor of capturing that many bytes, without the pipe.
func pageCacheCPU(dir string, per int64, writers int) (float64, error) {
	return sumParallel(writers, func(i int) (float64, error) {
		path := filepath.Join(dir, fmt.Sprintf("pagecache%03d.out", i))
		defer os.Remove(path)
		dd := exec.Command("dd", "if=/dev/zero", "of="+path, "bs=64K", fmt.Sprintf("count=%d", per), "iflag=count_bytes", "status=none")
		if msg, err := dd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("dd if=/dev/zero: %w: %s", err, msg)
		}
		if st, err := os.Stat(path); err != nil {
			return 0, fmt.Errorf("dd if=/dev/zero: %w", err)
		} else if st.Size() != per {
			return 0, fmt.Errorf("dd if=/dev/zero wrote %d bytes, want %d", st.Size(), per)
		}
		return (dd.ProcessState.UserTime() + dd.ProcessState.SystemTime()).Seconds(), nil
	})
}

// sumParallel runs f(0..n-1) at once and sums what they return; the error
// is the first one seen.
func sumParallel(n int, f func(i int) (float64, error)) (float64, error) {
	type res struct {
		cpu float64
		err error
	}
	out := make(chan res, n)
	for i := range n {
		go func() {
			cpu, err := f(i)
			out <- res{cpu, err}
		}()
	}
	var sum float64
	var first error
	for range n {
		r := <-out
		sum += r.cpu
		if r.err != nil && first == nil {
			first = r.err
		}
	}
	return sum, first
}

// BareSpawn fork+execs n copies of /bin/sleep from this process, each with
// stdin, stdout and stderr pipes whose parent ends stay open (as a
// supervisor keeps them), and returns how long the n spawns took: the
// machine's floor for starting n programs. It kills and reaps them after.
func BareSpawn(n int) (time.Duration, error) {
	procs := make([]*os.Process, 0, n)
	var keep []*os.File
	defer func() {
		for _, p := range procs {
			p.Kill()
		}
		for _, p := range procs {
			p.Wait()
		}
		for _, f := range keep {
			f.Close()
		}
	}()
	env := os.Environ()
	t0 := time.Now()
	for range n {
		var child [3]*os.File
		for i := range child {
			r, w, err := os.Pipe()
			if err != nil {
				return 0, fmt.Errorf("bare spawn pipe: %w", err)
			}
			if i == 0 {
				child[i] = r
				keep = append(keep, w)
			} else {
				child[i] = w
				keep = append(keep, r)
			}
		}
		p, err := os.StartProcess("/bin/sleep", []string{"/bin/sleep", "100000"}, &os.ProcAttr{
			Env: env, Files: child[:], Sys: &syscall.SysProcAttr{Setpgid: true}})
		for _, f := range child {
			f.Close()
		}
		if err != nil {
			return 0, fmt.Errorf("bare spawn: %w", err)
		}
		procs = append(procs, p)
	}
	return time.Since(t0), nil
}
