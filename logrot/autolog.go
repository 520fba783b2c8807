package logrot

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
)

// tempChars are the characters of Python's tempfile names.
const tempChars = "abcdefghijklmnopqrstuvwxyz0123456789_"

// AutoName creates an AUTO child log file the way Python's
// get_autochildlog_name (tempfile.mkstemp) does:
// <childlogdir>/<name>-<channel>---<identifier>-<8 random chars>.log,
// created exclusively with mode 0600, and returns its path.
func AutoName(childlogdir, name, identifier, channel string) (string, error) {
	prefix := name + "-" + channel + "---" + identifier + "-"
	var lastErr error
	for range 100 { // tempfile.TMP_MAX is 10000; collisions are rare
		var rnd [8]byte
		for i := range rnd {
			rnd[i] = tempChars[rand.IntN(len(tempChars))]
		}
		path := filepath.Join(childlogdir, prefix+string(rnd[:])+".log")
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			if err := f.Close(); err != nil {
				return "", fmt.Errorf("logrot: create AUTO log %s: %w", path, err)
			}
			return path, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("logrot: create AUTO log in %s: %w", childlogdir, err)
		}
		lastErr = err
	}
	return "", fmt.Errorf("logrot: no usable AUTO log name in %s: %w", childlogdir, lastErr)
}

// autoLogPattern is Python's clear_autochildlogdir regex (applied with
// re.match, so anchored at the start only). The identifier is quoted,
// where Python pastes it in as a regex: an identifier with metacharacters
// never deletes another identifier's logs here.
func autoLogPattern(identifier string) *regexp.Regexp {
	return regexp.MustCompile(`^.+?---` + regexp.QuoteMeta(identifier) + `-\S+\.log\.?\d{0,4}`)
}

// CleanupAutoLogs deletes AUTO child logs (and their rotated backups) of
// identifier from childlogdir, as supervisord does at startup unless
// nocleanup is set. It returns the removed paths; the error joins every
// failure (Python logs "Could not clear childlog dir" / "Failed to clean up
// %r" as warnings and carries on).
func CleanupAutoLogs(childlogdir, identifier string) ([]string, error) {
	entries, err := os.ReadDir(childlogdir)
	if err != nil {
		return nil, fmt.Errorf("logrot: could not clear childlog dir: %w", err)
	}
	re := autoLogPattern(identifier)
	var removed []string
	var errs []error
	for _, e := range entries {
		if !re.MatchString(e.Name()) {
			continue
		}
		path := filepath.Join(childlogdir, e.Name())
		if err := os.Remove(path); err != nil {
			errs = append(errs, fmt.Errorf("logrot: failed to clean up %q: %w", path, err))
			continue
		}
		removed = append(removed, path)
	}
	return removed, errors.Join(errs...)
}
