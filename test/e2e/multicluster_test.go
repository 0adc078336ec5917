package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/cli"
	"github.com/tether-gitops/tether/internal/clusters"
	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

var (
	extraOnce sync.Once
	extraErr  error
)

// threeClusters returns the shared control plane's default cluster and two
// more, east and west, started once for the package.
func threeClusters(t *testing.T) (in, east, west *testenv.Cluster) {
	t.Helper()
	cp := testenv.Shared(t)
	extraOnce.Do(func() {
		for _, name := range []string{"east", "west"} {
			if cp.Cluster(name) != nil {
				continue
			}
			if _, extraErr = cp.AddCluster(context.Background(), name); extraErr != nil {
				return
			}
		}
	})
	if extraErr != nil {
		t.Fatal(extraErr)
	}
	return cp.Default(), cp.Cluster("east"), cp.Cluster("west")
}

// mergedKubeconfig writes one kubeconfig holding a context per cluster,
// named like the cluster, the default one current.
func mergedKubeconfig(t *testing.T, cs ...*testenv.Cluster) string {
	t.Helper()
	merged := clientcmdapi.NewConfig()
	for _, c := range cs {
		cfg, err := clientcmd.LoadFromFile(c.KubeconfigPath())
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range cfg.Clusters {
			merged.Clusters[k] = v
		}
		for k, v := range cfg.AuthInfos {
			merged.AuthInfos[k] = v
		}
		for k, v := range cfg.Contexts {
			merged.Contexts[k] = v
		}
	}
	merged.CurrentContext = cs[0].Name()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*merged, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// cli runs tether's CLI with a kubeconfig.
func cliWith(t *testing.T, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	return runCLIArgs(t, append([]string{"--kubeconfig", kubeconfig}, args...)...)
}

func clusterConfigMap(t *testing.T, c *testenv.Cluster, ns, name string) *corev1.ConfigMap {
	t.Helper()
	cm, err := c.Clientset().CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

func waitClusterConfigMap(t *testing.T, c *testenv.Cluster, ns, name, what string, cond func(*corev1.ConfigMap) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if cond(clusterConfigMap(t, c, ns, name)) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("cluster %s: ConfigMap %s/%s: %s not reached", c.Name(), ns, name, what)
}

const perClusterApp = `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: NAME}
spec:
  project: default
  source: {repoURL: REPO, targetRevision: main, path: app}
  destination: {CLUSTERDEST, namespace: DESTNS}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true]
`

func (e *tetherEnv) createClusterApp(t *testing.T, name, dest, repoURL, destNS string) {
	t.Helper()
	e.createApp(t, strings.NewReplacer("NAME", name, "CLUSTERDEST", dest).Replace(perClusterApp), repoURL, destNS)
}

func TestAppsAcrossThreeClusters(t *testing.T) {
	in, east, west := threeClusters(t)
	e := startTether(t)
	kc := mergedKubeconfig(t, in, east, west)
	// Register east and west the way a person would.
	out, err := cliWith(t, kc, "cluster", "add", "east", "-n", e.ns, "--label", "env=prod")
	if err != nil {
		t.Fatalf("cluster add east: %v\n%s", err, out)
	}
	// west with a ServiceAccount token of its own instead of the admin token.
	if out, err = cliWith(t, kc, "cluster", "add", "west", "-n", e.ns, "--name", "west-1", "--service-account"); err != nil {
		t.Fatalf("cluster add west: %v\n%s", err, out)
	}
	westSecret := &corev1.Secret{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.ns, Name: clusters.SecretName("west-1")}, westSecret); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(westSecret.Data["config"]), testenv.Shared(t).Token()) {
		t.Fatal("cluster add --service-account stored the context's own token")
	}
	if _, err := west.Clientset().CoreV1().ServiceAccounts("kube-system").Get(context.Background(), "tether-manager", metav1.GetOptions{}); err != nil {
		t.Fatalf("cluster add --service-account: %v", err)
	}
	if out, err = cliWith(t, kc, "cluster", "add", "east", "-n", e.ns); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("adding east twice: want an error saying it exists, got %v\n%s", err, out)
	}
	out, err = cliWith(t, kc, "cluster", "list", "-n", e.ns, "-o", "json")
	if err != nil {
		t.Fatalf("cluster list: %v\n%s", err, out)
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("cluster list -o json: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r["name"]] = r["status"] + " " + r["version"]
	}
	for _, n := range []string{"in-cluster", "east", "west-1"} {
		if !strings.HasPrefix(got[n], "Successful v1.") {
			t.Errorf("cluster list: %s is %q, want Successful with a version; all: %v", n, got[n], got)
		}
	}

	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: where}\ndata: {v: one}\n"})
	ns := "mc-" + e.ns
	e.createClusterApp(t, "on-in", "server: https://kubernetes.default.svc", repo.HTTPURL(), ns)
	e.createClusterApp(t, "on-east", "server: "+east.URL(), repo.HTTPURL(), ns)
	e.createClusterApp(t, "on-west", "name: west-1", repo.HTTPURL(), ns)
	for _, n := range []string{"on-in", "on-east", "on-west"} {
		e.waitApp(t, n, "synced and healthy", syncedHealthy(""))
	}
	for _, c := range []*testenv.Cluster{in, east, west} {
		c := c
		t.Cleanup(func() {
			_ = c.Clientset().CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		})
		cm := clusterConfigMap(t, c, ns, "where")
		if cm == nil || cm.Data["v"] != "one" {
			t.Fatalf("cluster %s: ConfigMap where = %v", c.Name(), cm)
		}
		// Each cluster holds one app's copy only.
		owner := cm.Labels["tether.dev/app"]
		want := map[string]string{"default": "on-in", "east": "on-east", "west": "on-west"}[c.Name()]
		if !strings.HasSuffix(owner, want) {
			t.Errorf("cluster %s: ConfigMap belongs to %q, want app %s", c.Name(), owner, want)
		}
	}

	// Drift on a remote cluster is seen through its watch and reverted.
	cm := clusterConfigMap(t, east, ns, "where")
	cm.Data["v"] = "edited"
	if _, err := east.Clientset().CoreV1().ConfigMaps(ns).Update(context.Background(), cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	waitClusterConfigMap(t, east, ns, "where", "drift reverted", func(c *corev1.ConfigMap) bool { return c != nil && c.Data["v"] == "one" })

	// A commit reaches every cluster.
	rev, err := repo.Commit("main", map[string]string{"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: where}\ndata: {v: two}\n"}, nil, "two")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"on-in", "on-east", "on-west"} {
		e.refresh(t, n)
	}
	for _, n := range []string{"on-in", "on-east", "on-west"} {
		e.waitApp(t, n, "synced at the new commit", synced(rev))
	}
	for _, c := range []*testenv.Cluster{in, east, west} {
		if cm := clusterConfigMap(t, c, ns, "where"); cm == nil || cm.Data["v"] != "two" {
			t.Errorf("cluster %s: ConfigMap where = %v after the commit", c.Name(), cm)
		}
	}

	// Deleting an app with the resources finalizer deletes its objects in
	// its own cluster only.
	a := e.app(t, "on-west")
	a.Finalizers = append(a.Finalizers, v1alpha1.ResourcesFinalizer)
	if err := e.c.Update(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Delete(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	waitClusterConfigMap(t, west, ns, "where", "deleted with its app", func(c *corev1.ConfigMap) bool { return c == nil })
	if clusterConfigMap(t, east, ns, "where") == nil || clusterConfigMap(t, in, ns, "where") == nil {
		t.Fatal("deleting the west app deleted objects in other clusters")
	}

	// rm removes the Secret; the in-cluster entry cannot be removed.
	if out, err := cliWith(t, kc, "cluster", "rm", "in-cluster", "-n", e.ns); err == nil {
		t.Fatalf("cluster rm in-cluster succeeded:\n%s", out)
	}
	if out, err := cliWith(t, kc, "cluster", "rm", "west-1", "-n", e.ns); err != nil {
		t.Fatalf("cluster rm west-1: %v\n%s", err, out)
	}
	var secrets corev1.SecretList
	if err := e.c.List(context.Background(), &secrets, client.InNamespace(e.ns), client.MatchingLabels{clusters.SecretTypeLabel: clusters.SecretTypeCluster}); err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 1 || string(secrets.Items[0].Data["name"]) != "east" {
		t.Fatalf("after rm west-1, cluster Secrets = %d, want only east's", len(secrets.Items))
	}
}

// registerCluster stores a cluster Secret for c in the app namespace.
func registerCluster(t *testing.T, e *tetherEnv, name string, c *testenv.Cluster, token string) {
	t.Helper()
	cfg := c.RESTConfig()
	if token != "" {
		cfg.BearerToken = token
	}
	s, err := clusters.ToSecret(e.ns, clusters.SecretName(name), name, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func TestAStoppedClusterFailsItsAppsAloneAndRecovers(t *testing.T) {
	in, east, west := threeClusters(t)
	e := startTether(t)
	registerCluster(t, e, "east", east, "")
	registerCluster(t, e, "west", west, "")
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: where}\ndata: {v: one}\n"})
	ns := "mc-" + e.ns
	e.createClusterApp(t, "on-in", "name: in-cluster", repo.HTTPURL(), ns)
	e.createClusterApp(t, "on-east", "name: east", repo.HTTPURL(), ns)
	e.createClusterApp(t, "on-west", "name: west", repo.HTTPURL(), ns)
	for _, n := range []string{"on-in", "on-east", "on-west"} {
		e.waitApp(t, n, "synced", syncedHealthy(""))
	}
	for _, c := range []*testenv.Cluster{in, east, west} {
		c := c
		t.Cleanup(func() {
			_ = c.Clientset().CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		})
	}

	west.Stop()
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = west.Restart(context.Background())
		}
	})
	rev, err := repo.Commit("main", map[string]string{"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: where}\ndata: {v: two}\n"}, nil, "two")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, n := range []string{"on-in", "on-east", "on-west"} {
		e.refresh(t, n)
	}
	e.waitApp(t, "on-west", "an error naming the cluster", hasCondition(v1alpha1.ConditionComparisonError, "cluster west"))
	for _, n := range []string{"on-in", "on-east"} {
		e.waitApp(t, n, "synced at the new commit while west is down", synced(rev))
	}
	t.Logf("other clusters' apps synced %v after the commit with west down", time.Since(start).Round(time.Millisecond))
	msg := ""
	for _, c := range e.app(t, "on-west").Status.Conditions {
		msg += c.Message
	}
	if !strings.Contains(msg, "unreachable") {
		t.Errorf("west app's condition should say the cluster is unreachable: %s", msg)
	}
	out, err := runCLIArgs(t, "--kubeconfig", in.KubeconfigPath(), "cluster", "list", "-n", e.ns)
	if err != nil {
		t.Fatal(err)
	}
	if !regexpLine(out, `^west\s.*Failed\s+unreachable`) || !regexpLine(out, `^east\s.*Successful`) {
		t.Errorf("cluster list with west down:\n%s", out)
	}

	if err := west.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	e.waitApp(t, "on-west", "recovered at the new commit", func(a *v1alpha1.Application) bool {
		return synced(rev)(a) && len(a.Status.Conditions) == 0
	})
	waitClusterConfigMap(t, west, ns, "where", "the new commit", func(c *corev1.ConfigMap) bool { return c != nil && c.Data["v"] == "two" })
}

