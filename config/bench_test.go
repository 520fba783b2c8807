package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// BenchmarkLoad1000 reads a config with 1,000 programs (the bench/ scale).
func BenchmarkLoad1000(b *testing.B) {
	dir := b.TempDir()
	var sb strings.Builder
	sb.WriteString("[supervisord]\n[unix_http_server]\nfile=%(here)s/s.sock\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sb, "[program:p%d]\ncommand=/bin/sleep %%(process_num)d\nstdout_logfile=%%(here)s/p%d.log\nenvironment=A=%%(program_name)s,B=2\nuser=root\n", i, i)
	}
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cfg, err := Load(path, LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(cfg.Groups) != 1000 {
			b.Fatalf("%d groups", len(cfg.Groups))
		}
	}
}

// BenchmarkLoad6000 is a config load at issue 19's scale, the way the
// shared harness writes it; cpu-us/program is the figure (target <= 20).
func BenchmarkLoad6000(b *testing.B) {
	dir := b.TempDir()
	var sb strings.Builder
	sb.WriteString("[unix_http_server]\nfile=%(here)s/s.sock\nchmod=0700\n[supervisord]\nlogfile=%(here)s/supervisord.log\nloglevel=info\nnodaemon=true\nminfds=19000\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n")
	for i := 0; i < 6000; i++ {
		fmt.Fprintf(&sb, "[program:p%04d]\ncommand=/bin/sleep 100000\nstartsecs=0\nautostart=true\nautorestart=true\nstopwaitsecs=10\nstdout_logfile=%s/logs/p%04d.log\nredirect_stderr=true\n\n", i, dir, i)
	}
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	b.ResetTimer()
	defer func() {
		syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		cpu := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
		b.ReportMetric(float64(cpu)/1e3/float64(b.N)/6000, "cpu-us/program")
	}()
	for i := 0; i < b.N; i++ {
		cfg, err := Load(path, LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(cfg.Groups) != 6000 {
			b.Fatalf("%d groups", len(cfg.Groups))
		}
	}
}
