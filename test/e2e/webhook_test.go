package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
	"github.com/tether-gitops/tether/internal/testenv/tlsproxy"
)

// TestWebhookPushSyncsAtOnce: with a poll interval of an hour, only the
// webhook can bring a new commit in; a push event signed with the secret of
// argocd-secret does, one with a wrong signature or of another branch does
// not.
func TestWebhookPushSyncsAtOnce(t *testing.T) {
	addr := freeAddr(t)
	e := startTether(t, func(o *controller.Options) { o.PollInterval, o.WebhookAddr = time.Hour, addr })
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("hooked", "v1")})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "argocd-secret"}, StringData: map[string]string{"webhook.github.secret": "s3cret"}}
	if _, err := kube(t).CoreV1().Secrets(e.ns).Create(context.Background(), secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.createApp(t, strings.Replace(named("hooked"), "targetRevision: main", "targetRevision: HEAD", 1), repo.HTTPURL(), dest)
	first, err := repo.Head("main")
	if err != nil {
		t.Fatal(err)
	}
	e.waitApp(t, "hooked", "synced at the first commit", syncedHealthy(first))

	second, err := repo.Commit("main", map[string]string{"app/cm.yaml": cmYAML("hooked", "v2")}, nil, "v2")
	if err != nil {
		t.Fatal(err)
	}
	push := func(ref, key string) (int, string) {
		t.Helper()
		return githubPush(t, http.DefaultClient, "http://"+addr, repo.HTTPURL(), ref, key)
	}

	if code, msg := push("refs/heads/main", "wrong"); code != http.StatusUnauthorized || !strings.Contains(msg, "does not match webhook.github.secret") {
		t.Errorf("a wrong signature: %d %s", code, msg)
	}
	if code, msg := push("refs/heads/feature", "s3cret"); code != http.StatusOK || msg != "refreshed 0 applications\n" {
		t.Errorf("a push of another branch: %d %s", code, msg)
	}
	if a := e.app(t, "hooked"); a.Status.Sync.Revision != first {
		t.Fatalf("the app moved without a valid push: %s", describeStatus(a))
	}
	if code, msg := push("refs/heads/main", "s3cret"); code != http.StatusOK || msg != "refreshed 1 applications\n" {
		t.Fatalf("the push: %d %s", code, msg)
	}
	e.waitApp(t, "hooked", "synced at the pushed commit", syncedHealthy(second))
	if cm := configMap(t, dest, "hooked"); cm == nil || cm.Data["value"] != "v2" {
		t.Errorf("ConfigMap after the push: %v", cm)
	}

	// An ApplicationSet with a Git generator on the repository makes the app
	// of a directory added by a push at once.
	e.createAppSet(t, strings.NewReplacer("REPO", repo.HTTPURL(), "DESTNS", dest).Replace(`
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: pushed-dirs}
spec:
  generators:
  - git: {repoURL: REPO, revision: main, directories: [{path: 'svc/*'}]}
  template:
    metadata: {name: 'svc-{{path.basename}}'}
    spec:
      source: {repoURL: REPO, targetRevision: main, path: '{{path}}'}
      destination: {namespace: DESTNS}
`))
	e.waitSetApps(t, "pushed-dirs", time.Minute)
	if _, err := repo.Commit("main", map[string]string{"svc/one/cm.yaml": cmYAML("one", "v1")}, nil, "add svc/one"); err != nil {
		t.Fatal(err)
	}
	if code, msg := push("refs/heads/main", "s3cret"); code != http.StatusOK {
		t.Fatalf("the push: %d %s", code, msg)
	}
	e.waitSetApps(t, "pushed-dirs", 30*time.Second, "svc-one")
}

// githubPush posts a GitHub push event of ref for the repository at repoURL
// to the webhook endpoint at base, signed with key, retrying while the
// endpoint starts; it returns the answer's status and body.
func githubPush(t *testing.T, client *http.Client, base, repoURL, ref, key string) (int, string) {
	t.Helper()
	// The payload names the repository by its web address, as GitHub does.
	body := fmt.Sprintf(`{"ref": %q, "repository": {"html_url": %q, "default_branch": "main"}}`, ref, strings.TrimSuffix(repoURL, ".git"))
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(body))
	var resp *http.Response
	var err error
	for i := 0; i < 50; i++ { // the endpoint starts with the controller
		req, rerr := http.NewRequest(http.MethodPost, base+controller.WebhookPath, strings.NewReader(body))
		if rerr != nil {
			t.Fatal(rerr)
		}
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		if resp, err = client.Do(req); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestWebhookOverHTTPS: with --webhook-tls-cert and --webhook-tls-key the
// endpoint speaks HTTPS only; a push over it syncs the app, and a new key
// pair written over the files is served to the next connection without a
// restart.
func TestWebhookOverHTTPS(t *testing.T) {
	ca, err := tlsproxy.NewCA("webhook CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writePair := func(at time.Time) []byte {
		t.Helper()
		cert, key, err := ca.Server("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		for f, b := range map[string][]byte{certFile: cert, keyFile: key} {
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(f, at, at); err != nil {
				t.Fatal(err)
			}
		}
		return cert
	}
	firstCert := writePair(time.Now().Add(-time.Minute))
	addr := freeAddr(t)
	e := startTether(t, func(o *controller.Options) {
		o.PollInterval, o.WebhookAddr, o.WebhookTLSCert, o.WebhookTLSKey = time.Hour, addr, certFile, keyFile
	})
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("tls-hooked", "v1")})
	e.createApp(t, named("tls-hooked"), repo.HTTPURL(), dest)
	first, err := repo.Head("main")
	if err != nil {
		t.Fatal(err)
	}
	e.waitApp(t, "tls-hooked", "synced at the first commit", syncedHealthy(first))
	second, err := repo.Commit("main", map[string]string{"app/cm.yaml": cmYAML("tls-hooked", "v2")}, nil, "v2")
	if err != nil {
		t.Fatal(err)
	}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM())
	var served []*x509.Certificate
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true, // every request a new connection, so a new certificate shows
		TLSClientConfig: &tls.Config{RootCAs: pool, VerifyConnection: func(cs tls.ConnectionState) error {
			served = append(served, cs.PeerCertificates[0])
			return nil
		}},
	}}
	if code, msg := githubPush(t, client, "https://"+addr, repo.HTTPURL(), "refs/heads/main", ""); code != http.StatusOK || msg != "refreshed 1 applications\n" {
		t.Fatalf("the push over HTTPS: %d %s", code, msg)
	}
	e.waitApp(t, "tls-hooked", "synced at the pushed commit", syncedHealthy(second))
	if len(served) == 0 || !samePEMCert(t, served[len(served)-1], firstCert) {
		t.Fatal("the endpoint did not serve the certificate of --webhook-tls-cert")
	}

	// Plain HTTP gets no answer of the endpoint's.
	resp, err := http.Post("http://"+addr+controller.WebhookPath, "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP to the HTTPS endpoint: status %d, want a refusal", resp.StatusCode)
		}
	}

	// A new pair written over the files is served without a restart.
	secondCert := writePair(time.Now())
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := githubPush(t, client, "https://"+addr, repo.HTTPURL(), "refs/heads/other", "")
		if code == http.StatusOK && samePEMCert(t, served[len(served)-1], secondCert) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rotated certificate was not served within 10 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// samePEMCert reports whether c is the certificate in certPEM.
func samePEMCert(t *testing.T, c *x509.Certificate, certPEM []byte) bool {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	if b == nil {
		t.Fatal("not a PEM certificate")
	}
	return bytes.Equal(c.Raw, b.Bytes)
}
