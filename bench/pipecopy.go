package bench

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// The kernel's share of log capture. Whatever a capturing daemon does, the
// bytes a child writes to its pipe must be copied out of the pipe's pages
// into the page cache; splice(2) does only that, with no user-space copy.
// MeasurePipeCopy times that copy alone, with the writer on the reader's
// CPU and on the other one: when the two run on different CPUs the copy
// reads every cache line from the writer's CPU, which on this 2-vCPU box
// costs several times the page-cache write floor (dd from /dev/zero, whose
// source is a buffer in its own cache). The gap between the two is what no
// capturing daemon can remove.

// pipeCopyWrite is the writer's write size (head -c writes 4 KiB pieces
// into the daemon's pipe here).
const pipeCopyWrite = 4 << 10

// pipeCopyPipe is the pipe's capacity, as the daemon grows a busy pipe to.
const pipeCopyPipe = 1 << 20

// pipeCopyPause is how long the reader lets a pipe it found less than half
// full fill again (the daemon's batchDelay).
const pipeCopyPause = 500 * time.Microsecond

// PipeCopy is the CPU of one pipe-to-file copy of nbytes.
type PipeCopy struct {
	ReaderCPU float64 // seconds: the splicing thread's own CPU
	WriterCPU float64 // seconds: the writing thread's own CPU
	Splices   int     // splice(2) calls that moved bytes
}

// MeasurePipeCopy writes nbytes of 100-byte lines into a pipe in 4 KiB
// writes from a thread pinned to CPU writerCPU, while a thread pinned to
// readerCPU moves them into a new file in dir with splice(2), batching as
// the daemon does (1 MiB pipe, a 500 µs pause after a read that found the
// pipe less than half full). It checks the file holds every byte.
func MeasurePipeCopy(dir string, nbytes int64, writerCPU, readerCPU int) (PipeCopy, error) {
	var r PipeCopy
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return r, fmt.Errorf("pipe copy: pipe: %w", err)
	}
	defer syscall.Close(p[0])
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(p[0]), fSetPipeSz, pipeCopyPipe); e != 0 {
		syscall.Close(p[1])
		return r, fmt.Errorf("pipe copy: F_SETPIPE_SZ: %w", e)
	}
	if err := syscall.SetNonblock(p[0], true); err != nil {
		syscall.Close(p[1])
		return r, fmt.Errorf("pipe copy: nonblock: %w", err)
	}
	path := fmt.Sprintf("%s/pipecopy-%d-%d.out", dir, writerCPU, readerCPU)
	f, err := os.Create(path)
	if err != nil {
		syscall.Close(p[1])
		return r, fmt.Errorf("pipe copy: %w", err)
	}
	defer os.Remove(path)
	defer f.Close()

	type result struct {
		cpu float64
		err error
	}
	wrote := make(chan result, 1)
	go func() {
		cpu, err := pipeCopyWriter(p[1], nbytes, writerCPU)
		syscall.Close(p[1])
		wrote <- result{cpu, err}
	}()
	rc, splices, rerr := pipeCopyReader(p[0], int(f.Fd()), readerCPU)
	w := <-wrote
	if err := errors.Join(w.err, rerr); err != nil {
		return r, fmt.Errorf("pipe copy: %w", err)
	}
	r = PipeCopy{ReaderCPU: rc, WriterCPU: w.cpu, Splices: splices}
	if st, err := f.Stat(); err != nil {
		return r, fmt.Errorf("pipe copy: %w", err)
	} else if st.Size() != nbytes {
		return r, fmt.Errorf("pipe copy: %d bytes in the file, want %d", st.Size(), nbytes)
	}
	return r, nil
}

// fSetPipeSz is F_SETPIPE_SZ (linux/fcntl.h).
const fSetPipeSz = 1031

// pipeCopyWriter writes nbytes of lines to fd from a thread pinned to cpu
// and returns that thread's CPU seconds. The thread ends with the
// goroutine (it stays locked), so its CPU mask goes with it.
func pipeCopyWriter(fd int, nbytes int64, cpu int) (float64, error) {
	runtime.LockOSThread()
	if err := pinThread(cpu); err != nil {
		return 0, err
	}
	buf := []byte(strings.Repeat(logLine+"\n", pipeCopyWrite/100+1)[:pipeCopyWrite])
	t0 := threadCPU()
	var off int64
	for off < nbytes {
		n, err := syscall.Write(fd, buf[:min(int64(len(buf)), nbytes-off)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("write: %w", err)
		}
		off += int64(n)
	}
	return (threadCPU() - t0).Seconds(), nil
}

// pipeCopyReader splices the pipe fd into the file out until EOF from a
// thread pinned to cpu and returns that thread's CPU seconds.
func pipeCopyReader(fd, out int, cpu int) (float64, int, error) {
	runtime.LockOSThread()
	if err := pinThread(cpu); err != nil {
		return 0, 0, err
	}
	pause := syscall.NsecToTimespec(int64(pipeCopyPause))
	t0 := threadCPU()
	splices := 0
	for {
		r, err := syscall.Splice(fd, nil, out, nil, pipeCopyPipe, 0x1|0x2) // SPLICE_F_MOVE|SPLICE_F_NONBLOCK
		n := int64(r)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			n = 0
		case err != nil:
			return 0, splices, fmt.Errorf("splice: %w", err)
		case n == 0:
			return (threadCPU() - t0).Seconds(), splices, nil
		default:
			splices++
		}
		if n < pipeCopyPipe/2 {
			ts := pause
			for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
			}
		}
	}
}

// pinThread binds the calling OS thread to one CPU.
func pinThread(cpu int) error {
	var mask [16]uint64 // 1,024 CPUs
	if cpu < 0 || cpu >= len(mask)*64 {
		return fmt.Errorf("pin to CPU %d: out of range", cpu)
	}
	mask[cpu/64] = 1 << (cpu % 64)
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask[0]))); e != 0 {
		return fmt.Errorf("pin to CPU %d: %w", cpu, e)
	}
	return nil
}

// twoCPUs returns two CPUs this process may run on (false with fewer).
func twoCPUs() (int, int, bool) {
	var mask [16]uint64
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask[0]))); e != 0 {
		return 0, 0, false
	}
	var cpus []int
	for i := 0; i < len(mask)*64 && len(cpus) < 2; i++ {
		if mask[i/64]&(1<<(i%64)) != 0 {
			cpus = append(cpus, i)
		}
	}
	if len(cpus) < 2 {
		return 0, 0, false
	}
	return cpus[0], cpus[1], true
}

// threadCPU is the calling thread's CPU time (user + system).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
