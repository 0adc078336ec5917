package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
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
	// The payload names the repository by its web address, as GitHub does.
	push := func(ref, key string) (int, string) {
		t.Helper()
		body := fmt.Sprintf(`{"ref": %q, "repository": {"html_url": %q, "default_branch": "main"}}`, ref, strings.TrimSuffix(repo.HTTPURL(), ".git"))
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(body))
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+controller.WebhookPath, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		var resp *http.Response
		for i := 0; i < 50; i++ { // the endpoint starts with the controller
			if resp, err = http.DefaultClient.Do(req); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
			req.Body = io.NopCloser(strings.NewReader(body))
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
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
