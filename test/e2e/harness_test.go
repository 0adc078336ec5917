package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/cli"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

var (
	crdsOnce sync.Once
	crdsErr  error
	gitOnce  sync.Once
	gitSrv   *gitserver.Server
	gitErr   error
)

// git returns the package's git server.
func git(t *testing.T) *gitserver.Server {
	t.Helper()
	gitOnce.Do(func() { gitSrv, gitErr = gitserver.Start(gitserver.Options{}) })
	if gitErr != nil {
		t.Fatal(gitErr)
	}
	return gitSrv
}

// installCRDs applies tether's CRDs once per package, as `tether install
// --crds | kubectl apply -f -` would.
func installCRDs(t *testing.T) {
	t.Helper()
	crdsOnce.Do(func() {
		var out bytes.Buffer
		if crdsErr = cli.Execute(context.Background(), []string{"install", "--crds"}, &out, &out); crdsErr != nil {
			return
		}
		c := kclient(t)
		dec := yaml.NewYAMLOrJSONDecoder(&out, 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err != nil {
				break
			}
			if len(u.Object) == 0 {
				continue
			}
			if err := c.Create(context.Background(), u); err != nil && !apierrors.IsAlreadyExists(err) {
				crdsErr = err
				return
			}
		}
		// Wait until the API serves Applications.
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			var l v1alpha1.ApplicationList
			if crdsErr = c.List(context.Background(), &l); crdsErr == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if crdsErr != nil {
		t.Fatalf("install CRDs: %v", crdsErr)
	}
}

func kclient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(testenv.Config(t), client.Options{Scheme: controller.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func kube(t *testing.T) *kubernetes.Clientset {
	return testenv.Shared(t).Default().Clientset()
}

// writeCounter counts write requests (not dry runs) a client makes.
type writeCounter struct {
	n    atomic.Int64
	mu   sync.Mutex
	last []string
}

func (w *writeCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if !strings.Contains(r.URL.RawQuery, "dryRun=") {
				w.n.Add(1)
				w.mu.Lock()
				w.last = append(w.last, r.Method+" "+r.URL.Path)
				w.mu.Unlock()
			}
		}
		return rt.RoundTrip(r)
	})
}

func (w *writeCounter) writes() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.last...)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// tetherEnv is one test's namespace for Applications and its controller.
type tetherEnv struct {
	ns      string
	c       client.Client
	writes  *writeCounter
	rec     *controller.Reconciler
	cancel  context.CancelFunc
	stopped chan struct{}
	opts    controller.Options
}

// startTether starts a controller watching a fresh namespace for
// Applications (and repository Secrets).
func startTether(t *testing.T, mutate ...func(*controller.Options)) *tetherEnv {
	t.Helper()
	installCRDs(t)
	ns := testenv.Namespace(t)
	opts := controller.DefaultOptions()
	opts.AppNamespaces = []string{ns}
	opts.Namespace = ns
	opts.CacheDir = t.TempDir()
	opts.PollInterval = time.Minute
	for _, m := range mutate {
		m(&opts)
	}
	e := &tetherEnv{ns: ns, c: kclient(t), writes: &writeCounter{}, opts: opts}
	e.start(t)
	return e
}

// start runs a controller with e's options.
func (e *tetherEnv) start(t *testing.T) {
	t.Helper()
	opts := e.opts
	cfg := rest.CopyConfig(testenv.Config(t))
	cfg.Wrap(e.writes.wrap)
	mgr, rec, err := controller.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.rec = rec
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.stopped = cancel, make(chan struct{})
	go func() {
		defer close(e.stopped)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("controller: %v", err)
		}
	}()
	t.Cleanup(e.stop)
}

func (e *tetherEnv) stop() {
	e.cancel()
	<-e.stopped
}

