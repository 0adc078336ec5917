package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// TestAppGetRefresh: with a poll interval of an hour, `tether app get
// --refresh` (and --hard-refresh) has the controller compare a manual app
// with the new commit at once, and prints the status of that comparison.
func TestAppGetRefresh(t *testing.T) {
	e := startTether(t, func(o *controller.Options) { o.PollInterval = time.Hour })
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("refreshed", "v1")})
	manual := strings.Replace(named("refreshed"), "  syncPolicy: {automated: {prune: true}}\n", "", 1)
	e.createApp(t, manual, repo.HTTPURL(), dest)
	first, err := repo.Head("main")
	if err != nil {
		t.Fatal(err)
	}
	e.waitApp(t, "refreshed", "compared at the first commit", func(a *v1alpha1.Application) bool {
		return a.Status.Sync.Revision == first && a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync
	})

	for _, c := range []struct{ flag, value string }{{"--refresh", "v2"}, {"--hard-refresh", "v3"}} {
		commit, err := repo.Commit("main", map[string]string{"app/cm.yaml": cmYAML("refreshed", c.value)}, nil, c.value)
		if err != nil {
			t.Fatal(err)
		}
		out, err := runCLI(t, "app", "get", "refreshed", "-n", e.ns, c.flag, "-o", "json")
		if err != nil {
			t.Fatalf("app get %s: %v\n%s", c.flag, err, out)
		}
		var a v1alpha1.Application
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatalf("app get %s -o json: %v\n%s", c.flag, err, out)
		}
		if a.Status.Sync.Revision != commit {
			t.Errorf("app get %s printed revision %s, want the new commit %s", c.flag, a.Status.Sync.Revision, commit)
		}
		if _, pending := a.Annotations[v1alpha1.RefreshAnnotation]; pending {
			t.Errorf("app get %s printed the app with the refresh still pending", c.flag)
		}
	}

	if out, err := runCLI(t, "app", "get", "refreshed", "-n", e.ns, "--refresh", "--hard-refresh"); err == nil || !strings.Contains(err.Error(), "--refresh and --hard-refresh") {
		t.Errorf("both flags: %v\n%s", err, out)
	}
}

// Without a controller watching its namespace the refresh is never done:
// app get --refresh gives up after --timeout and says why.
func TestAppGetRefreshWithoutController(t *testing.T) {
	e := startTether(t)
	e.stop() // nothing watches its namespace any more
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("orphan", "v1")})
	e.createApp(t, named("orphan"), repo.HTTPURL(), destNamespace(t))
	out, err := runCLI(t, "app", "get", "orphan", "-n", e.ns, "--refresh", "--timeout", "2s")
	if err == nil || !strings.Contains(err.Error(), "the refresh was not done within 2s") || !strings.Contains(err.Error(), "tether controller") {
		t.Fatalf("app get --refresh without a controller: %v\n%s", err, out)
	}
}

// TestAppListFilters: app list narrows by label selector (on the server),
// project and repository (in any address form).
func TestAppListFilters(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	one := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("one", "v1")})
	two := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("two", "v1")})
	labelled := func(name, team string) string {
		return strings.Replace(named(name), "metadata: {name: "+name+"}", "metadata: {name: "+name+", labels: {team: "+team+"}}", 1)
	}
	e.createApp(t, labelled("list-a", "red"), one.HTTPURL(), dest)
	e.createApp(t, labelled("list-b", "blue"), two.HTTPURL(), dest)
	e.createApp(t, labelled("list-c", "red"), two.HTTPURL(), dest)
	names := func(args ...string) string {
		t.Helper()
		out, err := runCLI(t, append([]string{"app", "list", "-n", e.ns, "-o", "json"}, args...)...)
		if err != nil {
			t.Fatalf("app list %v: %v\n%s", args, err, out)
		}
		var apps []v1alpha1.Application
		if err := json.Unmarshal([]byte(out), &apps); err != nil {
			t.Fatalf("app list %v -o json: %v\n%s", args, err, out)
		}
		var got []string
		for _, a := range apps {
			got = append(got, a.Name)
		}
		return strings.Join(got, ",")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "list-a,list-b,list-c"},
		{[]string{"-l", "team=red"}, "list-a,list-c"},
		{[]string{"--selector", "team!=red"}, "list-b"},
		{[]string{"-r", strings.TrimSuffix(two.HTTPURL(), ".git") + "/"}, "list-b,list-c"},
		{[]string{"-r", one.HTTPURL(), "-l", "team=red"}, "list-a"},
		{[]string{"-p", "default"}, "list-a,list-b,list-c"},
		{[]string{"-p", "other,another"}, ""},
	} {
		if got := names(c.args...); got != c.want {
			t.Errorf("app list %v: %q, want %q", c.args, got, c.want)
		}
	}
	if out, err := runCLI(t, "app", "list", "-n", e.ns, "-l", "team in (red"); err == nil || !strings.Contains(err.Error(), "--selector") {
		t.Errorf("a bad selector: %v\n%s", err, out)
	}
}
