package source

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"
)

// hasTLS reports whether the credentials change how TLS is set up.
func (c *Credentials) hasTLS() bool {
	return c != nil && (c.Insecure || len(c.CAData) > 0 || len(c.TLSClientCert) > 0 || len(c.TLSClientKey) > 0)
}

// tlsConfig returns the TLS settings the credentials ask for: extra CA
// certificates trusted besides the system's, a client certificate, or no
// verification at all (insecure). Errors name the setting, never its
// content.
func (c *Credentials) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.Insecure} //nolint:gosec // only when the repository Secret says insecure: "true"
	if len(c.CAData) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(c.CAData) {
			return nil, errors.New("TLS certificates of the host (ConfigMap argocd-tls-certs-cm): no PEM certificate found")
		}
		cfg.RootCAs = pool
	}
	if len(c.TLSClientCert) > 0 || len(c.TLSClientKey) > 0 {
		if len(c.TLSClientCert) == 0 || len(c.TLSClientKey) == 0 {
			return nil, errors.New("TLS client certificate: the repository Secret needs both tlsClientCertData and tlsClientCertKey")
		}
		cert, err := tls.X509KeyPair(c.TLSClientCert, c.TLSClientKey)
		if err != nil {
			return nil, fmt.Errorf("TLS client certificate (tlsClientCertData, tlsClientCertKey): %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// httpClients keeps one client per TLS setting, so connections are reused.
var httpClients = struct {
	sync.Mutex
	byKey map[string]*http.Client
}{byKey: map[string]*http.Client{}}

// httpClient returns the HTTP client for the credentials' TLS settings.
func httpClient(c *Credentials) (*http.Client, error) {
	if !c.hasTLS() {
		return http.DefaultClient, nil
	}
	t, err := httpTransport(c)
	if err != nil {
		return nil, err
	}
	key := c.tlsFingerprint()
	httpClients.Lock()
	defer httpClients.Unlock()
	if cl, ok := httpClients.byKey[key]; ok {
		return cl, nil
	}
	if len(httpClients.byKey) > 256 { // credentials rotated many times: start afresh
		clear(httpClients.byKey)
	}
	cl := &http.Client{Transport: t}
	httpClients.byKey[key] = cl
	return cl, nil
}

// httpTransport is the default transport with the credentials' TLS settings.
func httpTransport(c *Credentials) (*http.Transport, error) {
	cfg, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	return t, nil
}