// repo creates a git repository with files committed on main.
func newRepo(t *testing.T, access gitserver.Access, files map[string]string) *gitserver.Repo {
	t.Helper()
	name := fmt.Sprintf("r%d", time.Now().UnixNano())
	r, err := git(t).CreateRepo(name, access)
	if err != nil {
		t.Fatal(err)
	}
	if files != nil {
		if _, err := r.CommitAs(gitserver.Author{Name: "Grace Hopper", Email: "grace@example.test"}, "main", files, nil, "initial layout"); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// createApp creates an Application from YAML with REPO and NS placeholders.
func (e *tetherEnv) createApp(t *testing.T, y string, repoURL, destNS string) *v1alpha1.Application {
	t.Helper()
	y = strings.NewReplacer("REPO", repoURL, "DESTNS", destNS, "APPNS", e.ns).Replace(y)
	return e.app(t, e.createYAML(t, e.ns, y))
}

// createYAML creates the object of a YAML document in namespace ns and
// returns its name.
func (e *tetherEnv) createYAML(t *testing.T, ns, y string) string {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.NewYAMLOrJSONDecoder(strings.NewReader(y), 4096).Decode(&u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetNamespace(ns)
	if err := e.c.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u.GetName()
}

func (e *tetherEnv) app(t *testing.T, name string) *v1alpha1.Application {
	t.Helper()
	a := &v1alpha1.Application{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.ns, Name: name}, a); err != nil {
		t.Fatal(err)
	}
	return a
}

// waitApp waits until cond holds for the app and returns it.
func (e *tetherEnv) waitApp(t *testing.T, name, what string, cond func(*v1alpha1.Application) bool) *v1alpha1.Application {
	t.Helper()
	return waitObject(t, e, "app "+name, what, func() *v1alpha1.Application { return &v1alpha1.Application{} }, name, cond, describeStatus)
}

// waitObject polls the named object of the test's namespace for a minute
// until cond holds, and fails showing the last state seen.
func waitObject[T client.Object](t *testing.T, e *tetherEnv, label, what string, newObj func() T, name string, cond func(T) bool, describe func(T) string) T {
	t.Helper()
	var last T
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		o := newObj()
		if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.ns, Name: name}, o); err == nil {
			last = o
			if cond(o) {
				return o
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %s not reached; last status: %s", label, what, describe(last))
	return last
}

// waitAppRefreshing is waitApp that asks for a refresh every two seconds,
// for changes the controller only sees on a refresh (credentials, remote refs).
func (e *tetherEnv) waitAppRefreshing(t *testing.T, name, what string, cond func(*v1alpha1.Application) bool) *v1alpha1.Application {
	t.Helper()
	var last *v1alpha1.Application
	for i := 0; i < 30; i++ {
		e.refresh(t, name)
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			a := &v1alpha1.Application{}
			if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.ns, Name: name}, a); err == nil {
				last = a
				if cond(a) {
					return a
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Fatalf("app %s: %s not reached; last status: %s", name, what, describeStatus(last))
	return nil
}

func describeStatus(a *v1alpha1.Application) string {
	if a == nil {
		return "(none)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sync=%s rev=%s health=%s", a.Status.Sync.Status, a.Status.Sync.Revision, a.Status.Health.Status)
	for _, c := range a.Status.Conditions {
		fmt.Fprintf(&b, "\n  condition %s: %s", c.Type, c.Message)
	}
	if op := a.Status.OperationState; op != nil {
		fmt.Fprintf(&b, "\n  operation %s: %s", op.Phase, op.Message)
	}
	for _, r := range a.Status.Resources {
		h := ""
		if r.Health != nil {
			h = r.Health.Status + " " + r.Health.Message
		}
		fmt.Fprintf(&b, "\n  %s/%s/%s %s %s", r.Kind, r.Namespace, r.Name, r.Status, h)
	}
	return b.String()
}

func synced(rev string) func(*v1alpha1.Application) bool {
	return func(a *v1alpha1.Application) bool {
		return a.Status.Sync.Status == v1alpha1.SyncStatusSynced && (rev == "" || a.Status.Sync.Revision == rev)
	}
}

func syncedHealthy(rev string) func(*v1alpha1.Application) bool {
	return func(a *v1alpha1.Application) bool {
		return synced(rev)(a) && a.Status.Health.Status == v1alpha1.HealthHealthy
	}
}

func hasCondition(typ, substr string) func(*v1alpha1.Application) bool {
	return func(a *v1alpha1.Application) bool {
		for _, c := range a.Status.Conditions {
			if c.Type == typ && strings.Contains(c.Message, substr) {
				return true
			}
		}
		return false
	}
}

// refresh asks for an immediate refresh, as `kubectl annotate` would.
func (e *tetherEnv) refresh(t *testing.T, name string) {
	t.Helper()
	a := e.app(t, name)
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"normal"}}}`))
	if err := e.c.Patch(context.Background(), a, patch); err != nil {
		t.Fatal(err)
	}
}

// configMap reads a ConfigMap; nil when missing.
func configMap(t *testing.T, ns, name string) *corev1.ConfigMap {
	t.Helper()
	cm, err := kube(t).CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

// destNamespace creates a destination namespace for one test.
func destNamespace(t *testing.T) string { return testenv.Namespace(t) }

// namespaceToCreate names a namespace for the test that does not exist
// yet (an app creates it with CreateNamespace=true), deleted at the end.
func (e *tetherEnv) namespaceToCreate(t *testing.T, prefix string) string {
	ns := prefix + strings.TrimPrefix(e.ns, "t-")
	if len(ns) > 63 {
		ns = ns[:63]
	}
	t.Cleanup(func() {
		_ = kube(t).CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	return ns
}

// runCLI runs tether's CLI against the test cluster.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	full := append([]string{"--kubeconfig", testenv.Shared(t).Default().KubeconfigPath()}, args...)
	err := cli.Execute(context.Background(), full, &out, &out)
	return out.String(), err
}

// freeAddr is a 127.0.0.1 address with a port nothing listens on now, for
// an endpoint the controller serves.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func clientMergePatch(body string) client.Patch {
	return client.RawPatch("application/merge-patch+json", []byte(body))
}
