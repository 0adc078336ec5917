package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// appNS is where the Applications live, as in a default Argo CD install.
const appNS = "argocd"

var (
	crdGVR        = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	configMapGVR  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	deploymentGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

// env is one benchmark's control plane, git server and tether controller.
type env struct {
	b    *testing.B
	cp   *testenv.ControlPlane
	git  *gitserver.Server
	kube *kubernetes.Clientset
	dyn  dynamic.Interface
	apps dynamic.ResourceInterface // Applications in appNS
	ctl  *controller

	closers []func() // run last first by close
	closed  sync.Once
}

// onClose registers f to run when the environment is closed.
func (e *env) onClose(f func()) { e.closers = append(e.closers, f) }

// close stops the controller, the git server and the control plane; it is
// also registered with b.Cleanup, and only the first call does anything.
func (e *env) close() {
	e.closed.Do(func() {
		for i := len(e.closers) - 1; i >= 0; i-- {
			e.closers[i]()
		}
	})
}

// newEnv starts a control plane and a git server, installs tether's CRDs
// and creates the app namespace. Everything is stopped when b ends.
func newEnv(b *testing.B) *env {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	cp, err := testenv.Start(ctx, testenv.DefaultOptions())
	if err != nil {
		b.Fatalf("start control plane: %v", err)
	}
	e := &env{b: b, cp: cp}
	b.Cleanup(e.close)
	e.onClose(func() {
		if b.Failed() {
			b.Logf("control plane logs:\n%s", cp.LogTails(40))
		}
		cp.Stop()
	})
	if e.git, err = gitserver.Start(gitserver.Options{}); err != nil {
		b.Fatalf("start git server: %v", err)
	}
	e.onClose(func() { e.git.Close() })
	cfg := cp.Default().RESTConfig()
	cfg.QPS, cfg.Burst = 1000, 2000 // the harness must not be the bottleneck
	if e.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		b.Fatal(err)
	}
	if e.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		b.Fatal(err)
	}
	e.apps = e.dyn.Resource(v1alpha1.ApplicationGVR).Namespace(appNS)
	e.installCRDs(ctx)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: appNS}}
	if _, err := e.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	note(b, "control plane, git server and CRDs ready in %s", time.Since(start).Round(time.Millisecond))
	return e
}

