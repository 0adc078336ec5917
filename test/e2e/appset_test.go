package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/clusters"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// createAppSet creates an ApplicationSet from YAML in the test's namespace.
func (e *tetherEnv) createAppSet(t *testing.T, y string) *v1alpha1.ApplicationSet {
	t.Helper()
	return e.appSet(t, e.createYAML(t, e.ns, y))
}

func (e *tetherEnv) appSet(t *testing.T, name string) *v1alpha1.ApplicationSet {
	t.Helper()
	s := &v1alpha1.ApplicationSet{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.ns, Name: name}, s); err != nil {
		t.Fatal(err)
	}
	return s
}

// patchAppSet applies a JSON merge patch to an ApplicationSet.
func (e *tetherEnv) patchAppSet(t *testing.T, name, patch string) {
	t.Helper()
	s := &v1alpha1.ApplicationSet{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
	if err := e.c.Patch(context.Background(), s, clientMergePatch(patch)); err != nil {
		t.Fatal(err)
	}
}

// waitAppSet waits until cond holds for the set.
func (e *tetherEnv) waitAppSet(t *testing.T, name, what string, cond func(*v1alpha1.ApplicationSet) bool) *v1alpha1.ApplicationSet {
	t.Helper()
	return waitObject(t, e, "ApplicationSet "+name, what, func() *v1alpha1.ApplicationSet { return &v1alpha1.ApplicationSet{} }, name, cond, describeSet)
}

func describeSet(s *v1alpha1.ApplicationSet) string {
	if s == nil {
		return "(none)"
	}
	var b strings.Builder
	for _, c := range s.Status.Conditions {
		b.WriteString("\n  " + c.Type + "=" + c.Status + " " + c.Reason + ": " + c.Message)
	}
	for _, r := range s.Status.Resources {
		h := ""
		if r.Health != nil {
			h = r.Health.Status
		}
		b.WriteString("\n  " + r.Kind + " " + r.Name + " " + r.Status + " " + h)
	}
	return b.String()
}

// setCondition holds when the set has the condition with that status and a
// message containing substr.
func setCondition(typ, status, substr string) func(*v1alpha1.ApplicationSet) bool {
	return func(s *v1alpha1.ApplicationSet) bool {
		for _, c := range s.Status.Conditions {
			if c.Type == typ && c.Status == status && strings.Contains(c.Message, substr) {
				return true
			}
		}
		return false
	}
}

// setUpToDate holds when the set reports success.
func setUpToDate(s *v1alpha1.ApplicationSet) bool {
	return setCondition(v1alpha1.ApplicationSetConditionErrorOccurred, "False", "")(s) &&
		setCondition(v1alpha1.ApplicationSetConditionParametersGenerated, "True", "")(s) &&
		setCondition(v1alpha1.ApplicationSetConditionResourcesUpToDate, "True", "")(s)
}

// setError holds when the set reports an error containing substr.
func setError(substr string) func(*v1alpha1.ApplicationSet) bool {
	return func(s *v1alpha1.ApplicationSet) bool {
		return setCondition(v1alpha1.ApplicationSetConditionErrorOccurred, "True", substr)(s) &&
			setCondition(v1alpha1.ApplicationSetConditionResourcesUpToDate, "False", substr)(s)
	}
}

// appsOf returns the Applications the set controls, by name.
func (e *tetherEnv) appsOf(t *testing.T, set string) map[string]*v1alpha1.Application {
	t.Helper()
	var l v1alpha1.ApplicationList
	if err := e.c.List(context.Background(), &l, client.InNamespace(e.ns)); err != nil {
		t.Fatal(err)
	}
	out := map[string]*v1alpha1.Application{}
	for i := range l.Items {
		if ref := metav1.GetControllerOf(&l.Items[i]); ref != nil && ref.Kind == "ApplicationSet" && ref.Name == set {
			out[l.Items[i].Name] = &l.Items[i]
		}
	}
	return out
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// waitSetApps waits until the set controls exactly the named Applications
// (none being deleted).
func (e *tetherEnv) waitSetApps(t *testing.T, set string, within time.Duration, want ...string) map[string]*v1alpha1.Application {
	t.Helper()
	sort.Strings(want)
	var got map[string]*v1alpha1.Application
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		got = e.appsOf(t, set)
		deleting := false
		for _, a := range got {
			deleting = deleting || a.DeletionTimestamp != nil
		}
		if !deleting && slices.Equal(sortedNames(got), want) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("ApplicationSet %s: Applications %v, want %v within %s; set status: %s", set, sortedNames(got), want, within, describeSet(e.appSet(t, set)))
	return nil
}

// appGone waits until the Application no longer exists.
func (e *tetherEnv) appGone(t *testing.T, name string) {
	t.Helper()
	eventually(t, 60*time.Second, "Application "+name+" deleted", func(ctx context.Context) (bool, error) {
		err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &v1alpha1.Application{})
		return apierrors.IsNotFound(err), nil
	})
}

// settle waits until the controller made no write for a full second.
func (e *tetherEnv) settle() {
	deadline := time.Now().Add(20 * time.Second)
	for last := e.writes.n.Load(); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		now := e.writes.n.Load()
		if now == last {
			return
		}
		last = now
	}
}

