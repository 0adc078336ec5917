package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/deploy"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/chartrepo"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// exampleRepoURL is the URL the example manifests name; the demo replaces
// it with the local git server's. exampleChartsURL is the Helm repository
// they name, replaced with a local one serving examples/charts.
const (
	exampleRepoURL   = "https://github.com/example/infra"
	exampleChartsURL = "https://charts.example.com"
)

// runDemo pushes examples/ to the git server, installs the CRDs, creates
// the example Applications, starts `tether controller` and waits for the
// apps to settle.
func runDemo(ctx context.Context, d *demoInfo) error {
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	repo, err := d.Git.CreateRepo("infra", gitserver.Anonymous)
	if err != nil {
		return err
	}
	if _, err := repo.CommitDir("main", filepath.Join(root, "examples"), "", "Add the example apps"); err != nil {
		return err
	}
	charts, err := serveExampleCharts(filepath.Join(root, "examples", "charts"))
	if err != nil {
		return err
	}
	c, err := client.New(d.ControlPlane.Default().RESTConfig(), client.Options{Scheme: controller.Scheme()})
	if err != nil {
		return err
	}
	crds, err := deploy.CRDs()
	if err != nil {
		return err
	}
	if err := createAll(ctx, c, crds, nil); err != nil {
		return err
	}
	for _, ns := range []string{"argocd", "production"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	if err := startController(d, root); err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(root, "examples", "applications", "*.yaml"))
	sets, _ := filepath.Glob(filepath.Join(root, "examples", "applicationsets", "*.yaml"))
	for _, f := range append(files, sets...) {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		b = bytes.ReplaceAll(b, []byte(exampleRepoURL), []byte(repo.HTTPURL()))
		b = bytes.ReplaceAll(b, []byte(exampleChartsURL), []byte(charts.URL()))
		if err := createAll(ctx, c, b, func(u *unstructured.Unstructured) bool {
			return u.GetKind() == v1alpha1.ApplicationKind || u.GetKind() == "ApplicationSet"
		}); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	settle(ctx, c)
	out, err := exec.CommandContext(ctx, filepath.Join(root, "bin", "tether"), "--kubeconfig", d.Kubeconfig, "app", "list", "-n", "argocd").CombinedOutput()
	if err != nil {
		return fmt.Errorf("tether app list: %v: %s", err, out)
	}
	d.Report = fmt.Sprintf(`The example apps from examples/ were pushed to %s
(the charts of examples/charts are also served as a Helm repository at %s)
and tether runs on them (log: %s/tether.log):

%s
Look next:
  bin/tether app get api-production -n argocd        # objects, health, last sync
  bin/tether app get api-helm-eu -n argocd           # two sources: the chart and its values ($config/...)
  bin/tether app get api-chart-repo -n argocd        # a chart from a Helm repository, values from Git
  bin/tether app diff api-qa -n argocd               # a manual app: what a sync would change
  bin/tether app sync api-qa -n argocd               # ...and sync it
  bin/kubectl -n argocd get applicationsets           # api-all-environments made api-dev, api-staging, api-prod
  bin/kubectl -n production scale deploy/api --replicas=1   # drift: tether puts it back

After a push to the repository, announce it as a Git server would (the apps
on main are compared at once instead of at the next poll):
  curl -H 'X-GitHub-Event: push' -d '{"ref": "refs/heads/main", "repository": {"clone_url": "%s"}}' %s
`, repo.HTTPURL(), charts.URL(), d.State, out, repo.HTTPURL(), d.Webhook)
	return nil
}

// startController runs bin/tether controller for the demo; it ends with
// this process.
func startController(d *demoInfo, root string) error {
	logf, err := os.Create(filepath.Join(d.State, "tether.log"))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	d.Webhook = "http://" + ln.Addr().String() + controller.WebhookPath
	_ = ln.Close()
	cmd := exec.Command(filepath.Join(root, "bin", "tether"), "controller", "--kubeconfig", d.Kubeconfig,
		"--cache-dir", filepath.Join(d.State, "cache"), "--app-namespaces", "argocd", "--namespace", "argocd",
		"--webhook-addr", strings.TrimSuffix(strings.TrimPrefix(d.Webhook, "http://"), controller.WebhookPath))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start tether controller (run `make build` first): %w", err)
	}
	return nil
}

// settle waits until every ApplicationSet has generated its Applications,
// every Application has a sync status and the automated ones are Synced
// and Healthy, or two minutes pass.
func settle(ctx context.Context, c client.Client) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var l v1alpha1.ApplicationList
		var sets v1alpha1.ApplicationSetList
		if err := c.List(ctx, &l, client.InNamespace("argocd")); err == nil && len(l.Items) > 0 && c.List(ctx, &sets, client.InNamespace("argocd")) == nil {
			done := true
			for _, s := range sets.Items {
				if len(s.Status.Conditions) == 0 {
					done = false // not generated yet
				}
			}
			for _, a := range l.Items {
				auto := a.Spec.SyncPolicy != nil && a.Spec.SyncPolicy.Automated.IsEnabled()
				if a.Status.Sync.Status == "" || (auto && (a.Status.Sync.Status != v1alpha1.SyncStatusSynced || a.Status.Health.Status != v1alpha1.HealthHealthy)) {
					done = false
				}
			}
			if done {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// createAll creates every object of a YAML stream (that keep accepts).
func createAll(ctx context.Context, c client.Client, stream []byte, keep func(*unstructured.Unstructured) bool) error {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if strings.Contains(err.Error(), "EOF") {
				return nil
			}
			return err
		}
		if len(u.Object) == 0 || (keep != nil && !keep(u)) {
			continue
		}
		if err := createWithRetry(ctx, c, u); err != nil {
			return fmt.Errorf("%s/%s: %w", u.GetKind(), u.GetName(), err)
		}
	}
}

// createWithRetry retries while a just-created CRD is not served yet.
func createWithRetry(ctx context.Context, c client.Client, u *unstructured.Unstructured) error {
	var err error
	for i := 0; i < 100; i++ {
		err = c.Create(ctx, u.DeepCopy())
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// serveExampleCharts packages each chart directory under dir (at the
// version its Chart.yaml gives) and serves them as a Helm repository for
// as long as the demo runs.
func serveExampleCharts(dir string) (*chartrepo.Server, error) {
	srv := chartrepo.NewServer("", "")
	charts, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, ch := range charts {
		if !ch.IsDir() {
			continue
		}
		root := filepath.Join(dir, ch.Name())
		var meta struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		}
		b, err := os.ReadFile(filepath.Join(root, "Chart.yaml"))
		if err != nil {
			return nil, err
		}
		if err := sigsyaml.Unmarshal(b, &meta); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(root, "Chart.yaml"), err)
		}
		var entries []chartrepo.Entry
		err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			entries = append(entries, chartrepo.Entry{Name: meta.Name + "/" + filepath.ToSlash(rel), Data: string(data)})
			return nil
		})
		if err != nil {
			return nil, err
		}
		archive, err := chartrepo.Archive(entries...)
		if err != nil {
			return nil, err
		}
		srv.Publish(meta.Name, meta.Version, archive)
	}
	return srv, nil
}