// installCRDs applies `tether install --crds` and waits until the API
// serves Applications.
func (e *env) installCRDs(ctx context.Context) {
	e.b.Helper()
	out, err := exec.CommandContext(ctx, tetherBinary(e.b), "install", "--crds").Output()
	if err != nil {
		e.b.Fatalf("tether install --crds: %v", err)
	}
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			e.b.Fatalf("decode CRDs: %v", err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if _, err := e.dyn.Resource(crdGVR).Create(ctx, u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			e.b.Fatalf("create CRD %s: %v", u.GetName(), err)
		}
	}
	for {
		if _, err = e.apps.List(ctx, metav1.ListOptions{Limit: 1}); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			e.b.Fatalf("Applications not served: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// application is an automated (prune, self-heal) Application of one
// repository path deployed to the local cluster.
func application(name, repoURL, path, destNS string, syncOptions ...string) *unstructured.Unstructured {
	app := &v1alpha1.Application{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.ApplicationKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: appNS},
		Spec: v1alpha1.ApplicationSpec{
			Project:     "default",
			Source:      &v1alpha1.ApplicationSource{RepoURL: repoURL, TargetRevision: "main", Path: path},
			Destination: v1alpha1.ApplicationDestination{Server: v1alpha1.InClusterServer, Namespace: destNS},
			SyncPolicy: &v1alpha1.SyncPolicy{
				Automated:   &v1alpha1.SyncPolicyAutomated{Prune: true, SelfHeal: true},
				SyncOptions: syncOptions,
			},
		},
	}
	u, err := toUnstructured(app)
	if err != nil {
		panic(err)
	}
	return u
}

// controller is a running `tether controller` process.
type controller struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

// startController runs tether's controller (with args besides the
// benchmark's own) against the benchmark's cluster and waits until it is
// up: it has created the default AppProject and its /readyz answers 200
// (its Application and AppProject caches have listed their objects, so an
// app created now is reconciled at once, as by an agent already running).
func (e *env) startController(args ...string) *controller {
	b := e.b
	b.Helper()
	// Not b.TempDir: its cleanup would run before the controller stops
	// and its log is read.
	dir, err := os.MkdirTemp("", "tether-bench-")
	if err != nil {
		b.Fatal(err)
	}
	healthAddr := freeLocalAddr(b)
	c := &controller{logPath: filepath.Join(dir, "tether.log"), done: make(chan struct{})}
	if keep := os.Getenv("TETHER_BENCH_LOG_DIR"); keep != "" {
		c.logPath = filepath.Join(keep, b.Name()+".tether.log")
	}
	logf, err := os.Create(c.logPath)
	if err != nil {
		b.Fatal(err)
	}
	c.cmd = exec.Command(tetherBinary(b), "controller",
		"--kubeconfig", e.cp.Default().KubeconfigPath(),
		"--app-namespaces", appNS, "--namespace", appNS,
		"--cache-dir", filepath.Join(dir, "cache"), "--poll-interval", "3m",
		"--health-addr", healthAddr)
	c.cmd.Args = append(c.cmd.Args, args...)
	if extra := strings.Fields(os.Getenv("TETHER_BENCH_CONTROLLER_ARGS")); len(extra) > 0 {
		c.cmd.Args = append(c.cmd.Args, extra...)
		note(b, "tether controller extra arguments: %v", extra)
	}
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = childAttrs()
	if err := c.cmd.Start(); err != nil {
		b.Fatalf("start tether: %v", err)
	}
	go func() { c.err = c.cmd.Wait(); logf.Close(); close(c.done) }()
	e.ctl = c
	e.onClose(func() {
		c.stop()
		note(b, "tether controller log: %s", logSummary(c.logPath, 5))
		if b.Failed() {
			b.Logf("tether controller log (%s), last lines:\n%s", c.logPath, tail(c.logPath, 80))
		}
		_ = os.RemoveAll(dir)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	projects := e.dyn.Resource(v1alpha1.GroupVersion.WithResource("appprojects")).Namespace(appNS)
	for {
		if _, err := projects.Get(ctx, v1alpha1.DefaultProject, metav1.GetOptions{}); err == nil && httpOK("http://"+healthAddr+"/readyz") {
			return c
		}
		select {
		case <-c.done:
			b.Fatalf("tether controller exited: %v", c.err)
		case <-ctx.Done():
			b.Fatal("tether controller did not create the default AppProject and turn ready within a minute")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pid is the controller's process id.
func (c *controller) pid() int { return c.cmd.Process.Pid }

// alive fails b when the controller has exited.
func (c *controller) alive(b *testing.B) {
	b.Helper()
	select {
	case <-c.done:
		b.Fatalf("tether controller exited: %v", c.err)
	default:
	}
}

func (c *controller) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// logSummary counts a slog text log's lines by level and quotes the first
// few warnings and errors.
func logSummary(path string, quote int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	levels := map[string]int{}
	var quoted []string
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	for _, line := range lines {
		lvl := "other"
		if _, rest, ok := strings.Cut(line, "level="); ok {
			lvl, _, _ = strings.Cut(rest, " ")
		}
		levels[lvl]++
		if (lvl == "WARN" || lvl == "ERROR") && len(quoted) < quote {
			quoted = append(quoted, "\n    "+firstLine(line))
		}
	}
	return fmt.Sprintf("%d lines %v%s", len(lines), levels, strings.Join(quoted, ""))
}

// freeLocalAddr is a 127.0.0.1 address with a port nothing listens on now.
func freeLocalAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// httpOK tells whether a GET of url answers 200.
func httpOK(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
