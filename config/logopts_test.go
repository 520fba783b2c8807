package config

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func loadLogOpts(t *testing.T, supervisord, program string) (*Config, string, error) {
	t.Helper()
	return loadLogOptsIn(t, t.TempDir(), supervisord, program)
}

func loadLogOptsIn(t *testing.T, dir, supervisord, program string) (*Config, string, error) {
	t.Helper()
	path := filepath.Join(dir, "supervisord.conf")
	text := "[supervisord]\nlogfile=" + filepath.Join(dir, "s.log") + "\npidfile=" + filepath.Join(dir, "s.pid") +
		"\n" + supervisord + "\n[program:p]\ncommand=/bin/true\nstdout_logfile=" + filepath.Join(dir, "p.log") + "\n" + program + "\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, LoadOptions{Cwd: dir, Hostname: "h", TempDir: dir})
	return cfg, path, err
}

// TestChannelLogOptions: the opt-in per-channel log keys, good and bad
// values; a bad value names the option, section and file.
func TestChannelLogOptions(t *testing.T) {
	cases := []struct {
		program string
		want    LogConfig // only the opt-in fields are compared
		stderr  bool
		err     string
	}{
		{"", LogConfig{}, false, ""},
		{"stdout_logfile_timestamps = true", LogConfig{Timestamps: true}, false, ""},
		{"stderr_logfile_timestamps = yes", LogConfig{Timestamps: true}, true, ""},
		{"stdout_logfile_compress = on", LogConfig{Compress: true}, false, ""},
		{"stdout_logfile_maxage = 7", LogConfig{MaxAgeDays: 7}, false, ""},
		{"stdout_logfile_maxage = 0", LogConfig{}, false, ""},
		{"stdout_logfile_rotate_every = 1h", LogConfig{RotateEvery: time.Hour}, false, ""},
		{"stdout_logfile_rotate_every = 1d", LogConfig{RotateEvery: 24 * time.Hour}, false, ""},
		{"stderr_logfile_rotate_every = 7D", LogConfig{RotateEvery: 7 * 24 * time.Hour}, true, ""},
		{"stdout_logfile_timestamps = maybe", LogConfig{}, false, "stdout_logfile_timestamps: not a valid boolean value: 'maybe' in section 'program:p' (file: "},
		{"stderr_logfile_compress = 2", LogConfig{}, true, "stderr_logfile_compress: not a valid boolean value: '2' in section 'program:p'"},
		{"stdout_logfile_maxage = -1", LogConfig{}, false, "stdout_logfile_maxage: '-1' is not a number of days (0 or more) in section 'program:p'"},
		{"stdout_logfile_maxage = 7d", LogConfig{}, false, "stdout_logfile_maxage: '7d' is not a number of days"},
		{"stdout_logfile_rotate_every = 5m", LogConfig{}, false, "stdout_logfile_rotate_every: '5m' is not an interval such as 1h, 1d or 7d in section 'program:p'"},
		{"stdout_logfile_rotate_every = 0h", LogConfig{}, false, "stdout_logfile_rotate_every: '0h' is not an interval"},
		{"stdout_logfile_rotate_every = daily", LogConfig{}, false, "stdout_logfile_rotate_every: 'daily' is not an interval"},
	}
	for _, tc := range cases {
		t.Run(tc.program, func(t *testing.T) {
			cfg, path, err := loadLogOpts(t, "", tc.program)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if !strings.Contains(err.Error(), path) {
					t.Fatalf("error %v does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := cfg.Groups[0].Processes[0]
			got, other := p.Stdout, p.Stderr
			if tc.stderr {
				got, other = p.Stderr, p.Stdout
			}
			opt := func(c LogConfig) LogConfig {
				return LogConfig{Timestamps: c.Timestamps, Compress: c.Compress, MaxAgeDays: c.MaxAgeDays, RotateEvery: c.RotateEvery}
			}
			if opt(got) != tc.want || opt(other) != (LogConfig{}) {
				t.Fatalf("got %+v (other channel %+v), want %+v", opt(got), opt(other), tc.want)
			}
		})
	}
}

// TestMainLogOptions: the opt-in [supervisord] log keys.
func TestMainLogOptions(t *testing.T) {
	cases := []struct {
		section string
		check   func(s Supervisord) bool
		err     string
	}{
		{"", func(s Supervisord) bool {
			return !s.LogfileCompress && s.LogfileMaxAgeDays == 0 && s.LogfileRotateEvery == 0 && s.LogfileFormat == LogFormatText
		}, ""},
		{"logfile_compress = true\nlogfile_maxage = 30\nlogfile_rotate_every = 1d\nlogfile_format = json", func(s Supervisord) bool {
			return s.LogfileCompress && s.LogfileMaxAgeDays == 30 && s.LogfileRotateEvery == 24*time.Hour && s.LogfileFormat == LogFormatJSON
		}, ""},
		{"logfile_format = JSON", func(s Supervisord) bool { return s.LogfileFormat == LogFormatJSON }, ""},
		{"logfile_format = xml", nil, "logfile_format: 'xml' is not text or json in section 'supervisord' (file: "},
		{"logfile_compress = sometimes", nil, "logfile_compress: not a valid boolean value: 'sometimes' in section 'supervisord'"},
		{"logfile_maxage = week", nil, "logfile_maxage: 'week' is not a number of days (0 or more) in section 'supervisord'"},
		{"logfile_rotate_every = 30s", nil, "logfile_rotate_every: '30s' is not an interval such as 1h, 1d or 7d in section 'supervisord'"},
	}
	for _, tc := range cases {
		t.Run(tc.section, func(t *testing.T) {
			cfg, path, err := loadLogOpts(t, tc.section, "")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), path) {
					t.Fatalf("error %v, want %q naming %s", err, tc.err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(cfg.Supervisord) {
				t.Fatalf("supervisord %+v", cfg.Supervisord)
			}
		})
	}
}

// TestDiffSeesLogOptions: changing any opt-in log key changes the group.
func TestDiffSeesLogOptions(t *testing.T) {
	dir := t.TempDir()
	base, _, err := loadLogOptsIn(t, dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if same, _, _ := loadLogOptsIn(t, dir, "", ""); !same.Groups[0].Equal(base.Groups[0]) {
		t.Fatal("the same config differs")
	}
	for _, opt := range []string{
		"stdout_logfile_timestamps = true", "stderr_logfile_timestamps = true",
		"stdout_logfile_compress = true", "stdout_logfile_maxage = 3",
		"stdout_logfile_rotate_every = 1h", "stderr_logfile_rotate_every = 1d",
	} {
		cfg, _, err := loadLogOptsIn(t, dir, "", opt)
		if err != nil {
			t.Fatal(err)
		}
		if _, changed, _ := Diff(base, cfg); !slices.Equal(changed, []string{"p"}) {
			t.Errorf("%s: changed %v, want [p]", opt, changed)
		}
	}
}

// FuzzRotateInterval: any input either fails or gives a whole number of
// hours (0 only for "", "0") that the canonical form parses back to.
func FuzzRotateInterval(f *testing.F) {
	for _, s := range []string{"", "0", "1h", "1d", "7d", " 6H ", "5m", "-1h", "99999999999h", "1.5h", "d", "0d", "400d", "366d", "8785h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := RotateInterval(s)
		if err != nil {
			if d != 0 || !strings.Contains(err.Error(), "is not an interval") {
				t.Fatalf("RotateInterval(%q) = %v, %v", s, d, err)
			}
			return
		}
		if d < 0 || d%time.Hour != 0 {
			t.Fatalf("RotateInterval(%q) = %v", s, d)
		}
		if d == 0 {
			return
		}
		back, err := RotateInterval(strconv.Itoa(int(d/time.Hour)) + "h")
		if err != nil || back != d {
			t.Fatalf("%q -> %v does not round-trip: %v, %v", s, d, back, err)
		}
	})
}
