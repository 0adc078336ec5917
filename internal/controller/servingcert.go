package controller

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// servingCert is a TLS key pair read from two PEM files, read again when
// either file changes (a rotated Secret volume, cert-manager), so that a new
// certificate is served without a restart. A pair that fails to load
// leaves the last good one in place.
type servingCert struct {
	certFile, keyFile string
	every             time.Duration // how often the files are looked at

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // size and modification time of both files when loaded
	failed  string // the stamp of files that failed to load (warned once)
	checked time.Time
}

// newServingCert loads the pair; the error names both files.
func newServingCert(certFile, keyFile string) (*servingCert, error) {
	c := &servingCert{certFile: certFile, keyFile: keyFile, every: time.Second}
	stamp, err := c.fileStamp()
	if err == nil {
		err = c.load(stamp)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// fileStamp identifies the current content of both files.
func (c *servingCert) fileStamp() (string, error) {
	var stamp string
	for _, name := range []string{c.certFile, c.keyFile} {
		st, err := os.Stat(name)
		if err != nil {
			return "", fmt.Errorf("TLS key pair (certificate %s, key %s): %w", c.certFile, c.keyFile, err)
		}
		stamp += fmt.Sprintf("%d@%d;", st.Size(), st.ModTime().UnixNano())
	}
	return stamp, nil
}

func (c *servingCert) load(stamp string) error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS key pair (certificate %s, key %s): %w", c.certFile, c.keyFile, err)
	}
	c.cert, c.stamp = &pair, stamp
	return nil
}

// GetCertificate is a tls.Config.GetCertificate that serves the files'
// current pair.
func (c *servingCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) < c.every {
		return c.cert, nil
	}
	c.checked = time.Now()
	stamp, err := c.fileStamp()
	if err == nil && (stamp == c.stamp || stamp == c.failed) {
		return c.cert, nil
	}
	if err == nil {
		if err = c.load(stamp); err == nil {
			slog.Info("serving a new TLS certificate", "cert", c.certFile)
			return c.cert, nil
		}
	}
	if stamp == "" || stamp != c.failed {
		slog.Warn("the TLS key pair cannot be read again; serving the last one", "error", err.Error())
	}
	c.failed = stamp
	return c.cert, nil
}