// seedAppSet is examples/applicationsets/api-all-environments.yaml with the
// repository, and destination namespaces unique to the test.
func seedAppSet(t *testing.T, repoURL, nsPrefix string) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "examples", "applicationsets", "api-all-environments.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := string(b)
	for old, repl := range map[string]string{
		"https://github.com/example/infra": repoURL,
		"namespace: '{{env}}'":             "namespace: '" + nsPrefix + "-{{env}}'",
	} {
		if !strings.Contains(y, old) {
			t.Fatalf("the seed ApplicationSet changed: %q not found", old)
		}
		y = strings.Replace(y, old, repl, 1)
	}
	return y
}

// cleanupNamespaces deletes namespaces created by syncs at the end of the test.
func cleanupNamespaces(t *testing.T, c *testenv.Cluster, names ...string) {
	t.Cleanup(func() {
		for _, n := range names {
			_ = c.Clientset().CoreV1().Namespaces().Delete(context.Background(), n, metav1.DeleteOptions{})
		}
	})
}

func TestAppSetListGeneratorFromTheExamples(t *testing.T) {
	e := startTether(t)
	repo := examplesRepo(t, gitserver.Anonymous)
	prefix := e.ns
	envs := []string{"dev", "staging", "prod"}
	cleanupNamespaces(t, testenv.Shared(t).Default(), prefix+"-dev", prefix+"-staging", prefix+"-prod")
	set := e.createAppSet(t, seedAppSet(t, repo.HTTPURL(), prefix))
	const name = "api-all-environments"

	apps := e.waitSetApps(t, name, 30*time.Second, "api-dev", "api-prod", "api-staging")
	t.Run("three Applications owned by the set sync their overlays into three namespaces", func(t *testing.T) {
		for _, env := range envs {
			a := apps["api-"+env]
			ref := metav1.GetControllerOf(a)
			if ref.UID != set.UID || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion || ref.APIVersion != "argoproj.io/v1alpha1" {
				t.Errorf("app %s: owner reference %+v", a.Name, ref)
			}
			if !slices.Contains(a.Finalizers, v1alpha1.ResourcesFinalizer) {
				t.Errorf("app %s: finalizers %v, want the resources finalizer by default", a.Name, a.Finalizers)
			}
			if a.Spec.Source.Path != "apps/api/"+env || a.Spec.Destination.Namespace != prefix+"-"+env {
				t.Errorf("app %s: path %s namespace %s", a.Name, a.Spec.Source.Path, a.Spec.Destination.Namespace)
			}
		}
		for _, env := range envs {
			e.waitApp(t, "api-"+env, "synced and healthy", syncedHealthy(""))
			if d := deployment(t, prefix+"-"+env, "api"); d.Labels["env"] != env {
				t.Errorf("%s: Deployment labels %v", env, d.Labels)
			}
		}
		s := e.waitAppSet(t, name, "up to date, listing three synced and healthy apps", func(s *v1alpha1.ApplicationSet) bool {
			if !setUpToDate(s) || len(s.Status.Resources) != 3 {
				return false
			}
			for _, r := range s.Status.Resources {
				if r.Status != v1alpha1.SyncStatusSynced || r.Health == nil || r.Health.Status != v1alpha1.HealthHealthy {
					return false
				}
			}
			return true
		})
		if r := s.Status.Resources[0]; r.Name != "api-dev" || r.Kind != "Application" || r.Group != "argoproj.io" || r.Namespace != e.ns {
			t.Errorf("status.resources[0] = %+v", r)
		}
	})

	t.Run("an idle set causes no writes", func(t *testing.T) {
		e.settle()
		before := e.writes.n.Load()
		for i := 0; i < 3; i++ {
			// An annotation the template does not use: a reconcile with nothing to do.
			e.patchAppSet(t, name, `{"metadata":{"annotations":{"touched":"`+string(rune('a'+i))+`"}}}`)
			time.Sleep(300 * time.Millisecond)
		}
		if got := e.writes.n.Load() - before; got != 0 {
			t.Fatalf("%d writes by an idle set: %v", got, e.writes.writes())
		}
	})

	t.Run("an edited generated Application is put back, a deleted one created again", func(t *testing.T) {
		a := e.app(t, "api-dev")
		patch := `{"metadata":{"labels":{"edited":"yes"},"finalizers":null},"spec":{"syncPolicy":null}}`
		if err := e.c.Patch(context.Background(), a, clientMergePatch(patch)); err != nil {
			t.Fatal(err)
		}
		e.waitApp(t, "api-dev", "put back by the set", func(a *v1alpha1.Application) bool {
			return a.Labels["edited"] == "" && slices.Contains(a.Finalizers, v1alpha1.ResourcesFinalizer) &&
				a.Spec.SyncPolicy != nil && a.Spec.SyncPolicy.Automated.IsEnabled()
		})
		old := e.app(t, "api-staging")
		if err := e.c.Delete(context.Background(), old); err != nil {
			t.Fatal(err)
		}
		e.waitApp(t, "api-staging", "created again and synced", func(a *v1alpha1.Application) bool {
			return a.UID != old.UID && a.DeletionTimestamp == nil && syncedHealthy("")(a)
		})
	})

	t.Run("a template change updates every Application", func(t *testing.T) {
		e.patchAppSet(t, name, `{"spec":{"template":{"metadata":{"labels":{"team":"api"}}}}}`)
		for _, env := range envs {
			e.waitApp(t, "api-"+env, "labelled", func(a *v1alpha1.Application) bool { return a.Labels["team"] == "api" })
		}
	})

	t.Run("deleting the set deletes its Applications and, through their finalizer, their objects", func(t *testing.T) {
		if err := e.c.Delete(context.Background(), e.appSet(t, name)); err != nil {
			t.Fatal(err)
		}
		for _, env := range envs {
			e.appGone(t, "api-"+env)
		}
		for _, env := range envs {
			if _, err := kube(t).AppsV1().Deployments(prefix+"-"+env).Get(context.Background(), "api", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("%s: the Deployment survived its app (err %v)", env, err)
			}
		}
	})
}

