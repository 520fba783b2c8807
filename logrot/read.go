package logrot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
)

// Errors of ReadFile and MainLog.Clear; the names are supervisord's fault
// names (the rpc layer maps them to fault codes).
var (
	// ErrBadArguments: a negative length, or a negative offset with a
	// non-zero length.
	ErrBadArguments = errors.New("BAD_ARGUMENTS")
	// ErrNoFile: the log file does not exist (or there is none).
	ErrNoFile = errors.New("NO_FILE")
	// ErrFailed: any other I/O error.
	ErrFailed = errors.New("FAILED")
)

// ReadFile is Python's supervisor.options.readFile, behind readLog and
// readProcessStdoutLog/readProcessStderrLog:
//
//	offset >= 0, length == 0: from offset to EOF ("" past EOF)
//	offset >= 0, length > 0:  up to length bytes from offset
//	offset < 0,  length == 0: the last |offset| bytes (or the whole file)
//	length < 0, or offset < 0 with length != 0: ErrBadArguments
//
// A missing file is ErrNoFile (the rpc layer checks existence first, so it
// wins over bad arguments); other errors wrap ErrFailed.
func ReadFile(path string, offset, length int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("logrot: read %s: %w", path, ErrNoFile)
		}
		return nil, fmt.Errorf("logrot: read %s: %w: %w", path, ErrFailed, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("logrot: read %s: %w: %w", path, ErrFailed, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("logrot: read %s: %w: is a directory", path, ErrFailed)
	}
	if offset < 0 && length != 0 || offset >= 0 && length < 0 {
		return nil, fmt.Errorf("logrot: read %s(%d, %d): %w", path, offset, length, ErrBadArguments)
	}
	var data []byte
	if offset < 0 {
		size := fi.Size()
		pos := size + offset // offset is negative
		if offset == math.MinInt64 || pos < 0 {
			pos = 0
		}
		data, err = readRange(f, pos, -1)
	} else if length == 0 {
		data, err = readRange(f, offset, -1)
	} else {
		data, err = readRange(f, offset, length)
	}
	if err != nil {
		return nil, fmt.Errorf("logrot: read %s: %w: %w", path, ErrFailed, err)
	}
	return data, nil
}

// readRange reads from pos up to length bytes (length < 0: to EOF).
func readRange(f *os.File, pos, length int64) ([]byte, error) {
	if _, err := f.Seek(pos, io.SeekStart); err != nil {
		return nil, err
	}
	var r io.Reader = f
	if length >= 0 {
		r = io.LimitReader(f, length)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// addSat adds without overflowing (Python's ints do not overflow).
func addSat(a, b int64) int64 {
	s := a + b
	if a > 0 && b > 0 && s < 0 {
		return math.MaxInt64
	}
	if a < 0 && b < 0 && s >= 0 {
		return math.MinInt64
	}
	return s
}

// TailFile is Python's supervisor.options.tailFile, behind
// tailProcessStdoutLog/tailProcessStderrLog: with sz the file size,
//  1. if sz > offset+length: overflow, offset = sz-1;
//  2. if offset+length > sz: if offset > sz-1, length = 0; offset = sz-length;
//  3. offset and length are clamped to >= 0;
//  4. length bytes are read at offset, and the new offset is sz.
//
// A missing file gives ("", 0, false) as the RPC does; another error gives
// ("", offset, false).
func TailFile(path string, offset, length int64) (data []byte, newOffset int64, overflow bool) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return []byte{}, 0, false
		}
		return []byte{}, offset, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.IsDir() {
		return []byte{}, offset, false // Python's open() fails on a directory
	}
	sz, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return []byte{}, offset, false
	}
	if sz > addSat(offset, length) {
		overflow = true
		offset = sz - 1
	}
	if addSat(offset, length) > sz {
		if offset > sz-1 {
			length = 0
		}
		offset = sz - length
		if length < 0 && offset < sz {
			offset = math.MaxInt64 // sz - length overflowed
		}
	}
	if offset < 0 {
		offset = 0
	}
	if length < 0 {
		length = 0
	}
	if length == 0 {
		return []byte{}, sz, overflow
	}
	data, err = readRange(f, offset, length)
	if err != nil {
		return []byte{}, offset, false
	}
	return data, sz, overflow
}
