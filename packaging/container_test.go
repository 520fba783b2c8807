package packaging

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testchild"
)

// entrypoint reads the ENTRYPOINT of the Dockerfile, so the test runs what
// the image runs.
func entrypoint(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ENTRYPOINT (\[.*\])$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("Dockerfile has no exec-form ENTRYPOINT")
	}
	var argv []string
	if err := json.Unmarshal(m[1], &argv); err != nil {
		t.Fatal(err)
	}
	return argv
}

// containerRoot lays out the image's files (the binaries built as the
// Dockerfile builds them, packaging/container's config) plus busybox for the
// test's programs, with the given conf.d files.
func containerRoot(t *testing.T, confd map[string]string) string {
	t.Helper()
	root := throwawayRoot(t)
	for _, d := range []string{"var/log/supervisor", "run"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	run(t, repo(t), []string{"VERSION=1.2.3", "COMMIT=000000000000"}, "scripts/build-binaries", filepath.Join(root, "usr/bin"), "linux", runtimeArch())
	conf, err := os.ReadFile(filepath.Join(repo(t), "packaging/container/supervisord.conf"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "etc/supervisor/supervisord.conf"), conf, 0o644)
	// A container runtime provides these in /dev.
	os.Symlink("/proc/self/fd/1", filepath.Join(root, "dev/stdout"))
	os.Symlink("/proc/self/fd/2", filepath.Join(root, "dev/stderr"))
	// distroless/static ships these (user=root in the config looks root up).
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644)
	for name, text := range confd {
		os.WriteFile(filepath.Join(root, "etc/supervisor/conf.d", name), []byte(text), 0o644)
	}
	return root
}

func runtimeArch() string {
	return strings.TrimSpace(string(must(exec.Command("go", "env", "GOARCH").Output())))
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// container is the image's entrypoint running as PID 1 of new pid, mount
// and network namespaces, chrooted into root.
type container struct {
	cmd  *exec.Cmd
	out  *testchild.Buffer
	done chan struct{}
	err  error
}

func startContainer(t *testing.T, root string) *container {
	t.Helper()
	argv := entrypoint(t)
	script := "ip link set lo up && exec chroot \"$0\" \"$@\""
	args := append([]string{"--pid", "--fork", "--kill-child", "--mount", "--net", "--mount-proc=" + filepath.Join(root, "proc"),
		"/bin/sh", "-c", script, root}, argv...)
	c := &container{cmd: exec.Command("unshare", args...), out: &testchild.Buffer{}, done: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill() // --kill-child ends the namespace with it
			<-c.done
		}
	})
	return c
}

// pid1 is the host pid of the container's PID 1 (unshare's only child).
func (c *container) pid1(t *testing.T) int {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		kids := children(c.cmd.Process.Pid)
		if len(kids) == 1 {
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", kids[0])); strings.HasSuffix(exe, "/usr/bin/supervisord") {
				return kids[0]
			}
		}
	}
	t.Fatalf("no supervisord under unshare:\n%s", c.out.String())
	return 0
}

// children lists pid's children (from every thread's children file).
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		for _, w := range strings.Fields(string(data)) {
			n, _ := strconv.Atoi(w)
			out = append(out, n)
		}
	}
	return out
}

// waitOutput waits until the container's output matches re.
func (c *container) waitOutput(t *testing.T, re string) {
	t.Helper()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if rx.MatchString(c.out.String()) {
			return
		}
		select {
		case <-c.done:
			if rx.MatchString(c.out.String()) {
				return
			}
			t.Fatalf("container ended (%v) before %q:\n%s", c.err, re, c.out.String())
		default:
		}
	}
	t.Fatalf("container output never matched %q:\n%s", re, c.out.String())
}

func (c *container) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("container did not end:\n%s", c.out.String())
	}
	if c.err == nil {
		return 0
	}
	if ee, ok := c.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("container: %v", c.err)
	return -1
}

