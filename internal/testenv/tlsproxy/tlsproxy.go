// Package tlsproxy serves an HTTP backend over HTTPS with a certificate of
// its own test CA, optionally asking clients for a certificate of that CA:
// a repository behind a private CA and mutual TLS, for tests.
package tlsproxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Proxy is an HTTPS front of an HTTP backend.
type Proxy struct {
	srv      *httptest.Server
	ca       pemPair
	client   pemPair
	stranger pemPair // a client certificate of another CA
	served   atomic.Int64
}

type pemPair struct{ cert, key []byte }

// Start serves backend (an http:// base URL) at https://127.0.0.1:PORT.
// With clientCerts, a client must present a certificate of the proxy's CA.
func Start(backend string, clientCerts bool) (*Proxy, error) {
	target, err := url.Parse(backend)
	if err != nil {
		return nil, err
	}
	p := &Proxy{}
	caKey, caCert, caPEM, err := newCA("tether test CA")
	if err != nil {
		return nil, err
	}
	p.ca = caPEM
	serverTLS, _, err := issue(caCert, caKey, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	if _, p.client, err = issue(caCert, caKey, "tether", x509.ExtKeyUsageClientAuth); err != nil {
		return nil, err
	}
	otherKey, otherCert, _, err := newCA("another CA")
	if err != nil {
		return nil, err
	}
	if _, p.stranger, err = issue(otherCert, otherKey, "stranger", x509.ExtKeyUsageClientAuth); err != nil {
		return nil, err
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.served.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	cfg := &tls.Config{Certificates: []tls.Certificate{serverTLS}, MinVersion: tls.VersionTLS12}
	if clientCerts {
		pool := x509.NewCertPool()
		pool.AddCert(caCert)
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	p.srv.TLS = cfg
	p.srv.StartTLS()
	return p, nil
}

// URL is the proxy's base URL; paths are the backend's.
func (p *Proxy) URL() string { return p.srv.URL }

// Host is the proxy's host:port.
func (p *Proxy) Host() string { return strings.TrimPrefix(p.srv.URL, "https://") }

// CAPEM is the CA that signed the proxy's server and client certificates.
func (p *Proxy) CAPEM() []byte { return p.ca.cert }

// ClientCertPEM and ClientKeyPEM are a client certificate the proxy accepts.
func (p *Proxy) ClientCertPEM() []byte { return p.client.cert }
func (p *Proxy) ClientKeyPEM() []byte  { return p.client.key }

// StrangerCertPEM and StrangerKeyPEM are a client certificate of another
// CA, which the proxy refuses.
func (p *Proxy) StrangerCertPEM() []byte { return p.stranger.cert }
func (p *Proxy) StrangerKeyPEM() []byte  { return p.stranger.key }

// RefusedForCertificate reports whether an error message shows the proxy
// refusing a client without an acceptable certificate. With TLS 1.3 the
// client finishes its handshake before the server checks the certificate,
// so the client sees either the server's alert ("tls: certificate
// required") or, when the server closed the connection first, only that.
func RefusedForCertificate(msg string) bool {
	for _, s := range []string{"tls: certificate required", "use of closed network connection", "connection reset by peer", ": EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Served counts the requests that passed the TLS handshake.
func (p *Proxy) Served() int64 { return p.served.Load() }

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

func newCA(name string) (*ecdsa.PrivateKey, *x509.Certificate, pemPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, pemPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, pemPair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, pemPair{}, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, pemPair{}, err
	}
	return key, cert, pemPair{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// issue signs a certificate for name (an IP address for a server).
func issue(ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, usage x509.ExtKeyUsage) (tls.Certificate, pemPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, pemPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, pemPair{}, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, pemPair{}, err
	}
	pp := pemPair{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
	c, err := tls.X509KeyPair(pp.cert, pp.key)
	return c, pp, err
}

// CA is a test certificate authority, for servers of tests' own.
type CA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pem  pemPair
}

// NewCA makes a certificate authority called name.
func NewCA(name string) (*CA, error) {
	key, cert, p, err := newCA(name)
	if err != nil {
		return nil, err
	}
	return &CA{key: key, cert: cert, pem: p}, nil
}

// PEM is the CA's certificate.
func (c *CA) PEM() []byte { return c.pem.cert }

// Server issues a server certificate and key (PEM) for name, a host name
// or an IP address.
func (c *CA) Server(name string) (certPEM, keyPEM []byte, err error) {
	_, p, err := issue(c.cert, c.key, name, x509.ExtKeyUsageServerAuth)
	return p.cert, p.key, err
}
