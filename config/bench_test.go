package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
