//go:build !linux

package procstat

import "os"

func (s *Sampler) scan() ([]proc, error) { return nil, ErrUnsupported }

func pageSize() int64 { return int64(os.Getpagesize()) }