const policySet = `
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: pol}
spec:
  syncPolicy: {applicationsSync: create-only}
  generators:
  - list:
      elements: [{env: a}, {env: b}, {env: c}]
  template:
    metadata: {name: 'pol-{{env}}'}
    spec:
      source: {repoURL: REPO, targetRevision: main, path: 'apps/{{env}}'}
      destination: {namespace: DESTNS}
      syncPolicy: {automated: {prune: true}}
`

func TestAppSetPolicies(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"apps/a/cm.yaml": cmYAML("cm-a", "a"),
		"apps/b/cm.yaml": cmYAML("cm-b", "b"),
		"apps/c/cm.yaml": cmYAML("cm-c", "c"),
	})
	e.createAppSet(t, strings.NewReplacer("REPO", repo.HTTPURL(), "DESTNS", dest).Replace(policySet))
	e.waitSetApps(t, "pol", 30*time.Second, "pol-a", "pol-b", "pol-c")
	for _, n := range []string{"pol-a", "pol-b", "pol-c"} {
		e.waitApp(t, n, "synced", synced(""))
	}

	t.Run("create-only does not update an existing Application", func(t *testing.T) {
		e.patchAppSet(t, "pol", `{"spec":{"template":{"metadata":{"labels":{"team":"x"}}}}}`)
		// A deleted Application is created again, from the new template:
		// proof the set saw the change.
		if err := e.c.Delete(context.Background(), e.app(t, "pol-a")); err != nil {
			t.Fatal(err)
		}
		e.waitApp(t, "pol-a", "created again with the new label", func(a *v1alpha1.Application) bool {
			return a.Labels["team"] == "x" && a.DeletionTimestamp == nil
		})
		for _, n := range []string{"pol-b", "pol-c"} {
			if l := e.app(t, n).Labels["team"]; l != "" {
				t.Errorf("%s was updated under create-only (label team=%q)", n, l)
			}
		}
	})

	t.Run("create-update updates but does not delete", func(t *testing.T) {
		e.patchAppSet(t, "pol", `{"spec":{"syncPolicy":{"applicationsSync":"create-update"},"generators":[{"list":{"elements":[{"env":"a"},{"env":"b"}]}}]}}`)
		e.waitApp(t, "pol-b", "updated with the label", func(a *v1alpha1.Application) bool { return a.Labels["team"] == "x" })
		time.Sleep(time.Second)
		if c := e.app(t, "pol-c"); c.DeletionTimestamp != nil {
			t.Fatal("pol-c was deleted under create-update")
		}
	})

	t.Run("under sync an Application no longer generated is deleted with its objects", func(t *testing.T) {
		e.patchAppSet(t, "pol", `{"spec":{"syncPolicy":{"applicationsSync":"sync"}}}`)
		e.appGone(t, "pol-c")
		if configMap(t, dest, "cm-c") != nil {
			t.Fatal("the objects of pol-c survived it although it had the resources finalizer")
		}
		e.waitSetApps(t, "pol", 10*time.Second, "pol-a", "pol-b")
	})

	t.Run("preserveResourcesOnDeletion keeps the objects of a dropped element and of a deleted set", func(t *testing.T) {
		e.patchAppSet(t, "pol", `{"spec":{"syncPolicy":{"preserveResourcesOnDeletion":true},"generators":[{"list":{"elements":[{"env":"a"}]}}]}}`)
		e.appGone(t, "pol-b")
		e.waitApp(t, "pol-a", "without the resources finalizer", func(a *v1alpha1.Application) bool {
			return !slices.Contains(a.Finalizers, v1alpha1.ResourcesFinalizer)
		})
		if configMap(t, dest, "cm-b") == nil {
			t.Fatal("the objects of pol-b were deleted despite preserveResourcesOnDeletion")
		}
		if err := e.c.Delete(context.Background(), e.appSet(t, "pol")); err != nil {
			t.Fatal(err)
		}
		e.appGone(t, "pol-a")
		if configMap(t, dest, "cm-a") == nil {
			t.Fatal("deleting the set deleted the objects of pol-a despite preserveResourcesOnDeletion")
		}
	})
}

