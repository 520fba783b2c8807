package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
)

// pprofEnv names the developers' profiling switch: a loopback host:port on
// which the daemon serves net/http/pprof (with mutex and block profiling on)
// until it exits. It is for measuring, not for production, and is off
// unless set.
const pprofEnv = "GOSUPERVISOR_PPROF"

// startPprof serves the profiles when pprofEnv is set, and returns the
// address it listens on (nil when unset). Only a loopback address is
// accepted: the profiles expose the daemon's memory.
func startPprof() (net.Addr, error) {
	addr := os.Getenv(pprofEnv)
	if addr == "" {
		return nil, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", pprofEnv, addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%s=%s: not a loopback address", pprofEnv, addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pprofEnv, err)
	}
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(100_000) // one sample per 100 us blocked
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go http.Serve(l, mux) //nolint:errcheck // ends with the process
	return l.Addr(), nil
}

// Without the profiling switch heap profiling is off: its sampling keeps a
// table of 180,000 buckets (runtime.MemStats.BuckHashSys, 1.4 MB) in the
// daemon's memory, and nothing reads the profile.
func init() {
	if os.Getenv(pprofEnv) == "" {
		runtime.MemProfileRate = 0
	}
}
