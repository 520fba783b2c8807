// Package packaging tests what scripts/package and scripts/release ship: the
// .deb and .rpm (metadata, contents, an install over Debian's supervisor in
// a throwaway root, the installed daemon and client working there, removal)
// and the reproducibility of the release tarballs.
package packaging

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// repo is the repository root (this package's parent).
func repo(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// need fails the test when a tool is missing (scripts/test installs them),
// unless GOSUPERVISOR_SKIP_PACKAGING=1 says to skip.
func need(t *testing.T, tools ...string) {
	t.Helper()
	skip := os.Getenv("GOSUPERVISOR_SKIP_PACKAGING") == "1"
	if os.Geteuid() != 0 {
		if skip {
			t.Skip("not root")
		}
		t.Fatal("the package tests install into a throwaway root with dpkg and chroot: run as root (or set GOSUPERVISOR_SKIP_PACKAGING=1)")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if skip {
				t.Skip(tool + " missing")
			}
			t.Fatalf("%s is missing (scripts/test installs it; or set GOSUPERVISOR_SKIP_PACKAGING=1): %v", tool, err)
		}
	}
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// debArch is Debian's name for the host architecture, as nfpm names it.
func debArch() string {
	if runtime.GOARCH == "arm" {
		return "armhf"
	}
	return runtime.GOARCH
}

// built holds the packages scripts/package made once for every test.
var built struct {
	dist string
	err  string
}

func packages(t *testing.T) string {
	t.Helper()
	if built.err != "" {
		t.Fatal(built.err)
	}
	if built.dist != "" {
		return built.dist
	}
	dist, err := os.MkdirTemp("", "gosupervisor-dist")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("scripts/package", "1.2.3")
	cmd.Dir = repo(t)
	cmd.Env = append(os.Environ(), "DIST="+dist)
	if out, err := cmd.CombinedOutput(); err != nil {
		built.err = "scripts/package: " + err.Error() + "\n" + string(out)
		t.Fatal(built.err)
	}
	built.dist = dist
	return dist
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dist != "" {
		os.RemoveAll(built.dist)
	}
	os.Exit(code)
}

// TestPackageMetadata checks every architecture's .deb and .rpm: names,
// the drop-in relations to Debian's supervisor, the conffile and the files.
func TestPackageMetadata(t *testing.T) {
	need(t, "dpkg-deb", "rpm", "lintian")
	dist := packages(t)
	wantFiles := []string{
		"./usr/bin/supervisord", "./usr/bin/supervisorctl",
		"./etc/supervisor/supervisord.conf", "./etc/supervisor/conf.d/",
		"./lib/systemd/system/supervisor.service", "./var/log/supervisor/",
		"./usr/share/man/man1/supervisord.1.gz", "./usr/share/man/man1/supervisorctl.1.gz",
		"./usr/share/doc/gosupervisor/copyright", "./usr/share/doc/gosupervisor/changelog.Debian.gz",
	}
	for _, arch := range []struct{ deb, rpm, elf string }{
		{"amd64", "x86_64", "x86-64"}, {"arm64", "aarch64", "aarch64"}, {"armhf", "armv7hl", "ARM"},
	} {
		deb := filepath.Join(dist, "gosupervisor_1.2.3-1_"+arch.deb+".deb")
		fields := run(t, "", nil, "dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Provides", "Conflicts", "Replaces")
		want := "Package: gosupervisor\nVersion: 1.2.3-1\nArchitecture: " + arch.deb +
			"\nProvides: supervisor\nConflicts: supervisor\nReplaces: supervisor\n"
		if fields != want {
			t.Errorf("%s control fields:\n%s\nwant:\n%s", deb, fields, want)
		}
		if conffiles := run(t, "", nil, "dpkg-deb", "-I", deb, "conffiles"); conffiles != "/etc/supervisor/supervisord.conf\n" {
			t.Errorf("%s conffiles: %q", deb, conffiles)
		}
		var names []string
		for _, line := range strings.Split(run(t, "", nil, "dpkg-deb", "-c", deb), "\n") {
			if f := strings.Fields(line); len(f) >= 6 {
				names = append(names, f[5])
			}
		}
		for _, f := range wantFiles {
			if !slices.Contains(names, f) {
				t.Errorf("%s lacks %s", deb, f)
			}
		}
		// The binary inside is for that architecture.
		x := t.TempDir()
		run(t, "", nil, "dpkg-deb", "-x", deb, x)
		if head, err := os.ReadFile(filepath.Join(x, "usr/bin/supervisord")); err != nil || len(head) < 20 {
			t.Errorf("%s: supervisord unreadable: %v", deb, err)
		} else if machine := elfMachine(head); machine != arch.elf {
			t.Errorf("%s: supervisord is for %s, want %s", deb, machine, arch.elf)
		}
		if out := run(t, "", nil, "lintian", "--allow-root", deb); strings.TrimSpace(out) != "" {
			t.Errorf("lintian %s (each tag must be fixed or overridden with its reason in packaging/lintian-overrides):\n%s", deb, out)
		}

		rpm := filepath.Join(dist, "gosupervisor-1.2.3-1."+arch.rpm+".rpm")
		info := run(t, "", nil, "rpm", "-qp", "--queryformat", "%{NAME} %{VERSION} %{ARCH}\n", rpm)
		if info != "gosupervisor 1.2.3 "+arch.rpm+"\n" {
			t.Errorf("%s: %q", rpm, info)
		}
		if prov := run(t, "", nil, "rpm", "-qp", "--provides", rpm); !strings.Contains(prov, "supervisor") {
			t.Errorf("%s provides %q", rpm, prov)
		}
		if cfg := run(t, "", nil, "rpm", "-qp", "--configfiles", rpm); !strings.Contains(cfg, "/etc/supervisor/supervisord.conf") {
			t.Errorf("%s config files %q", rpm, cfg)
		}
	}
}

// elfMachine names the e_machine of an ELF header.
func elfMachine(head []byte) string {
	if !bytes.HasPrefix(head, []byte("\x7fELF")) {
		return "not ELF"
	}
	switch uint16(head[18]) | uint16(head[19])<<8 {
	case 0x3e:
		return "x86-64"
	case 0xb7:
		return "aarch64"
	case 0x28:
		return "ARM"
	}
	return "other"
}

// throwawayRoot makes a directory dpkg can install into with --root: an
// empty dpkg database, busybox as /bin/sh and the few tools maintainer
// scripts call, /dev/null, and stand-ins for the Python byte-compilers that
// Debian's supervisor scripts call when present.
func throwawayRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/run", "bin", "usr/bin", "dev", "proc", "tmp", "etc/supervisor/conf.d"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644)
	busybox, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "bin/busybox"), busybox, 0o755)
	for _, tool := range []string{"sh", "sleep", "cat", "rm", "mkdir", "chmod", "sed", "find", "xargs", "echo", "kill", "true"} {
		os.Symlink("busybox", filepath.Join(root, "bin", tool))
	}
	// No init system runs in the root: Debian's supervisor scripts call
	// these to register and start its service, which must not happen here.
	for _, stand := range []string{"py3compile", "py3clean", "update-rc.d", "invoke-rc.d", "deb-systemd-helper", "deb-systemd-invoke"} {
		os.WriteFile(filepath.Join(root, "usr/bin", stand), []byte("#!/bin/sh\nexit 0\n"), 0o755)
	}
	run(t, "", nil, "mknod", "-m", "666", filepath.Join(root, "dev/null"), "c", "1", "3")
	return root
}

