package e2e

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
	"github.com/tether-gitops/tether/internal/testenv/tlsproxy"
)

// TestRepositoryBehindAPrivateCAWithAClientCertificate: an HTTPS Git server
// whose certificate is of a private CA (trusted through the
// argocd-tls-certs-cm ConfigMap) and that asks for a client certificate
// (tlsClientCertData and tlsClientCertKey of the repository Secret).
func TestRepositoryBehindAPrivateCAWithAClientCertificate(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("behind-tls", "v1")})
	srv := git(t)
	proxy, err := tlsproxy.Start(srv.HTTPBaseURL(), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	url := proxy.URL() + strings.TrimPrefix(repo.HTTPURL(), srv.HTTPBaseURL())
	ctx := context.Background()

	e.createApp(t, named("mtls"), url, dest)
	e.waitApp(t, "mtls", "the unknown CA named", hasCondition(v1alpha1.ConditionComparisonError, "certificate signed by unknown authority"))

	// The CA, by host name (Argo CD's ConfigMap keys leave the port out).
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "argocd-tls-certs-cm"}, Data: map[string]string{"127.0.0.1": string(proxy.CAPEM())}}
	if _, err := kube(t).CoreV1().ConfigMaps(e.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "mtls")
	e.waitApp(t, "mtls", "the refused client certificate named", func(a *v1alpha1.Application) bool {
		for _, c := range a.Status.Conditions {
			if c.Type == v1alpha1.ConditionComparisonError && strings.Contains(c.Message, "repository "+url+": list refs: ") &&
				!strings.Contains(c.Message, "unknown authority") && tlsproxy.RefusedForCertificate(c.Message) {
				return true
			}
		}
		return false
	})
	if configMap(t, dest, "behind-tls") != nil {
		t.Fatal("synced without a client certificate")
	}

	e.helmRepoSecret(t, "mtls-repo", map[string]string{"url": url, "tlsClientCertData": string(proxy.ClientCertPEM()), "tlsClientCertKey": string(proxy.ClientKeyPEM())})
	e.refresh(t, "mtls")
	a := e.waitApp(t, "mtls", "synced over mutual TLS", syncedHealthy(""))
	if configMap(t, dest, "behind-tls") == nil {
		t.Fatalf("ConfigMap missing: %s", describeStatus(a))
	}
	for _, c := range a.Status.Conditions {
		if strings.Contains(c.Message, "PRIVATE KEY") {
			t.Errorf("a condition shows the key: %s", c.Message)
		}
	}
}
