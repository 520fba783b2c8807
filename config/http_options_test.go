package config

import (
	"crypto/tls"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/internal/testcert"
)

func TestHTTPExtras(t *testing.T) {
	dir := t.TempDir()
	ca, err := testcert.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(testcert.LeafOptions{Name: "server"})
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := leaf.Write(dir, "server")
	if err != nil {
		t.Fatal(err)
	}
	caFile, err := ca.Write(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a pem\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := user.LookupId("0")
	if err != nil {
		t.Skip("no uid 0 in the user database")
	}
	rootGroup, err := user.LookupGroupId("0")
	if err != nil {
		t.Skip("no gid 0 in the group database")
	}
	missing := filepath.Join(dir, "missing.pem")

	inet := "[inet_http_server]\nport = 127.0.0.1:9001\n"
	unix := "[unix_http_server]\nfile = %(here)s/s.sock\n"
	tests := []struct {
		name    string
		section string
		keys    string
		check   func(t *testing.T, x HTTPExtras)
		wantErr string
	}{
		{"none", inet, "", func(t *testing.T, x HTTPExtras) {
			if !reflect.DeepEqual(x, HTTPExtras{}) {
				t.Errorf("Extras = %+v, want zero", x)
			}
		}, ""},
		{"metrics and healthz", unix, "metrics = true\nhealthz = yes\n", func(t *testing.T, x HTTPExtras) {
			if !x.Metrics || !x.Healthz {
				t.Errorf("Extras = %+v", x)
			}
		}, ""},
		{"dashboard", inet, "dashboard = on\n", func(t *testing.T, x HTTPExtras) {
			if !x.Dashboard || x.Metrics {
				t.Errorf("Extras = %+v", x)
			}
		}, ""},
		{"bad dashboard", unix, "dashboard = x\n", nil, "dashboard: not a valid boolean value: 'x' in section 'unix_http_server'"},
		{"metrics off", inet, "metrics = false\n", func(t *testing.T, x HTTPExtras) {
			if x.Metrics {
				t.Errorf("Metrics on")
			}
		}, ""},
		{"bad metrics", inet, "metrics = maybe\n", nil, "metrics: not a valid boolean value: 'maybe' in section 'inet_http_server' (file: "},
		{"bad healthz", unix, "healthz = 2\n", nil, "healthz: not a valid boolean value: '2' in section 'unix_http_server'"},
		{"tls", inet, "tls_cert = " + cert + "\ntls_key = " + key + "\n", func(t *testing.T, x HTTPExtras) {
			if x.TLS == nil || x.TLS.MinVersion != tls.VersionTLS12 || len(x.TLS.Certificates) != 1 || x.TLS.ClientAuth != tls.NoClientCert {
				t.Errorf("TLS = %+v", x.TLS)
			}
			if x.TLSCert != cert || x.TLSKey != key {
				t.Errorf("paths = %q %q", x.TLSCert, x.TLSKey)
			}
		}, ""},
		{"tls relative to here", inet, "tls_cert = %(here)s/server.crt\ntls_key = server.key\n", func(t *testing.T, x HTTPExtras) {
			if x.TLSCert != cert || x.TLS == nil {
				t.Errorf("TLSCert = %q", x.TLSCert)
			}
		}, ""},
		{"tls client ca", inet, "tls_cert = " + cert + "\ntls_key = " + key + "\ntls_client_ca = " + caFile + "\n", func(t *testing.T, x HTTPExtras) {
			if x.TLS == nil || x.TLS.ClientAuth != tls.RequireAndVerifyClientCert || x.TLS.ClientCAs == nil {
				t.Errorf("TLS = %+v", x.TLS)
			}
		}, ""},
		{"missing cert file", inet, "tls_cert = " + missing + "\ntls_key = " + key + "\n", nil, "tls_cert: cannot read " + missing},
		{"missing key file", inet, "tls_cert = " + cert + "\ntls_key = " + missing + "\n", nil, "tls_key: cannot read " + missing},
		{"bad cert file", inet, "tls_cert = " + garbage + "\ntls_key = " + key + "\n", nil, "tls_cert: cannot load the certificate " + garbage},
		{"key of another cert", inet, "tls_cert = " + cert + "\ntls_key = " + garbage + "\n", nil, "tls_cert: cannot load the certificate " + cert + " with the key " + garbage},
		{"bad client ca", inet, "tls_cert = " + cert + "\ntls_key = " + key + "\ntls_client_ca = " + garbage + "\n", nil, "tls_client_ca: no PEM certificate in " + garbage},
		{"cert without key", inet, "tls_cert = " + cert + "\n", nil, "tls_key: missing (tls_cert is set) in section 'inet_http_server'"},
		{"key without cert", inet, "tls_key = " + key + "\n", nil, "tls_cert: missing"},
		{"client ca alone", inet, "tls_client_ca = " + caFile + "\n", nil, "tls_client_ca: needs tls_cert"},
		{"empty cert path", inet, "tls_cert = \ntls_key = " + key + "\n", nil, "tls_cert: empty path"},
		{"tls on unix", unix, "tls_cert = " + cert + "\n", nil, "tls_cert: only valid in [inet_http_server] in section 'unix_http_server'"},
		{"allow on inet", inet, "allow_uids = 0\n", nil, "allow_uids: only valid in [unix_http_server]"},
		{"allow uids", unix, "allow_uids = 0, 1000," + root.Username + "\n", func(t *testing.T, x HTTPExtras) {
			if !reflect.DeepEqual(x.AllowUIDs, []int{0, 1000, 0}) || x.AllowGIDs != nil {
				t.Errorf("AllowUIDs = %v, AllowGIDs = %v", x.AllowUIDs, x.AllowGIDs)
			}
		}, ""},
		{"allow groups", unix, "allow_groups = " + rootGroup.Name + ", 4\n", func(t *testing.T, x HTTPExtras) {
			if !reflect.DeepEqual(x.AllowGIDs, []int{0, 4}) || x.AllowUIDs != nil {
				t.Errorf("AllowGIDs = %v, AllowUIDs = %v", x.AllowGIDs, x.AllowUIDs)
			}
		}, ""},
		{"unknown user", unix, "allow_uids = no-such-user-xyz\n", nil, "allow_uids: unknown user 'no-such-user-xyz' in section 'unix_http_server'"},
		{"unknown group", unix, "allow_groups = no-such-group-xyz\n", nil, "allow_groups: unknown group 'no-such-group-xyz'"},
		{"negative uid", unix, "allow_uids = -1\n", nil, "allow_uids: id out of range: -1"},
		{"empty entry", unix, "allow_uids = 0,,1\n", nil, "allow_uids: empty entry in '0,,1'"},
		{"empty list", unix, "allow_groups =\n", nil, "allow_groups: empty entry"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "c"+strconv.Itoa(i)+".conf")
			text := "[supervisord]\n" + tc.section + tc.keys
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path, LoadOptions{Cwd: dir})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load error = %v, want %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file %s", err, path)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(cfg.HTTPServers) != 1 {
				t.Fatalf("%d servers", len(cfg.HTTPServers))
			}
			tc.check(t, cfg.HTTPServers[0].Extras)
			// The URL children get in SUPERVISOR_SERVER_URL.
			wantURL := "unix://" + dir + "/s.sock"
			if tc.section == inet {
				wantURL = "http://127.0.0.1:9001"
				if cfg.HTTPServers[0].Extras.TLS != nil {
					wantURL = "https://127.0.0.1:9001"
				}
			}
			if cfg.ServerURL != wantURL {
				t.Errorf("ServerURL = %q, want %q", cfg.ServerURL, wantURL)
			}
		})
	}
}