// debianSupervisor returns the path of Debian's supervisor package.
func debianSupervisor(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("sh", "-c", "cd "+dir+" && apt-get download supervisor").CombinedOutput(); err != nil {
		t.Logf("apt-get download supervisor: %v: %s; updating the package lists", err, out)
		run(t, dir, nil, "apt-get", "update", "-qq")
		run(t, dir, nil, "apt-get", "download", "supervisor")
	}
	m, _ := filepath.Glob(filepath.Join(dir, "supervisor_*.deb"))
	if len(m) != 1 {
		t.Fatalf("apt-get download supervisor: %v", m)
	}
	return m[0]
}

// TestDebReplacesDebianSupervisor is the seed user's switch: Debian's
// supervisor installed, its supervisord.conf edited and a program in
// conf.d; installing our .deb removes Debian's package, keeps both files
// untouched, and the installed supervisord runs them, driven by the
// installed supervisorctl; removing ours leaves the configuration.
func TestDebReplacesDebianSupervisor(t *testing.T) {
	need(t, "dpkg", "apt-get", "chroot", "unshare", "mknod")
	if _, err := os.Stat("/bin/busybox"); err != nil {
		need(t, "busybox")
	}
	dist := packages(t)
	ours := filepath.Join(dist, "gosupervisor_1.2.3-1_"+debArch()+".deb")
	root := throwawayRoot(t)
	dpkg := func(args ...string) string {
		return run(t, "", nil, "dpkg", append([]string{"--root=" + root, "--force-depends", "--force-unsafe-io"}, args...)...)
	}

	dpkg("-i", debianSupervisor(t))
	confPath := filepath.Join(root, "etc/supervisor/supervisord.conf")
	conf, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatal(err)
	}
	edited := append(conf, []byte("\n; edited by the user\n")...)
	os.WriteFile(confPath, edited, 0o644)
	program := []byte("[program:app]\ncommand=/bin/sleep 1000\nstartsecs=0\n")
	appPath := filepath.Join(root, "etc/supervisor/conf.d/app.conf")
	os.WriteFile(appPath, program, 0o644)

	out := dpkg("-i", ours)
	if !strings.Contains(out, "removing supervisor") && !strings.Contains(out, "Removing supervisor") {
		t.Logf("dpkg -i output:\n%s", out)
	}
	status := run(t, "", nil, "dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f", "${Package} ${db:Status-Abbrev}\n")
	if !strings.Contains(status, "gosupervisor ii") {
		t.Errorf("gosupervisor not installed after the switch:\n%s", status)
	}
	for _, line := range strings.Split(status, "\n") {
		if strings.HasPrefix(line, "supervisor ") && strings.Contains(line, "ii") {
			t.Errorf("Debian's supervisor is still installed: %q", line)
		}
	}
	if got, _ := os.ReadFile(confPath); !bytes.Equal(got, edited) {
		t.Errorf("supervisord.conf changed by the switch:\n%s", got)
	}
	if got, _ := os.ReadFile(appPath); !bytes.Equal(got, program) {
		t.Errorf("conf.d/app.conf changed by the switch:\n%s", got)
	}
	if v := run(t, "", nil, "chroot", root, "/usr/bin/supervisord", "--gosupervisor-version"); !strings.HasPrefix(v, "gosupervisor 1.2.3 (commit ") {
		t.Errorf("installed supervisord --gosupervisor-version: %q", v)
	}

	runInstalled(t, root)

	dpkg("-r", "gosupervisor")
	for _, gone := range []string{"usr/bin/supervisord", "usr/bin/supervisorctl", "lib/systemd/system/supervisor.service"} {
		if _, err := os.Stat(filepath.Join(root, gone)); err == nil {
			t.Errorf("%s left after dpkg -r", gone)
		}
	}
	if got, _ := os.ReadFile(confPath); !bytes.Equal(got, edited) {
		t.Errorf("supervisord.conf not kept by dpkg -r")
	}
	if got, _ := os.ReadFile(appPath); !bytes.Equal(got, program) {
		t.Errorf("conf.d/app.conf not kept by dpkg -r")
	}
}

