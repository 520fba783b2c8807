package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/gosupervisor/gosupervisor/config"
)

// ExecFunc runs the command of an exec: check to completion, with the
// program's environment, user and directory; nil when it exited 0. It
// must end the command when ctx is done.
type ExecFunc func(ctx context.Context, command string) error

// ErrNoExec is returned for an exec: check when no ExecFunc was given.
var ErrNoExec = errors.New("exec checks are not available")

// Run runs one tcp, http, https or exec check once, bounded by ctx. The
// error says what failed ("tcp://127.0.0.1:8080: dial tcp ...: connection
// refused", "http://...: status 503 Service Unavailable", "exec:...: exit
// status 1").
func Run(ctx context.Context, c *config.Check, exec ExecFunc) error {
	var err error
	switch c.Kind {
	case config.CheckTCP:
		err = dialTCP(ctx, c.Addr)
	case config.CheckHTTP, config.CheckHTTPS:
		err = get(ctx, c.URL)
	case config.CheckExec:
		if exec == nil {
			err = ErrNoExec
		} else {
			err = exec(ctx, c.Command)
		}
	default:
		err = fmt.Errorf("check kind %d is not polled", c.Kind)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", c.Spec, err)
	}
	return nil
}

func dialTCP(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

// get does one GET: 2xx and 3xx succeed (redirects are not followed). TLS
// certificates are not verified, as for a Kubernetes httpGet probe: the
// check asks whether the server answers, not who it is. No proxy from the
// environment is used.
func get(ctx context.Context, target string) error {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "gosupervisor-probe")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err // the URL is already in the message
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