// TestContainerEntrypoint: `docker stop` of the image. Programs log to the
// container's stdout (no Illegal seek), /healthz answers, an orphan
// reparented to PID 1 is reaped, and SIGTERM stops the programs in priority
// order (highest first) and exits 0.
func TestContainerEntrypoint(t *testing.T) {
	need(t, "unshare", "chroot", "ip", "nsenter", "mknod")
	root := containerRoot(t, map[string]string{
		"first.conf":   "[program:first]\ncommand=/bin/sh -c 'echo first up; exec sleep 1000'\npriority=100\nstartsecs=0\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\nredirect_stderr=true\n",
		"second.conf":  "[program:second]\ncommand=/bin/sh -c 'echo second up; exec sleep 1000'\npriority=200\nstartsecs=0\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\nredirect_stderr=true\n",
		"orphans.conf": "[program:orphans]\ncommand=/bin/sh -c '(sleep 1001 &); echo orphaned; exec sleep 1000'\npriority=300\nstartsecs=0\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n",
	})
	c := startContainer(t, root)
	pid := c.pid1(t)
	// Spawned in priority order; what the children print may interleave
	// (three shells scheduled on a loaded box), so each line is awaited alone.
	c.waitOutput(t, `(?s)spawned: 'first'.*spawned: 'second'.*spawned: 'orphans'`)
	for _, line := range []string{"first up", "second up", "orphaned"} {
		c.waitOutput(t, `(?m)^`+line+`$`)
	}

	// GET /healthz from inside the container's network namespace.
	health, err := exec.Command("nsenter", "--target", strconv.Itoa(pid), "--net", "--",
		"chroot", root, "/bin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:9001/healthz").CombinedOutput()
	if err != nil || strings.TrimSpace(string(health)) != "ok" {
		t.Errorf("/healthz: %v %q", err, health)
	}

	// The orphan: a `sleep 1001` whose parent is now PID 1, not a program.
	var orphan int
	for deadline := time.Now().Add(30 * time.Second); orphan == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, kid := range children(pid) {
			if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", kid)); string(cmdline) == "sleep\x001001\x00" {
				orphan = kid
			}
		}
	}
	if orphan == 0 {
		t.Fatalf("no orphan reparented to PID 1 (children %v)\n%s", children(pid), c.out.String())
	}
	syscall.Kill(orphan, syscall.SIGKILL)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", orphan)); os.IsNotExist(err) {
			break // reaped: not even a zombie is left
		}
		if time.Now().After(deadline) {
			stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", orphan))
			t.Fatalf("orphan %d not reaped by PID 1: %s", orphan, stat)
		}
	}

	syscall.Kill(pid, syscall.SIGTERM) // docker stop
	if code := c.wait(t); code != 0 {
		t.Errorf("exit status after SIGTERM %d, want 0\n%s", code, c.out.String())
	}
	out := c.out.String()
	order := regexp.MustCompile(`stopped: (\w+)`).FindAllStringSubmatch(out, -1)
	var names []string
	for _, m := range order {
		names = append(names, m[1])
	}
	if strings.Join(names, " ") != "orphans second first" {
		t.Errorf("stop order %v, want orphans second first (descending priority)\n%s", names, out)
	}
	if strings.Contains(out, "Illegal seek") {
		t.Errorf("Illegal seek on /dev/stdout:\n%s", out)
	}
}

// TestContainerExitsOnFatal: a program that goes FATAL ends the container
// with status 1 (exit_on_fatal in the image's config), after stopping the
// others.
func TestContainerExitsOnFatal(t *testing.T) {
	need(t, "unshare", "chroot", "ip", "mknod")
	root := containerRoot(t, map[string]string{
		"steady.conf": "[program:steady]\ncommand=/bin/sleep 1000\npriority=100\nstartsecs=0\n",
		// startsecs=60: the shell exits long before, however loaded the
		// box, so its start fails (FATAL).
		"broken.conf": "[program:broken]\ncommand=/bin/sh -c 'echo broken; exit 3'\npriority=200\nstartsecs=60\nstartretries=0\nautostart=true\n",
	})
	c := startContainer(t, root)
	if code := c.wait(t); code != 1 {
		t.Errorf("exit status %d after a FATAL program, want 1\n%s", code, c.out.String())
	}
	out := c.out.String()
	for _, want := range []string{"gave up: broken entered FATAL state", "stopped: steady"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
