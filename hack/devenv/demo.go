package main

import (
	"bytes"
	"context"
	"fmt"
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

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/deploy"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// exampleRepoURL is the URL the example manifests name; the demo replaces
// it with the local git server's.
const exampleRepoURL = "https://github.com/example/infra"

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
and tether runs on them (log: %s/tether.log):

%s
Look next:
  bin/tether app get api-production -n argocd        # objects, health, last sync
  bin/tether app get api-helm-eu -n argocd           # two sources: the chart and its values ($config/...)
  bin/tether app diff api-qa -n argocd               # a manual app: what a sync would change
  bin/tether app sync api-qa -n argocd               # ...and sync it
  bin/kubectl -n argocd get applicationsets           # api-all-environments made api-dev, api-staging, api-prod
  bin/kubectl -n production scale deploy/api --replicas=1   # drift: tether puts it back
`, repo.HTTPURL(), d.State, out)
	return nil
}

// startController runs bin/tether controller for the demo; it ends with
// this process.
func startController(d *demoInfo, root string) error {
	logf, err := os.Create(filepath.Join(d.State, "tether.log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(root, "bin", "tether"), "controller", "--kubeconfig", d.Kubeconfig,
		"--cache-dir", filepath.Join(d.State, "cache"), "--app-namespaces", "argocd", "--namespace", "argocd")
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
