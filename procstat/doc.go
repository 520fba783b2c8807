// Package procstat owns sampling the CPU time and resident memory of
// supervised processes together with their descendants, from /proc.
//
// One Snapshot is one pass over /proc: a readdir of /proc and one read of
// /proc/<pid>/stat per process (ppid, utime, stime, cutime, cstime, rss;
// nothing else is opened). The descendant tree is built from the ppid
// fields of that one pass, so the cost is linear in the number of processes
// on the host and the same for one supervised process as for ten thousand
// (see BenchmarkSnapshot). A Sampler takes snapshots only when a caller asks
// for one (a /metrics scrape, a health RPC, a memory limit check) and lets
// callers share a recent one, so an idle daemon that nobody asks spends no
// CPU here.
//
// What a tree's figures mean:
//   - CPUSeconds: utime+stime of every live process of the tree plus
//     cutime+cstime (the time of the children each of them has already
//     reaped), at the kernel's 10 ms tick. It grows monotonically while the
//     root runs, except when a descendant leaves the tree without being
//     reaped by it (reparented to init or a subreaper after a double fork),
//     and restarts from 0 with a new root process.
//   - RSSBytes: the sum of the resident set sizes of the live processes of
//     the tree (pages shared between them are counted once per process, as
//     ps and top count them).
//
// Linux only; elsewhere Snapshot returns ErrUnsupported.
package procstat
