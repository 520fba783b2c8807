package rpc

import (
	"net/url"
	"strings"
)

// crossSite reports why a browser request must not change state: the
// browser marks it as coming from another site (Sec-Fetch-Site), or, from
// a browser that sends no Sec-Fetch-Site, its Origin is not this server's
// Host. A request with neither header (supervisorctl, xmlrpc.client, curl)
// passes. This is the rule of net/http's CrossOriginProtection, applied
// here also to the GET actions of Python's web UI. "" means allowed.
func crossSite(req *request) string {
	return CrossSiteReason(req.header("Sec-Fetch-Site"), req.header("Origin"), req.header("Host"))
}

// CrossSiteReason is the rule behind crossSite for the values of the
// Sec-Fetch-Site, Origin and Host headers ("" for absent); the web
// dashboard applies it to its own routes. "" means allowed.
func CrossSiteReason(fetchSite, origin, host string) string {
	if fetchSite != "" {
		switch strings.ToLower(strings.TrimSpace(fetchSite)) {
		case "same-origin", "none":
			return ""
		}
		return "Sec-Fetch-Site: " + fetchSite
	}
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, strings.TrimSpace(host)) {
		return "Origin " + origin + " is not this server"
	}
	return ""
}

// changesState reports whether a request may change the daemon's state:
// every request to /RPC2 (reads and writes share the POST), a web UI
// action other than refresh, and any method but GET and HEAD elsewhere.
func changesState(req *request, path string) bool {
	if strings.HasPrefix(req.uri, "/RPC2") {
		return true
	}
	if (req.method == "GET" || req.method == "POST") && isUIPath(path) {
		_, query := splitURI(req.uri)
		a := uiForm(req, query)["action"]
		return a != "" && a != "refresh"
	}
	return req.method != "GET" && req.method != "HEAD"
}

// sendCrossSite answers a refused cross-site request: 403 with a plain
// text reason, and the connection closed.
func (w *response) sendCrossSite(reason string) {
	w.set("Content-Type", "text/plain; charset=utf-8")
	w.set("Connection", "close")
	w.close = true
	w.send(403, []byte("403 Forbidden: cross-site request refused ("+reason+"); this server changes state only for requests from its own pages or from non-browser clients\n"))
}