const clusterSet = `
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: NAME}
spec:
  generators:
  - clusters: SELECTOR
  template:
    metadata: {name: 'NAME-{{name}}'}
    spec:
      project: default
      source: {repoURL: REPO, targetRevision: main, path: app}
      destination: {server: '{{server}}', namespace: DESTNS}
      SYNC
`

func TestAppSetClustersGenerator(t *testing.T) {
	in, east, west := threeClusters(t)
	e := startTether(t)
	registerCluster(t, e, "east", east, "")
	registerCluster(t, e, "west", west, "")
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: where}\ndata: {v: one}\n"})
	ns := "as-" + e.ns
	for _, c := range []*testenv.Cluster{in, east, west} {
		cleanupNamespaces(t, c, ns)
	}
	mk := func(name, selector, sync string) string {
		return strings.NewReplacer("NAME", name, "SELECTOR", selector, "SYNC", sync, "REPO", repo.HTTPURL(), "DESTNS", ns).Replace(clusterSet)
	}

	t.Run("an empty selector picks every cluster, in-cluster included; each gets its copy", func(t *testing.T) {
		e.createAppSet(t, mk("all", "{}", "syncPolicy: {automated: {prune: true}, syncOptions: [CreateNamespace=true]}"))
		apps := e.waitSetApps(t, "all", 30*time.Second, "all-east", "all-in-cluster", "all-west")
		if got := apps["all-east"].Spec.Destination.Server; got != east.URL() {
			t.Errorf("all-east: destination server %s, want %s", got, east.URL())
		}
		for _, n := range []string{"all-in-cluster", "all-east", "all-west"} {
			e.waitApp(t, n, "synced and healthy", syncedHealthy(""))
		}
		for c, app := range map[*testenv.Cluster]string{in: "all-in-cluster", east: "all-east", west: "all-west"} {
			cm := clusterConfigMap(t, c, ns, "where")
			if cm == nil || !strings.HasSuffix(cm.Labels["tether.dev/app"], app) {
				t.Errorf("cluster %s: ConfigMap where = %v, want one of app %s", c.Name(), cm, app)
			}
		}
	})

	t.Run("a label selector picks the clusters whose Secret matches, as their labels change", func(t *testing.T) {
		e.createAppSet(t, mk("prod", "{selector: {matchLabels: {env: prod}}}", ""))
		e.waitAppSet(t, "prod", "up to date", setUpToDate)
		if apps := e.appsOf(t, "prod"); len(apps) != 0 {
			t.Fatalf("no cluster is labelled env=prod, yet the set made %v", sortedNames(apps))
		}
		label := func(cluster, value string) {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: clusters.SecretName(cluster)}}
			v := `null`
			if value != "" {
				v = `"` + value + `"`
			}
			if err := e.c.Patch(context.Background(), s, clientMergePatch(`{"metadata":{"labels":{"env":`+v+`}}}`)); err != nil {
				t.Fatal(err)
			}
		}
		label("east", "prod")
		e.waitSetApps(t, "prod", 10*time.Second, "prod-east")
		label("west", "prod")
		label("east", "")
		e.waitSetApps(t, "prod", 10*time.Second, "prod-west")
	})

	t.Run("removing a cluster deletes its Application without waiting for the unreachable objects", func(t *testing.T) {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: clusters.SecretName("west")}}
		if err := e.c.Delete(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		e.waitSetApps(t, "all", 20*time.Second, "all-east", "all-in-cluster")
		e.appGone(t, "all-west")
		e.waitSetApps(t, "prod", 10*time.Second)
		if clusterConfigMap(t, west, ns, "where") == nil {
			t.Error("the objects on the removed cluster were deleted; tether no longer knows that cluster")
		}
	})
}

