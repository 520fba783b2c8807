// Package rpc owns supervisord's remote interface: the server-side XML-RPC
// codec, the fixed system.* and supervisor.* method table with Python
// supervisor 4.2.5's faults (which fault of internal/faults' catalogue each
// typed error of procman and logrot is sent as), coercions and process
// descriptions, and the HTTP front (a small tolerant HTTP/1.1 server)
// serving /RPC2, /logtail, /mainlogtail and the web UI over unix and inet
// listeners with basic auth. It commands the daemon only through the
// Backend interface; it reads logs with logrot.Files.
package rpc
