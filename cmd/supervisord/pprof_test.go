package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestStartPprof(t *testing.T) {
	tests := []struct {
		env     string
		wantErr string // "" serves
	}{
		{"", ""},
		{"127.0.0.1:0", ""},
		{"[::1]:0", ""},
		{"0.0.0.0:0", "not a loopback address"},
		{"localhost:0", "not a loopback address"},
		{"127.0.0.1", "missing port"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv(pprofEnv, tt.env)
			addr, err := startPprof()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("startPprof() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				if strings.Contains(err.Error(), "cannot assign requested address") {
					t.Skipf("no %s here: %v", tt.env, err)
				}
				t.Fatal(err)
			}
			if tt.env == "" {
				if addr != nil {
					t.Fatalf("unset %s listens on %v", pprofEnv, addr)
				}
				return
			}
			resp, err := http.Get("http://" + addr.String() + "/debug/pprof/goroutine?debug=1")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine profile:") {
				t.Fatalf("goroutine profile: %d %.200s", resp.StatusCode, body)
			}
		})
	}
}
