package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// tlsFiles are the https client's files: tls_ca verifies the server (the
// system roots when empty), tls_cert and tls_key are a client
// certificate for a server that asks for one.
type tlsFiles struct{ ca, cert, key string }

// config returns the TLS configuration for a server named serverName.
// The server is always verified.
func (f tlsFiles) config(serverName string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if f.ca != "" {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, fmt.Errorf("tls_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_ca %s: no PEM certificate in it", f.ca)
		}
		cfg.RootCAs = pool
	}
	switch {
	case f.cert != "" && f.key != "":
		cert, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("tls_cert/tls_key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case f.cert != "":
		return nil, errors.New("tls_cert needs tls_key")
	case f.key != "":
		return nil, errors.New("tls_key needs tls_cert")
	}
	return cfg, nil
}