const gitDirSet = `
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: dirs}
spec:
  generators:
  - git:
      repoURL: REPO
      revision: main
      directories: [{path: 'apps/*'}]
  template:
    metadata: {name: 'dir-{{path.basename}}'}
    spec:
      source: {repoURL: REPO, targetRevision: main, path: '{{path}}'}
      destination: {namespace: DESTNS}
`

const gitFileSet = `
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: files}
spec:
  goTemplate: true
  goTemplateOptions: [missingkey=error]
  generators:
  - git:
      repoURL: REPO
      revision: main
      files: [{path: 'config/*.json'}]
  template:
    metadata: {name: 'file-{{.name}}'}
    spec:
      source: {repoURL: REPO, targetRevision: main, path: 'apps/{{.app}}'}
      destination: {namespace: DESTNS}
`

func TestAppSetGitGenerators(t *testing.T) {
	const poll = 2 * time.Second
	e := startTether(t, func(o *controller.Options) { o.PollInterval = poll })
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"apps/a/cm.yaml":  cmYAML("cm-a", "a"),
		"apps/b/cm.yaml":  cmYAML("cm-b", "b"),
		"config/x.json":   `{"name": "x", "app": "a"}`,
		"config/skip.txt": "not matched",
	})
	r := strings.NewReplacer("REPO", repo.HTTPURL(), "DESTNS", dest)
	e.createAppSet(t, r.Replace(gitDirSet))
	e.createAppSet(t, r.Replace(gitFileSet))
	e.waitSetApps(t, "dirs", 30*time.Second, "dir-a", "dir-b")
	e.waitSetApps(t, "files", 30*time.Second, "file-x")

	// Within one poll (2 s and its jitter) plus the time to fetch.
	within := 3*poll + 2*time.Second
	t.Run("a commit adding a directory and a file adds their Applications within a poll", func(t *testing.T) {
		if _, err := repo.Commit("main", map[string]string{"apps/c/cm.yaml": cmYAML("cm-c", "c"), "config/y.json": `{"name": "y", "app": "b"}`}, nil, "add c and y"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		e.waitSetApps(t, "dirs", within, "dir-a", "dir-b", "dir-c")
		e.waitSetApps(t, "files", within, "file-x", "file-y")
		t.Logf("new Applications %v after the commit", time.Since(start).Round(10*time.Millisecond))
		if p := e.app(t, "file-y").Spec.Source.Path; p != "apps/b" {
			t.Errorf("file-y: path %s, want apps/b from config/y.json", p)
		}
	})

	t.Run("a commit removing them deletes their Applications within a poll", func(t *testing.T) {
		if _, err := repo.Commit("main", nil, []string{"apps/a/cm.yaml", "config/x.json"}, "remove a and x"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		e.waitSetApps(t, "dirs", within, "dir-b", "dir-c")
		e.waitSetApps(t, "files", within, "file-y")
		t.Logf("Applications deleted %v after the commit", time.Since(start).Round(10*time.Millisecond))
	})

	t.Run("with a long poll, the refresh annotation generates at once and is removed", func(t *testing.T) {
		e.stop()
		e.opts.PollInterval = time.Hour
		e.start(t)
		// Let the sets' first reconciles after the restart list the refs.
		time.Sleep(3 * time.Second)
		e.waitAppSet(t, "dirs", "up to date after the restart", setUpToDate)
		if _, err := repo.Commit("main", map[string]string{"apps/d/cm.yaml": cmYAML("cm-d", "d")}, nil, "add d"); err != nil {
			t.Fatal(err)
		}
		// Any reconcile now reads the cached ref listing: no dir-d.
		e.patchAppSet(t, "dirs", `{"metadata":{"annotations":{"touched":"1"}}}`)
		time.Sleep(2 * time.Second)
		if _, ok := e.appsOf(t, "dirs")["dir-d"]; ok {
			t.Fatal("dir-d appeared without a poll or refresh; the test proves nothing")
		}
		e.patchAppSet(t, "dirs", `{"metadata":{"annotations":{"`+controller.AppSetRefreshAnnotation+`":"true"}}}`)
		e.waitSetApps(t, "dirs", 10*time.Second, "dir-b", "dir-c", "dir-d")
		e.waitAppSet(t, "dirs", "the refresh annotation removed", func(s *v1alpha1.ApplicationSet) bool {
			_, ok := s.Annotations[controller.AppSetRefreshAnnotation]
			return !ok
		})
	})
}

const listSetYAML = `
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: NAME}
spec:
  goTemplate: true
  goTemplateOptions: [missingkey=error]
  generators:
  - list:
      elements: ELEMENTS
  template:
    metadata: {name: 'TEMPLATENAME'}
    spec:
      project: PROJECT
      source: {repoURL: REPO, targetRevision: main, path: apps/a}
      destination: {name: '{{dig "cluster" "in-cluster" .}}', namespace: '{{.ns}}'}
`

func TestAppSetBadInput(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"apps/a/cm.yaml": cmYAML("cm-a", "a")})
	mk := func(name, elements, templateName, project string) string {
		return strings.NewReplacer("NAME", name, "ELEMENTS", elements, "TEMPLATENAME", templateName, "PROJECT", project,
			"REPO", repo.HTTPURL(), "DESTNS", dest).Replace(listSetYAML)
	}
	noApps := func(t *testing.T, set string) {
		t.Helper()
		if apps := e.appsOf(t, set); len(apps) != 0 {
			t.Fatalf("set %s made %v although it failed", set, sortedNames(apps))
		}
	}

	t.Run("a missing parameter with missingkey=error creates nothing and names the parameter", func(t *testing.T) {
		e.createAppSet(t, mk("missing", `[{env: dev, team: x, ns: `+dest+`}, {env: prod, ns: `+dest+`}]`, "{{.env}}-{{.team}}", "default"))
		s := e.waitAppSet(t, "missing", "an error naming the parameter", setError(`parameter "team" is missing`))
		if !setCondition(v1alpha1.ApplicationSetConditionParametersGenerated, "False", "spec.generators[0].list.elements[1]")(s) {
			t.Errorf("ParametersGenerated should be False naming the element: %s", describeSet(s))
		}
		noApps(t, "missing")
		eventually(t, 10*time.Second, "a Warning Event about the set", func(ctx context.Context) (bool, error) {
			var l corev1.EventList
			if err := e.c.List(ctx, &l, client.InNamespace(e.ns)); err != nil {
				return false, err
			}
			for _, ev := range l.Items {
				if ev.InvolvedObject.Name == "missing" && ev.Type == corev1.EventTypeWarning && strings.Contains(ev.Message, `"team"`) {
					return true, nil
				}
			}
			return false, nil
		})
	})

	t.Run("a set that breaks leaves its Applications as they are", func(t *testing.T) {
		e.createAppSet(t, mk("keep", `[{env: dev, ns: `+dest+`}, {env: prod, ns: `+dest+`}]`, "keep-{{.env}}", "default"))
		before := e.waitSetApps(t, "keep", 30*time.Second, "keep-dev", "keep-prod")
		e.patchAppSet(t, "keep", `{"spec":{"template":{"metadata":{"name":"keep-{{.env}}-{{.nope}}"}}}}`)
		e.waitAppSet(t, "keep", "an error naming the parameter", setError(`parameter "nope" is missing`))
		e.patchAppSet(t, "keep", `{"spec":{"template":{"metadata":{"name":"keep"}}}}`)
		e.waitAppSet(t, "keep", "the duplicate refused naming both elements",
			setError("spec.generators[0].list.elements[0] and spec.generators[0].list.elements[1] both render Application "+e.ns+"/keep"))
		time.Sleep(time.Second)
		after := e.appsOf(t, "keep")
		for _, n := range []string{"keep-dev", "keep-prod"} {
			if a := after[n]; a == nil || a.UID != before[n].UID || a.Generation != before[n].Generation || a.DeletionTimestamp != nil {
				t.Errorf("%s was touched by the broken set", n)
			}
		}
		if _, ok := after["keep"]; ok {
			t.Error("the duplicate name was created")
		}
	})

	t.Run("an Application escaping its project is refused, and none of its set is created", func(t *testing.T) {
		e.createProject(t, "team-a", v1alpha1.AppProjectSpec{
			SourceRepos:  []string{"*"},
			Destinations: []v1alpha1.ApplicationDestination{{Name: "in-cluster", Namespace: dest}},
		})
		e.createAppSet(t, mk("proj", `[{env: ok, ns: `+dest+`}, {env: prod, ns: kube-system}]`, "api-{{.env}}", "team-a"))
		e.waitAppSet(t, "proj", "the destination refused", setError("application api-prod: destination in-cluster/kube-system is not permitted in project team-a"))
		noApps(t, "proj")
		// Allowing the destination in the project lets the set through at once.
		p := &v1alpha1.AppProject{}
		if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.ns, Name: "team-a"}, p); err != nil {
			t.Fatal(err)
		}
		p.Spec.Destinations = append(p.Spec.Destinations, v1alpha1.ApplicationDestination{Name: "in-cluster", Namespace: "kube-system"})
		if err := e.c.Update(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		e.waitSetApps(t, "proj", 10*time.Second, "api-ok", "api-prod")
	})

	t.Run("unknown clusters and foreign namespaces are refused", func(t *testing.T) {
		y := mk("lost", `[{env: a, ns: `+dest+`, cluster: nowhere}, {env: b, ns: `+dest+`}]`, "lost-{{.env}}", "default")
		y = strings.Replace(y, "metadata: {name: 'lost-{{.env}}'}", `metadata: {name: 'lost-{{.env}}', namespace: '{{if eq .env "b"}}elsewhere{{else}}`+e.ns+`{{end}}'}`, 1)
		e.createAppSet(t, y)
		s := e.waitAppSet(t, "lost", "both problems named", setError(`application lost-a: spec.destination.name: cluster "nowhere" is not registered`))
		if !setError("application lost-b: metadata.namespace elsewhere: generated Applications must be in the ApplicationSet's namespace " + e.ns)(s) {
			t.Errorf("the foreign namespace is not reported: %s", describeSet(s))
		}
		noApps(t, "lost")
	})

	t.Run("a files generator's config file over 4 MiB is refused, naming the file", func(t *testing.T) {
		big := newRepo(t, gitserver.Anonymous, map[string]string{
			"apps/a/cm.yaml":  cmYAML("cm-a", "a"),
			"config/ok.json":  `{"name": "ok", "app": "a"}`,
			"config/big.json": `{"name": "big", "app": "a", "pad": "` + strings.Repeat("x", 5<<20) + `"}`,
		})
		e.createAppSet(t, strings.NewReplacer("REPO", big.HTTPURL(), "DESTNS", dest).Replace(gitFileSet))
		e.waitAppSet(t, "files", "the large file refused", setError("spec.generators[0].git (file config/big.json at "))
		s := e.appSet(t, "files")
		if !setError("the file is larger than the 4194304-byte limit")(s) {
			t.Errorf("the limit is not named: %s", describeSet(s))
		}
		noApps(t, "files")
	})

	t.Run("an Application not owned by the set is not taken over", func(t *testing.T) {
		e.createApp(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: mine, labels: {by: hand}}
spec:
  source: {repoURL: REPO, targetRevision: main, path: apps/a}
  destination: {name: in-cluster, namespace: DESTNS}
`, repo.HTTPURL(), dest)
		e.createAppSet(t, mk("grab", `[{env: mine, ns: `+dest+`}, {env: other, ns: `+dest+`}]`, "{{.env}}", "default"))
		e.waitAppSet(t, "grab", "the existing Application refused", setError("application mine: an Application of that name already exists and belongs to no ApplicationSet"))
		noApps(t, "grab")
		a := e.app(t, "mine")
		if len(a.OwnerReferences) != 0 || a.Labels["by"] != "hand" {
			t.Fatalf("mine was taken over: owners %v labels %v", a.OwnerReferences, a.Labels)
		}
		// Once the person's Application is gone, the set creates its own.
		if err := e.c.Delete(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		e.waitSetApps(t, "grab", 20*time.Second, "mine", "other")
		e.waitAppSet(t, "grab", "up to date", setUpToDate)
	})

	t.Run("fields tether does not act on are named, and the set still generates", func(t *testing.T) {
		y := mk("strat", `[{env: s1, ns: `+dest+`}]`, "strat-{{.env}}", "default")
		y = strings.Replace(y, "  goTemplate: true\n", "  goTemplate: true\n  strategy: {type: RollingSync}\n  ignoreApplicationDifferences: [{jsonPointers: [/spec/source/targetRevision]}]\n", 1)
		e.createAppSet(t, y)
		e.waitSetApps(t, "strat", 20*time.Second, "strat-s1")
		s := e.waitAppSet(t, "strat", "the unsupported field named", setCondition(v1alpha1.ConditionUnsupportedField, "True", `unknown field "spec.strategy"`))
		if setCondition(v1alpha1.ConditionUnsupportedField, "True", `spec.ignoreApplicationDifferences`)(s) {
			t.Errorf("ignoreApplicationDifferences, which tether acts on, named as unsupported: %s", describeSet(s))
		}
	})
}
