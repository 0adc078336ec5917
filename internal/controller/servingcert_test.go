package controller

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-gitops/tether/internal/testenv/tlsproxy"
)

// selfSigned returns a PEM certificate and key for name, from a CA of its
// own.
func selfSigned(t *testing.T, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	ca, err := tlsproxy.NewCA(name + " CA")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err = ca.Server(name)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM
}

func servedName(t *testing.T, c *servingCert) string {
	t.Helper()
	pair, err := c.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.Subject.CommonName
}

// The pair is read again when its files change; a broken replacement
// leaves the last good pair served.
func TestServingCertFollowsItsFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	write := func(cert, key []byte, at time.Time) {
		t.Helper()
		for f, b := range map[string][]byte{certFile: cert, keyFile: key} {
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(f, at, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	c1, k1 := selfSigned(t, "first.example")
	write(c1, k1, time.Now().Add(-time.Minute))
	c, err := newServingCert(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	c.every = 0
	if got := servedName(t, c); got != "first.example" {
		t.Fatalf("served %q, want first.example", got)
	}

	c2, k2 := selfSigned(t, "second.example")
	write(c2, k2, time.Now())
	if got := servedName(t, c); got != "second.example" {
		t.Fatalf("after the files changed: served %q, want second.example", got)
	}

	_, k3 := selfSigned(t, "third.example")
	write(c1, k3, time.Now().Add(time.Minute)) // a certificate with a key not its own
	if got := servedName(t, c); got != "second.example" {
		t.Fatalf("after a mismatched pair was written: served %q, want the last good second.example", got)
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	if got := servedName(t, c); got != "second.example" {
		t.Fatalf("with the key file gone: served %q, want the last good second.example", got)
	}
	c4, k4 := selfSigned(t, "fourth.example")
	write(c4, k4, time.Now().Add(2*time.Minute))
	if got := servedName(t, c); got != "fourth.example" {
		t.Fatalf("after a good pair replaced the broken one: served %q, want fourth.example", got)
	}
}

// A pair that cannot be loaded at start is an error naming both files.
func TestServingCertRefusesABadPair(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if _, err := newServingCert(certFile, keyFile); err == nil || !strings.Contains(err.Error(), certFile) || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("missing files: %v, want an error naming both", err)
	}
	c1, _ := selfSigned(t, "a.example")
	_, k2 := selfSigned(t, "b.example")
	if err := os.WriteFile(certFile, c1, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, k2, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newServingCert(certFile, keyFile); err == nil || !strings.Contains(err.Error(), "private key does not match") {
		t.Fatalf("a key not the certificate's: %v", err)
	}
}

func TestOptionsValidateTheWebhookTLSFlags(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{WebhookAddr: ":8080", WebhookTLSCert: "c"}, "--webhook-tls-cert and --webhook-tls-key go together"},
		{Options{WebhookAddr: ":8080", WebhookTLSKey: "k"}, "--webhook-tls-cert and --webhook-tls-key go together"},
		{Options{WebhookTLSCert: "c", WebhookTLSKey: "k"}, "need --webhook-addr"},
		{Options{WebhookAddr: "0", WebhookTLSCert: "c", WebhookTLSKey: "k"}, "need --webhook-addr"},
		{Options{WebhookAddr: ":8080", WebhookTLSCert: "c", WebhookTLSKey: "k"}, ""},
		{Options{}, ""},
	} {
		err := c.o.Validate()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
}
