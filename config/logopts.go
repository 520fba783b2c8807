package config

import (
	"strconv"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// The opt-in log keys of gosupervisor (not in Python 4.2.5, which ignores
// unknown keys, so a config using them still loads there):
//
//	[program:x]   stdout_logfile_timestamps, stdout_logfile_compress,
//	              stdout_logfile_maxage, stdout_logfile_rotate_every
//	              (and the stderr_ forms)
//	[supervisord] logfile_compress, logfile_maxage, logfile_rotate_every,
//	              logfile_format
//
// A bad value is a config error that names the option; the loader adds
// the section and file.

// Main log formats (logfile_format).
const (
	LogFormatText = "text"
	LogFormatJSON = "json"
)

// readChannelLogOptions reads the opt-in keys of one channel ("stdout" or
// "stderr") of a program section into dst.
func readChannelLogOptions(getv func(opt, def string) (string, error), ch string, dst *LogConfig) error {
	var err error
	keys := channelLogKeys(ch)
	if dst.Timestamps, err = optBool(getv, keys[0]); err != nil {
		return err
	}
	if dst.Compress, err = optBool(getv, keys[1]); err != nil {
		return err
	}
	if dst.MaxAgeDays, err = optMaxAge(getv, keys[2]); err != nil {
		return err
	}
	if dst.RotateEvery, err = optRotateEvery(getv, keys[3]); err != nil {
		return err
	}
	return nil
}

// channelLogKeys are readChannelLogOptions' keys of channel ch, as
// constants for the two channels (building them cost 8 allocations per
// program).
func channelLogKeys(ch string) [4]string {
	switch ch {
	case "stdout":
		return [4]string{"stdout_logfile_timestamps", "stdout_logfile_compress", "stdout_logfile_maxage", "stdout_logfile_rotate_every"}
	case "stderr":
		return [4]string{"stderr_logfile_timestamps", "stderr_logfile_compress", "stderr_logfile_maxage", "stderr_logfile_rotate_every"}
	}
	prefix := ch + "_logfile_"
	return [4]string{prefix + "timestamps", prefix + "compress", prefix + "maxage", prefix + "rotate_every"}
}

// readMainLogOptions reads the opt-in main log keys of [supervisord].
func (l *loader) readMainLogOptions(s *Supervisord) error {
	getv := func(opt, def string) (string, error) {
		v, _, err := l.getSupervisord(opt, &def)
		return v, err
	}
	err := func() error {
		var err error
		if s.LogfileCompress, err = optBool(getv, "logfile_compress"); err != nil {
			return err
		}
		if s.LogfileMaxAgeDays, err = optMaxAge(getv, "logfile_maxage"); err != nil {
			return err
		}
		if s.LogfileRotateEvery, err = optRotateEvery(getv, "logfile_rotate_every"); err != nil {
			return err
		}
		v, err := getv("logfile_format", LogFormatText)
		if err != nil {
			return err
		}
		switch f := strings.ToLower(strings.TrimSpace(v)); f {
		case LogFormatText, LogFormatJSON:
			s.LogfileFormat = f
		default:
			return errorf("logfile_format: " + pyrepr.Str(v) + " is not text or json")
		}
		return nil
	}()
	if err != nil {
		file, ok := l.parser.sectionToFile["supervisord"]
		if !ok {
			file = l.configfile
		}
		return errorf(err.Error() + " in section 'supervisord' (file: " + pyrepr.Str(file) + ")")
	}
	return nil
}

// optBool reads a boolean key that defaults to false, naming it in errors.
func optBool(getv func(opt, def string) (string, error), opt string) (bool, error) {
	v, err := getv(opt, "false")
	if err != nil {
		return false, err
	}
	b, err := boolean(v)
	if err != nil {
		return false, errorf(opt + ": " + err.Error())
	}
	return b, nil
}

// optMaxAge reads a *_maxage key: whole days, 0 (the default) keeping
// backups regardless of age.
func optMaxAge(getv func(opt, def string) (string, error), opt string) (int, error) {
	v, err := getv(opt, "0")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, errorf(opt + ": " + pyrepr.Str(v) + " is not a number of days (0 or more)")
	}
	return n, nil
}

// optRotateEvery reads a *_rotate_every key (see RotateInterval).
func optRotateEvery(getv func(opt, def string) (string, error), opt string) (time.Duration, error) {
	v, err := getv(opt, "")
	if err != nil {
		return 0, err
	}
	d, err := RotateInterval(v)
	if err != nil {
		return 0, errorf(opt + ": " + err.Error())
	}
	return d, nil
}

// maxRotateEvery is the longest rotate_every: a leap year.
const maxRotateEvery = 366 * 24 * time.Hour

// RotateInterval parses a rotate_every value: a whole number of hours or
// days, "1h", "6h", "1d", "7d" ("" or "0": no time-based rotation).
// Rotation happens at the interval's boundaries in UTC.
func RotateInterval(s string) (time.Duration, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "" || v == "0" {
		return 0, nil
	}
	unit := time.Hour
	switch {
	case strings.HasSuffix(v, "h"):
	case strings.HasSuffix(v, "d"):
		unit = 24 * time.Hour
	default:
		return 0, errorf(pyrepr.Str(s) + " is not an interval such as 1h, 1d or 7d")
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n <= 0 || n > int(maxRotateEvery/unit) {
		return 0, errorf(pyrepr.Str(s) + " is not an interval such as 1h, 1d or 7d")
	}
	return time.Duration(n) * unit, nil
}
