package source

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tether-gitops/tether/internal/testenv/chartrepo"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
	"github.com/tether-gitops/tether/internal/testenv/tlsproxy"
)

func startProxy(t *testing.T, backend string, clientCerts bool) *tlsproxy.Proxy {
	t.Helper()
	p, err := tlsproxy.Start(backend, clientCerts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestGitOverHTTPSWithAPrivateCAAndAClientCertificate(t *testing.T) {
	srv := startServer(t)
	repo, err := srv.CreateRepo("mtls", gitserver.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	sha, err := repo.Commit("main", map[string]string{"app/cm.yaml": "kind: ConfigMap\n"}, nil, "first")
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, srv.HTTPBaseURL(), true)
	url := proxy.URL() + strings.TrimPrefix(repo.HTTPURL(), srv.HTTPBaseURL())
	ctx := context.Background()

	failures := []struct {
		name  string
		creds *Credentials
		want  string // "" for a refusal of the client's certificate
	}{
		{"the system's CAs only", nil, "certificate signed by unknown authority"},
		{"the CA but no client certificate", &Credentials{CAData: proxy.CAPEM()}, ""},
		// A client offers only a certificate of a CA the server accepts.
		{"a client certificate of another CA", &Credentials{CAData: proxy.CAPEM(), TLSClientCert: proxy.StrangerCertPEM(), TLSClientKey: proxy.StrangerKeyPEM()}, ""},
		{"a certificate without its key", &Credentials{CAData: proxy.CAPEM(), TLSClientCert: proxy.ClientCertPEM()}, "needs both tlsClientCertData and tlsClientCertKey"},
		{"a key that is not PEM", &Credentials{CAData: proxy.CAPEM(), TLSClientCert: proxy.ClientCertPEM(), TLSClientKey: []byte("secret-key-material")}, "TLS client certificate (tlsClientCertData, tlsClientCertKey)"},
		{"a CA entry that is not PEM", &Credentials{CAData: []byte("nonsense")}, "argocd-tls-certs-cm): no PEM certificate found"},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			_, err := newCache(t).Resolve(ctx, url, "main", f.creds, 0)
			switch {
			case err == nil:
				t.Fatal("no error")
			case f.want == "" && (!strings.HasPrefix(err.Error(), "repository "+url+": ") || !tlsproxy.RefusedForCertificate(err.Error())):
				t.Fatalf("error %v, want one naming the repository and the refused client certificate", err)
			case f.want != "" && !strings.Contains(err.Error(), f.want):
				t.Fatalf("error %v, want one containing %q", err, f.want)
			}
			if strings.Contains(err.Error(), "secret-key-material") || strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
	if n := proxy.Served(); n != 0 {
		t.Errorf("%d requests passed the handshake without a valid client certificate", n)
	}

	for _, c := range []struct {
		name  string
		creds *Credentials
	}{
		{"the CA and a client certificate", &Credentials{CAData: proxy.CAPEM(), TLSClientCert: proxy.ClientCertPEM(), TLSClientKey: proxy.ClientKeyPEM()}},
		{"insecure with a client certificate", &Credentials{Insecure: true, TLSClientCert: proxy.ClientCertPEM(), TLSClientKey: proxy.ClientKeyPEM()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cache := newCache(t)
			got, err := cache.Resolve(ctx, url, "main", c.creds, 0)
			if err != nil || got != sha {
				t.Fatalf("Resolve = %q, %v; want %s", got, err, sha)
			}
			snap, err := cache.Snapshot(ctx, url, got, c.creds)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := snap.FS.Open("app/cm.yaml"); err != nil {
				t.Errorf("fetched tree: %v", err)
			}
		})
	}
}

func TestChartRepositoryOverHTTPSWithAClientCertificate(t *testing.T) {
	repo := chartrepo.NewServer("", "")
	t.Cleanup(repo.Close)
	archive, err := chartrepo.Chart("web", "1.0.0", map[string]string{"templates/cm.yaml": "kind: ConfigMap\n"})
	if err != nil {
		t.Fatal(err)
	}
	repo.Publish("web", "1.0.0", archive)
	proxy := startProxy(t, repo.URL(), true)
	ctx := context.Background()
	good := &Credentials{CAData: proxy.CAPEM(), TLSClientCert: proxy.ClientCertPEM(), TLSClientKey: proxy.ClientKeyPEM()}

	c := NewCharts(ChartOptions{})
	if _, err := c.ResolveChart(ctx, proxy.URL(), "web", "1.0.0", &Credentials{CAData: proxy.CAPEM()}, time.Minute); err == nil {
		t.Fatal("resolved without a client certificate")
	}
	if _, err := NewCharts(ChartOptions{}).ResolveChart(ctx, proxy.URL(), "web", "1.0.0", nil, time.Minute); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("without the CA: %v", err)
	}
	c = NewCharts(ChartOptions{})
	v, err := c.ResolveChart(ctx, proxy.URL(), "web", "1.*", good, time.Minute)
	if err != nil || v != "1.0.0" {
		t.Fatalf("ResolveChart = %q, %v", v, err)
	}
	snap, err := c.ChartSnapshot(ctx, proxy.URL(), "web", v, good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snap.FS.Open("templates/cm.yaml"); err != nil {
		t.Errorf("chart files: %v", err)
	}
}
