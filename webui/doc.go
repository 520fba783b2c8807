// Package webui owns the opt-in web dashboard (dashboard = true in an
// [inet_http_server] or [unix_http_server] section): the page at /ui/ with
// its embedded script and stylesheet, the JSON view it polls
// (/ui/state.json: the process table, readiness and health, CPU and memory
// from the shared procstat sampler with a bounded history per process), its
// actions (/ui/action, with a per-daemon token and a cross-site check) and
// the live log view (/ui/log, /ui/log.json). It serves nothing by itself:
// rpc routes requests to it behind the section's authentication. Without
// JavaScript the page is a server-rendered table whose buttons are forms.
package webui