func TestBadClusterSecrets(t *testing.T) {
	in, east, _ := threeClusters(t)
	e := startTether(t)
	registerCluster(t, e, "east", east, "")
	registerCluster(t, e, "expired", east, "not-a-valid-token")
	// The expired cluster must differ from east by server for a server
	// destination; it is named by name below.
	bad := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "malformed", Labels: map[string]string{clusters.SecretTypeLabel: clusters.SecretTypeCluster}},
		Data: map[string][]byte{
			"name":   []byte("malformed"),
			"server": []byte("https://malformed.invalid:6443"),
			"config": []byte(`{"bearerToken": "s3cr3t-token", "tlsClientConfig": {"insecure": "yes"}}`),
		},
	}
	gone := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "gone", Labels: map[string]string{clusters.SecretTypeLabel: clusters.SecretTypeCluster}},
		Data: map[string][]byte{
			"name":   []byte("gone"),
			"server": []byte("https://127.0.0.1:1"),
			"config": []byte(`{"bearerToken": "s3cr3t-token", "tlsClientConfig": {"insecure": true}}`),
		},
	}
	// A cluster that tether may only touch in one namespace.
	limited, err := clusters.ToSecret(e.ns, "limited", "limited", east.RESTConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	limited.Data["namespaces"] = []byte("only-here")
	for _, s := range []*corev1.Secret{bad, gone, limited} {
		if err := e.c.Create(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: where}\ndata: {v: one}\n"})
	ns := "mc-" + e.ns
	t.Cleanup(func() {
		_ = east.Clientset().CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	cases := []struct{ app, dest, want string }{
		{"to-malformed", "name: malformed", "cluster Secret " + e.ns + "/malformed: data.config is not valid: field tlsClientConfig.insecure must be bool"},
		{"to-gone", "name: gone", "cluster gone (https://127.0.0.1:1): unreachable: connection refused"},
		{"to-expired", "name: expired", "cluster expired (" + east.URL() + "): the credentials were refused"},
		{"to-unknown", "name: nowhere", "spec.destination.name: cluster \"nowhere\" is not registered"},
		{"to-both", "name: east, server: " + east.URL(), "spec.destination: set server or name, not both"},
		{"to-limited", "name: limited", "ConfigMap/where: cluster limited is limited to namespaces only-here, not mc-" + e.ns},
	}
	for _, c := range cases {
		e.createClusterApp(t, c.app, c.dest, repo.HTTPURL(), ns)
	}
	e.createClusterApp(t, "to-east", "name: east", repo.HTTPURL(), ns)
	e.waitApp(t, "to-east", "synced beside the broken clusters", syncedHealthy(""))
	for _, c := range cases {
		a := e.waitApp(t, c.app, "a condition naming the problem", hasCondition(v1alpha1.ConditionComparisonError, c.want))
		for _, cond := range a.Status.Conditions {
			if strings.Contains(cond.Message, "s3cr3t") || strings.Contains(cond.Message, "not-a-valid-token") {
				t.Errorf("app %s: condition shows a credential: %s", c.app, cond.Message)
			}
		}
	}
	out, err := runCLIArgs(t, "--kubeconfig", in.KubeconfigPath(), "cluster", "list", "-n", e.ns)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`^malformed\s.*Invalid\s+cluster Secret .*data.config is not valid`, `^gone\s.*Failed\s+unreachable: connection refused`, `^expired\s.*Failed\s+the credentials were refused`, `^east\s.*Successful`} {
		if !regexpLine(out, want) {
			t.Errorf("cluster list: no line matching %s in\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cr3t") || strings.Contains(out, "not-a-valid-token") {
		t.Errorf("cluster list shows a credential:\n%s", out)
	}
	// Fixing the Secret fixes the app without a restart.
	fixed := &corev1.Secret{}
	if err := e.c.Get(context.Background(), client.ObjectKeyFromObject(bad), fixed); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = in.Clientset().CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	good, err := clusters.ToSecret(e.ns, "malformed", "malformed", in.RESTConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	fixed.Data = good.Data
	fixed.Data["name"] = []byte("malformed")
	if err := e.c.Update(context.Background(), fixed); err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "to-malformed")
	e.waitApp(t, "to-malformed", "synced once its Secret is fixed", func(a *v1alpha1.Application) bool {
		return syncedHealthy("")(a) && !hasCondition(v1alpha1.ConditionComparisonError, "")(a)
	})
	if clusterConfigMap(t, in, ns, "where") == nil {
		t.Fatal("the app of the fixed cluster Secret did not deploy to it")
	}
}

// runCLIArgs runs tether's CLI with exactly these arguments.
func runCLIArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := cli.Execute(context.Background(), args, &out, &out)
	return out.String(), err
}

// regexpLine tells whether a line of out matches the expression.
func regexpLine(out, expr string) bool {
	re := regexp.MustCompile(expr)
	for _, l := range strings.Split(out, "\n") {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}
