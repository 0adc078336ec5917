package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/internal/cli"
	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// TestInstallManifestsRunTheController applies everything `tether install`
// prints (for a namespace of the test's own) to the API server, then runs
// the controller the way its Deployment does: with the Deployment's own
// arguments and as its service account (a token of it, not the admin's).
// The controller turns ready, reads a repository Secret of its namespace,
// syncs an app into a namespace it creates, and serves its metrics; the
// Deployment's pod is admitted and scheduled.
func TestInstallManifestsRunTheController(t *testing.T) {
	installCRDs(t)
	ctx := context.Background()
	ns := destNamespace(t) // the install's own Namespace object adopts it
	var out bytes.Buffer
	if err := cli.Execute(ctx, []string{"install", "--namespace", ns}, &out, &out); err != nil {
		t.Fatalf("tether install: %v\n%s", err, out.String())
	}
	c := kclient(t)
	var deployment *unstructured.Unstructured
	dec := yaml.NewYAMLOrJSONDecoder(&out, 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("e2e-install")); err != nil {
			t.Fatalf("apply %s %s: %v", u.GetKind(), u.GetName(), err)
		}
		switch u.GetKind() {
		case "ClusterRole", "ClusterRoleBinding":
			obj := u.DeepCopy()
			t.Cleanup(func() { _ = c.Delete(context.Background(), obj) })
		case "Deployment":
			deployment = u
		}
	}
	if deployment == nil {
		t.Fatal("tether install printed no Deployment")
	}

	// The service account's identity, as the pod would have it.
	admin := testenv.Config(t)
	tok, err := kube(t).CoreV1().ServiceAccounts(ns).CreateToken(ctx, "tether", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	saCfg := &rest.Config{Host: admin.Host, BearerToken: tok.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAData: admin.CAData, CAFile: admin.CAFile, Insecure: admin.Insecure}}
	review, err := kubernetes.NewForConfigOrDie(saCfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "system:serviceaccount:" + ns + ":tether"; review.Status.UserInfo.Username != want {
		t.Fatalf("the token is %q's, want %q's", review.Status.UserInfo.Username, want)
	}
	kubeconfig := filepath.Join(t.TempDir(), "sa.kubeconfig")
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthority: admin.CAFile, CertificateAuthorityData: admin.CAData, InsecureSkipTLSVerify: admin.Insecure}
	kc.AuthInfos["tether"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "tether"}
	kc.CurrentContext = "c"
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}

	// The Deployment's arguments, with its pod's paths and ports made this
	// machine's.
	containers, _, _ := unstructured.NestedSlice(deployment.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("the Deployment has %d containers, want 1", len(containers))
	}
	health, metrics := freeAddr(t), freeAddr(t)
	var args []string
	for _, a := range containers[0].(map[string]any)["args"].([]any) {
		arg := a.(string)
		switch {
		case strings.HasPrefix(arg, "--cache-dir="):
			arg = "--cache-dir=" + t.TempDir()
		case strings.HasPrefix(arg, "--health-addr="):
			arg = "--health-addr=" + health
		case strings.HasPrefix(arg, "--metrics-addr="):
			arg = "--metrics-addr=" + metrics
		case strings.HasPrefix(arg, "--webhook-addr="):
			arg = "--webhook-addr=" + freeAddr(t)
		}
		args = append(args, arg)
	}
	if !strings.Contains(strings.Join(args, " "), "--namespace="+ns) {
		t.Fatalf("the Deployment's arguments %q do not name the namespace %s", args, ns)
	}
	args = append(args, "--kubeconfig", kubeconfig)
	logs := &lockedBuffer{}
	prevLog := slog.Default()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cli.Execute(runCtx, args, logs, logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("tether %s: %v", strings.Join(args, " "), err)
		}
		slog.SetDefault(prevLog)
		logs.close()
		if t.Failed() {
			t.Logf("controller log:\n%s", logs.String())
		}
	})

	eventually(t, 30*time.Second, "the controller's /readyz answering 200", func(context.Context) (bool, error) {
		select {
		case err := <-done:
			return false, fmt.Errorf("the controller stopped: %v\n%s", err, logs.String())
		default:
		}
		code, _ := httpGet("http://" + health + "/readyz")
		return code == http.StatusOK, nil
	})

	srv := git(t)
	repo := newRepo(t, gitserver.BasicAuth, map[string]string{"app/cm.yaml": cmYAML("installed", "v1")})
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds", Labels: map[string]string{"argocd.argoproj.io/secret-type": "repository"}},
		StringData: map[string]string{"url": repo.HTTPURL(), "username": srv.Username(), "password": srv.Password()},
	}
	if _, err := kube(t).CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := &tetherEnv{ns: ns, c: c}
	dest := e.namespaceToCreate(t, "inst")
	e.createApp(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: installed}
spec:
  source: {repoURL: REPO, targetRevision: main, path: app}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy:
    automated: {prune: true}
    syncOptions: [CreateNamespace=true]
`, repo.HTTPURL(), dest)
	e.waitApp(t, "installed", "Synced and Healthy as the service account", syncedHealthy(""))
	if configMap(t, dest, "installed") == nil {
		t.Fatal("the app's ConfigMap was not applied")
	}
	if code, body := httpGet("http://" + metrics + "/metrics"); code != http.StatusOK || !strings.Contains(body, `argocd_app_info{`) || !strings.Contains(body, `name="installed"`) {
		t.Fatalf("/metrics: %d, without argocd_app_info for the app", code)
	}
	// The pod spec passes admission and scheduling (kwok plays the
	// kubelet: the image is not run).
	eventually(t, 60*time.Second, "the Deployment Available", func(ctx context.Context) (bool, error) {
		d, err := kube(t).AppsV1().Deployments(ns).Get(ctx, "tether", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if strings.Contains(logs.String(), srv.Password()) || strings.Contains(logs.String(), tok.Status.Token) {
		t.Fatal("the controller's log shows a secret")
	}
}

// lockedBuffer is a log sink safe for concurrent writers; once closed it
// drops what comes later (a controller's last lines after its test).
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	closed bool
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
}

// httpGet answers a GET of url with its status code and body (0 and the
// error's text when nothing answers).
func httpGet(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
