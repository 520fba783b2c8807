package logrot

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Pruning keeps the newest `backups` rotated files of a log and removes
// the older ones. lumberjack would do it itself, but its mill lists the
// whole directory (with an lstat per entry) after every rotation, each
// Logger in its own goroutine: when the 333 writers of a 1,000-program
// setup rotate in the same moment, 333 listings of one directory run at
// once, and the daemon's RSS rose from 19 MiB to 170 MiB for a few
// seconds (reliability's TestMassRotation). So lumberjack is given no
// backup count (it still renames, reopens, and compresses or ages out
// backups when asked); a pruner removes the surplus instead, one listing
// per directory for every rotation requested while the previous pass ran,
// without lstat, on at most one goroutine per Hub.

// backupTimeFormat is the timestamp lumberjack puts in a backup's name
// (lumberjack.v2's backupTimeFormat, in UTC): "<base>-<time><ext>",
// gzipped backups with ".gz" appended.
const backupTimeFormat = "2006-01-02T15-04-05.000"

// pruneSpec names one log's backups in its directory.
type pruneSpec struct {
	prefix, ext string // "app-", ".log" for app.log
}

// specFor returns how path's backups are named, as lumberjack names them.
func specFor(path string) pruneSpec {
	base := filepath.Base(path)
	ext := filepath.Ext(base)
	return pruneSpec{prefix: base[:len(base)-len(ext)] + "-", ext: ext}
}

// backupTime parses name as one of spec's backups (compressed or not).
func (p pruneSpec) backupTime(name string) (time.Time, bool) {
	name = strings.TrimSuffix(name, ".gz")
	if !strings.HasPrefix(name, p.prefix) || !strings.HasSuffix(name, p.ext) || len(name) < len(p.prefix)+len(p.ext) {
		return time.Time{}, false
	}
	t, err := time.Parse(backupTimeFormat, name[len(p.prefix):len(name)-len(p.ext)])
	return t, err == nil
}

// pruneDir removes, for each spec, the backups in dir beyond the newest
// keep (a backup and its .gz count once, as lumberjack counts them). It
// lists dir once. Errors are ignored, as lumberjack's mill ignores them:
// the next rotation tries again.
func pruneDir(dir string, specs map[pruneSpec]int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type backup struct {
		t     time.Time
		names []string
	}
	exts := map[string]bool{}
	for spec := range specs {
		exts[spec.ext] = true
	}
	found := make(map[pruneSpec]map[time.Time]*backup, len(specs))
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ".gz")
		for ext := range exts {
			// "<prefix><time><ext>": the prefix is what is left.
			cut := len(name) - len(ext) - len(backupTimeFormat)
			if cut <= 0 || !strings.HasSuffix(name, ext) {
				continue
			}
			spec := pruneSpec{prefix: name[:cut], ext: ext}
			if _, ok := specs[spec]; !ok {
				continue
			}
			t, ok := spec.backupTime(name)
			if !ok {
				continue
			}
			m := found[spec]
			if m == nil {
				m = map[time.Time]*backup{}
				found[spec] = m
			}
			b := m[t]
			if b == nil {
				b = &backup{t: t}
				m[t] = b
			}
			b.names = append(b.names, e.Name())
		}
	}
	for spec, m := range found {
		keep := specs[spec]
		if len(m) <= keep {
			continue
		}
		list := make([]*backup, 0, len(m))
		for _, b := range m {
			list = append(list, b)
		}
		slices.SortFunc(list, func(a, b *backup) int { return b.t.Compare(a.t) }) // newest first
		for _, b := range list[keep:] {
			for _, n := range b.names {
				os.Remove(filepath.Join(dir, n)) //nolint:errcheck // retried after the next rotation
			}
		}
	}
}

// pruner runs pruneDir for rotated logs in the background, coalescing the
// requests that arrive while it works: one goroutine at most, started on
// demand and gone when there is nothing left to do.
type pruner struct {
	mu      sync.Mutex
	pending map[string]map[pruneSpec]int // dir -> logs to prune there
	running bool
	idle    *sync.Cond // signalled when the goroutine exits (tests)
}

// request asks for path's backups beyond keep to be removed soon.
func (p *pruner) request(path string, keep int) {
	dir := filepath.Dir(path)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == nil {
		p.pending = map[string]map[pruneSpec]int{}
	}
	specs := p.pending[dir]
	if specs == nil {
		specs = map[pruneSpec]int{}
		p.pending[dir] = specs
	}
	specs[specFor(path)] = keep
	if !p.running {
		p.running = true
		go p.run()
	}
}

func (p *pruner) run() {
	for {
		p.mu.Lock()
		batch := p.pending
		p.pending = nil
		if len(batch) == 0 {
			p.running = false
			if p.idle != nil {
				p.idle.Broadcast()
			}
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		dirs := make([]string, 0, len(batch))
		for d := range batch {
			dirs = append(dirs, d)
		}
		slices.SortFunc(dirs, cmp.Compare[string])
		for _, d := range dirs {
			pruneDir(d, batch[d])
		}
	}
}

// wait blocks until no pruning is pending or running (tests).
func (p *pruner) wait() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = sync.NewCond(&p.mu)
	}
	for p.running {
		p.idle.Wait()
	}
}
