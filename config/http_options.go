package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/pyint"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// HTTPExtras are the gosupervisor options of an [inet_http_server] or
// [unix_http_server] section; Python ignores these keys. The zero value
// (no key set) serves exactly what Python serves.
type HTTPExtras struct {
	Metrics bool // metrics = true: GET /metrics, behind the section's auth
	Healthz bool // healthz = true: GET /healthz, without auth
	// Dashboard (dashboard = true) serves the web dashboard at /ui/,
	// behind the section's auth.
	Dashboard bool

	// inet only: tls_cert and tls_key turn on TLS (1.2 minimum);
	// tls_client_ca then requires client certificates signed by it.
	TLSCert, TLSKey, TLSClientCA string // absolute paths
	// TLS is the server configuration loaded from those files when the
	// config was read; nil without tls_cert.
	TLS *tls.Config

	// unix only: allow_uids and allow_groups admit only peers whose uid
	// is listed or whose groups (primary or supplementary) meet a listed
	// one. Both nil: every peer the socket's mode lets in.
	AllowUIDs []int
	AllowGIDs []int
}

// httpExtras reads the gosupervisor keys of one http server section.
// Errors name the option, section and file.
func (l *loader) httpExtras(section, family string) (HTTPExtras, error) {
	var x HTTPExtras
	fail := func(option, msg string) (HTTPExtras, error) {
		file, ok := l.parser.sectionToFile[section]
		if !ok {
			file = l.configfile
		}
		return HTTPExtras{}, errorf(option + ": " + msg + " in section " + pyrepr.Str(section) + " (file: " + pyrepr.Str(file) + ")")
	}
	get := func(option string) (string, bool, error) {
		here := newExpansions()
		here.setStr("here", l.here)
		return l.saneget(section, option, nil, here, true)
	}
	onlyIn := map[string]string{
		"tls_cert": "inet", "tls_key": "inet", "tls_client_ca": "inet",
		"allow_uids": "unix", "allow_groups": "unix",
	}
	for option, fam := range onlyIn {
		if _, ok := l.parser.get(section, option); ok && fam != family {
			return fail(option, "only valid in ["+fam+"_http_server]")
		}
	}
	for _, b := range []struct {
		option string
		dst    *bool
	}{{"metrics", &x.Metrics}, {"healthz", &x.Healthz}, {"dashboard", &x.Dashboard}} {
		v, ok, err := get(b.option)
		if err != nil {
			return fail(b.option, err.Error())
		}
		if ok {
			if *b.dst, err = boolean(v); err != nil {
				return fail(b.option, err.Error())
			}
		}
	}
	paths := []struct {
		option string
		dst    *string
	}{{"tls_cert", &x.TLSCert}, {"tls_key", &x.TLSKey}, {"tls_client_ca", &x.TLSClientCA}}
	for _, p := range paths {
		v, ok, err := get(p.option)
		if err != nil {
			return fail(p.option, err.Error())
		}
		if !ok {
			continue
		}
		if v = pyint.Strip(v); v == "" {
			return fail(p.option, "empty path")
		}
		*p.dst = l.fs.normalizePath(v)
	}
	switch {
	case x.TLSCert != "" && x.TLSKey == "":
		return fail("tls_key", "missing (tls_cert is set)")
	case x.TLSKey != "" && x.TLSCert == "":
		return fail("tls_cert", "missing (tls_key is set)")
	case x.TLSClientCA != "" && x.TLSCert == "":
		return fail("tls_client_ca", "needs tls_cert and tls_key")
	}
	if x.TLSCert != "" {
		var option string
		var err error
		if x.TLS, option, err = LoadServerTLS(x.TLSCert, x.TLSKey, x.TLSClientCA); err != nil {
			return fail(option, err.Error())
		}
	}
	if v, ok, err := get("allow_uids"); err != nil {
		return fail("allow_uids", err.Error())
	} else if ok {
		if x.AllowUIDs, err = idList(v, lookupUID); err != nil {
			return fail("allow_uids", err.Error())
		}
	}
	if v, ok, err := get("allow_groups"); err != nil {
		return fail("allow_groups", err.Error())
	} else if ok {
		if x.AllowGIDs, err = idList(v, lookupGID); err != nil {
			return fail("allow_groups", err.Error())
		}
	}
	return x, nil
}

// LoadServerTLS reads a server certificate and key (and, when caFile is
// set, the CA that client certificates must chain to) into a TLS 1.2+
// server configuration. On error, option names the key whose file is at
// fault.
func LoadServerTLS(certFile, keyFile, caFile string) (cfg *tls.Config, option string, err error) {
	for _, f := range []struct{ option, path string }{{"tls_cert", certFile}, {"tls_key", keyFile}, {"tls_client_ca", caFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.ReadFile(f.path); err != nil {
			return nil, f.option, fmt.Errorf("cannot read %s: %w", f.path, err)
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, "tls_cert", fmt.Errorf("cannot load the certificate %s with the key %s: %w", certFile, keyFile, err)
	}
	cfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, "tls_client_ca", fmt.Errorf("cannot read %s: %w", caFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, "tls_client_ca", fmt.Errorf("no PEM certificate in %s", caFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, "", nil
}

// idList parses "0, 1000, www-data": numbers as they are, names looked up.
func idList(v string, lookup func(string) (int, error)) ([]int, error) {
	var ids []int
	for _, f := range strings.Split(v, ",") {
		f = pyint.Strip(f)
		if f == "" {
			return nil, errorf("empty entry in " + pyrepr.Str(v))
		}
		if n, err := strconv.Atoi(f); err == nil {
			if n < 0 || int64(n) > 1<<32-2 {
				return nil, errorf("id out of range: " + f)
			}
			ids = append(ids, n)
			continue
		}
		n, err := lookup(f)
		if err != nil {
			return nil, err
		}
		ids = append(ids, n)
	}
	return ids, nil
}

func lookupUID(name string) (int, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, errorf("unknown user " + pyrepr.Str(name))
	}
	return strconv.Atoi(u.Uid)
}

func lookupGID(name string) (int, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, errorf("unknown group " + pyrepr.Str(name))
	}
	return strconv.Atoi(g.Gid)
}