// runInstalled runs the installed supervisord on the packaged config in the
// throwaway root (its own pid and mount namespace, /proc mounted there),
// checks the conf.d program with the installed supervisorctl, and shuts it
// down with supervisorctl; the daemon must exit 0 with no child left.
func runInstalled(t *testing.T, root string) {
	t.Helper()
	daemon := exec.Command("unshare", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc="+filepath.Join(root, "proc"),
		"chroot", root, "/usr/bin/supervisord", "-n", "-c", "/etc/supervisor/supervisord.conf")
	var log bytes.Buffer
	daemon.Stdout, daemon.Stderr = &log, &log
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- daemon.Wait() }()
	exited := false
	defer func() {
		if !exited {
			daemon.Process.Kill() // unshare --kill-child takes the daemon with it
			<-done
		}
	}()
	ctl := func(args ...string) (string, error) {
		out, err := exec.Command("chroot", append([]string{root, "/usr/bin/supervisorctl"}, args...)...).CombinedOutput()
		return string(out), err
	}
	deadline := time.Now().Add(60 * time.Second)
	var out string
	for {
		var err error
		out, err = ctl("status")
		if err == nil && strings.Contains(out, "RUNNING") {
			break
		}
		select {
		case err := <-done:
			exited = true
			t.Fatalf("installed supervisord exited early: %v\n%s", err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("installed supervisorctl status never showed app RUNNING: %q\n%s", out, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.HasPrefix(out, "app ") {
		t.Errorf("status: %q", out)
	}
	if out, err := ctl("shutdown"); err != nil || !strings.Contains(out, "Shut down") {
		t.Errorf("supervisorctl shutdown: %v %q", err, out)
	}
	select {
	case err := <-done:
		exited = true
		if err != nil {
			t.Errorf("installed supervisord: %v\n%s", err, log.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("installed supervisord did not exit after shutdown\n%s", log.String())
	}
	// The program was stopped by the daemon, not left to the namespace's end.
	if !strings.Contains(log.String(), "stopped: app (terminated by SIGTERM)") {
		t.Errorf("main log does not show app stopped by SIGTERM:\n%s", log.String())
	}
}

// TestReleaseReproducible runs scripts/release for every target, checks the
// tarballs (SHA256SUMS, contents, the stamped version), then builds two of
// them again from a copy of the tree at another path and compares
// checksums: -trimpath, no build id and fixed mtimes make them identical.
func TestReleaseReproducible(t *testing.T) {
	need(t, "tar", "gzip", "sha256sum", "git")
	src := repo(t)
	commit := strings.TrimSpace(run(t, src, nil, "git", "rev-parse", "--short=12", "HEAD"))
	dist1 := t.TempDir()
	run(t, src, []string{"DIST=" + dist1}, "scripts/release", "1.2.3")
	run(t, dist1, nil, "sha256sum", "-c", "SHA256SUMS")
	sums1 := readSums(t, dist1)
	for _, target := range []string{"linux_amd64", "linux_arm64", "linux_armv7", "darwin_amd64", "darwin_arm64"} {
		name := "gosupervisor_1.2.3_" + target
		if _, ok := sums1[name+".tar.gz"]; !ok {
			t.Fatalf("no %s.tar.gz in SHA256SUMS: %v", name, sums1)
		}
		list := run(t, dist1, nil, "tar", "tzf", name+".tar.gz")
		want := []string{name + "/README.md", name + "/LICENSE", name + "/examples/supervisord.conf", name + "/supervisorctl"}
		if strings.HasPrefix(target, "linux") {
			want = append(want, name+"/supervisord")
		} else if strings.Contains(list, name+"/supervisord\n") {
			t.Errorf("%s ships the Linux-only daemon", name)
		}
		for _, w := range want {
			if !strings.Contains(list, w+"\n") {
				t.Errorf("%s lacks %s:\n%s", name, w, list)
			}
		}
	}
	x := t.TempDir()
	run(t, x, nil, "tar", "xzf", filepath.Join(dist1, "gosupervisor_1.2.3_linux_"+runtime.GOARCH+".tar.gz"))
	bin := filepath.Join(x, "gosupervisor_1.2.3_linux_"+runtime.GOARCH, "supervisord")
	if v := run(t, "", nil, bin, "--gosupervisor-version"); v != "gosupervisor 1.2.3 (commit "+commit+"; supervisord 4.2.5 compatible)\n" {
		t.Errorf("released supervisord --gosupervisor-version = %q", v)
	}

	// The same commit, another directory, another clone: the same bytes.
	copyDir := filepath.Join(t.TempDir(), "elsewhere")
	run(t, "", nil, "git", "clone", "-q", "--no-hardlinks", src, copyDir)
	run(t, copyDir, nil, "git", "checkout", "-q", commit)
	for _, f := range gitChanges(t, src) { // uncommitted edits of a developer's tree
		data, err := os.ReadFile(filepath.Join(src, f))
		if err == nil {
			os.MkdirAll(filepath.Dir(filepath.Join(copyDir, f)), 0o755)
			os.WriteFile(filepath.Join(copyDir, f), data, 0o755)
		}
	}
	dist2 := t.TempDir()
	run(t, copyDir, []string{"DIST=" + dist2, "TARGETS=linux/" + runtime.GOARCH + " darwin/arm64"}, "scripts/release", "1.2.3")
	sums2 := readSums(t, dist2)
	if len(sums2) != 2 {
		t.Fatalf("second build: %v", sums2)
	}
	for name, sum := range sums2 {
		if sums1[name] != sum {
			t.Errorf("%s differs between two builds of commit %s: %s vs %s", name, commit, sums1[name], sum)
		}
	}
}

func readSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			sums[f[1]] = f[0]
		}
	}
	return sums
}

// gitChanges lists tracked files that differ from HEAD and untracked ones.
func gitChanges(t *testing.T, dir string) []string {
	t.Helper()
	out := run(t, dir, nil, "git", "status", "--porcelain", "--untracked-files=all")
	var files []string
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 3 && line[1] != 'D' && line[0] != 'D' {
			files = append(files, strings.TrimSpace(line[3:]))
		}
	}
	return files
}
