package appset

import (
	"context"
	"io/fs"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/source"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// gitRepo starts a git server with one repository holding files on main
// and returns its URL and a Repos reading it through a source cache.
func gitRepo(t *testing.T, files map[string]string) (string, *gitserver.Repo, *SourceRepos) {
	t.Helper()
	srv, err := gitserver.Start(gitserver.Options{})
	if err != nil {
		t.Skipf("git server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	repo, err := srv.CreateRepo("config", gitserver.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Commit("main", files, nil, "initial"); err != nil {
		t.Fatal(err)
	}
	cache, err := source.NewCache(source.DefaultOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return repo.HTTPURL(), repo, &SourceRepos{Cache: cache}
}

var repoFiles = map[string]string{
	"apps/api/kustomization.yaml":                 "resources: []\n",
	"apps/web/deploy.yaml":                        "kind: ConfigMap\n",
	"apps/web/nested/deep/x.yaml":                 "kind: ConfigMap\n",
	"apps/exclude-me/x.yaml":                      "kind: ConfigMap\n",
	"apps/.hidden/x.yaml":                         "kind: ConfigMap\n",
	"apps/Web_Two/x.yaml":                         "kind: ConfigMap\n",
	"cluster-config/engineering/dev/config.json":  `{"aws_account": "123456", "replicas": 2, "cluster": {"name": "engineering-dev", "address": "https://1.2.3.4"}, "tags": ["a", "b"]}`,
	"cluster-config/engineering/prod/config.yaml": "cluster:\n  name: engineering-prod\n  address: https://2.4.6.8\nreplicas: 3\ntags: [c]\n",
	"cluster-config/engineering/prod/notes.txt":   "not a config\n",
	"lists/targets.yaml":                          "- {name: a, region: east}\n- {name: b, region: west}\n",
	"bad/config.json":                             `"just a string"`,
	"targets/api/east.json":                       `{"region": "east"}`,
	"targets/api/west.json":                       `{"region": "west"}`,
	"targets/web/west.json":                       `{"region": "west"}`,
}

func gitSet(t *testing.T, url, manifest string) *v1alpha1.ApplicationSet {
	t.Helper()
	return parseSet(t, strings.ReplaceAll(manifest, "REPO", url))
}

func TestGitDirectoriesFlat(t *testing.T) {
	url, _, repos := gitRepo(t, repoFiles)
	set := gitSet(t, url, `
metadata: {name: addons, namespace: argocd}
spec:
  generators:
  - git:
      repoURL: REPO
      revision: main
      directories:
      - path: apps/*
      - path: apps/exclude-me
        exclude: true
      values: {ns: 'ns-{{path.basenameNormalized}}'}
  template:
    metadata:
      name: '{{path.basenameNormalized}}'
      annotations: {path: '{{path}}', first: '{{path[0]}}', second: '{{path[1]}}', base: '{{path.basename}}'}
    spec:
      source: {repoURL: REPO, path: '{{path}}'}
      destination: {server: https://kubernetes.default.svc, namespace: '{{values.ns}}'}
`)
	apps := mustGenerate(t, set, Inputs{Repos: repos})
	wantNames(t, apps, "web-two", "api", "web")
	two := apps[0]
	want := map[string]string{"path": "apps/Web_Two", "first": "apps", "second": "Web_Two", "base": "Web_Two"}
	if !reflect.DeepEqual(two.Annotations, want) {
		t.Errorf("annotations %v, want %v", two.Annotations, want)
	}
	if two.Spec.Source.Path != "apps/Web_Two" || two.Spec.Destination.Namespace != "ns-web-two" {
		t.Errorf("source %+v destination %+v", two.Spec.Source, two.Spec.Destination)
	}
}

func TestGitDirectoriesGoTemplate(t *testing.T) {
	url, _, repos := gitRepo(t, repoFiles)
	set := gitSet(t, url, `
metadata: {name: addons, namespace: argocd}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
  - git:
      repoURL: REPO
      directories:
      - path: '/apps/**/deep'
      - path: 'apps/[ae]*'
  template:
    metadata:
      name: '{{.path.basename}}-{{len .path.segments}}'
      annotations: {last: '{{index .path.segments 1}}', path: '{{.path.path}}'}
    spec:
      destination: {server: https://kubernetes.default.svc}
`)
	apps := mustGenerate(t, set, Inputs{Repos: repos})
	wantNames(t, apps, "api-2", "exclude-me-2", "deep-4")
	if got := apps[2].Annotations["path"]; got != "apps/web/nested/deep" {
		t.Errorf("path %q", got)
	}
}

func TestGitFilesFlat(t *testing.T) {
	url, _, repos := gitRepo(t, repoFiles)
	set := gitSet(t, url, `
metadata: {name: guestbook, namespace: argocd}
spec:
  generators:
  - git:
      repoURL: REPO
      revision: HEAD
      files:
      - path: cluster-config/**/config.*
      - path: cluster-config/engineering/dev/config.json
  template:
    metadata:
      name: '{{cluster.name}}-guestbook'
      annotations:
        account: '{{aws_account}}'
        replicas: '{{replicas}}'
        tag: '{{tags.0}}'
        path: '{{path}}'
        base: '{{path.basename}}'
        file: '{{path.filename}}'
        seg: '{{path[2]}}'
    spec:
      destination: {server: '{{cluster.address}}', namespace: guestbook}
`)
	apps := mustGenerate(t, set, Inputs{Repos: repos})
	wantNames(t, apps, "engineering-dev-guestbook", "engineering-prod-guestbook")
	want := map[string]string{"account": "123456", "replicas": "2", "tag": "a", "path": "cluster-config/engineering/dev",
		"base": "dev", "file": "config.json", "seg": "dev"}
	if !reflect.DeepEqual(apps[0].Annotations, want) {
		t.Errorf("dev annotations %v, want %v", apps[0].Annotations, want)
	}
	if got := apps[1].Annotations["account"]; got != "{{aws_account}}" {
		t.Errorf("prod account %q: a key the file lacks stays a tag", got)
	}
	if apps[1].Spec.Destination.Server != "https://2.4.6.8" {
		t.Errorf("prod server %q", apps[1].Spec.Destination.Server)
	}
}

func TestGitFilesGoTemplateAndLists(t *testing.T) {
	url, _, repos := gitRepo(t, repoFiles)
	set := gitSet(t, url, `
metadata: {name: guestbook, namespace: argocd}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
  - git:
      repoURL: REPO
      files: [{path: 'cluster-config/*/*/config.json'}]
      values: {base: '{{index .path.segments 0}}-{{.path.basename}}'}
  - git:
      repoURL: REPO
      files: [{path: 'lists/*.yaml'}]
      pathParamPrefix: list
  template:
    metadata:
      name: '{{ if hasKey . "cluster" }}{{ .cluster.name }}-{{ .replicas }}-{{ index .tags 1 }}-{{ .values.base }}{{ else }}{{ .name }}-{{ .region }}-{{ .list.path.filenameNormalized }}{{ end }}'
    spec:
      destination: {server: https://kubernetes.default.svc}
`)
	apps := mustGenerate(t, set, Inputs{Repos: repos})
	wantNames(t, apps, "engineering-dev-2-b-cluster-config-dev", "a-east-targets.yaml", "b-west-targets.yaml")
}

func TestGitMatrixUsesFirstGenerator(t *testing.T) {
	url, _, repos := gitRepo(t, repoFiles)
	counted := &countingRepos{Repos: repos}
	set := gitSet(t, url, `
metadata: {name: targets, namespace: argocd}
spec:
  generators:
  - matrix:
      generators:
      - git:
          repoURL: REPO
          directories: [{path: 'apps/*'}, {path: 'apps/[eW]*', exclude: true}]
      - git:
          repoURL: REPO
          files: [{path: 'targets/{{path.basename}}/*.json'}]
          pathParamPrefix: target
  template:
    metadata: {name: '{{path.basename}}-{{region}}', annotations: {file: '{{target.path.filename}}', dir: '{{target.path}}'}}
    spec:
      source: {repoURL: REPO, path: '{{path}}'}
      destination: {server: https://kubernetes.default.svc, namespace: '{{region}}'}
`)
	apps := mustGenerate(t, set, Inputs{Repos: counted})
	wantNames(t, apps, "api-east", "api-west", "web-west")
	if got := apps[2].Annotations; got["file"] != "west.json" || got["dir"] != "targets/web" {
		t.Errorf("annotations %v", got)
	}
	if n := counted.opens.Load(); n != 1 {
		t.Errorf("the repository was opened %d times in one Generate, want once", n)
	}

	// Without pathParamPrefix both generators set path.
	set.Spec.Generators[0].Matrix.Generators[1].Git.PathParamPrefix = ""
	wantError(t, set, Inputs{Repos: repos}, "spec.generators[0].matrix", `parameter "path"`, "pathParamPrefix")
}

func TestGitRevisionAndErrors(t *testing.T) {
	url, repo, repos := gitRepo(t, repoFiles)
	if _, err := repo.Commit("other", map[string]string{"apps/only-on-other/x.yaml": "a: b\n"}, []string{"apps/api/kustomization.yaml"}, "branch"); err != nil {
		t.Fatal(err)
	}
	set := gitSet(t, url, `
metadata: {name: s, namespace: argocd}
spec:
  generators:
  - git:
      repoURL: REPO
      revision: other
      directories: [{path: 'apps/*'}]
  template:
    metadata: {name: '{{path.basenameNormalized}}'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	apps := mustGenerate(t, set, Inputs{Repos: repos})
	wantNames(t, apps, "web-two", "exclude-me", "only-on-other", "web")

	set.Spec.Generators[0].Git.Revision = "no-such-branch"
	wantError(t, set, Inputs{Repos: repos}, "spec.generators[0].git", "no-such-branch")

	set.Spec.Generators[0].Git.Revision = ""
	wantError(t, set, Inputs{}, "spec.generators[0].git", "no Git access")

	set.Spec.Generators[0].Git.Directories = []v1alpha1.GitDirectoryGeneratorItem{{Path: "apps/[a"}}
	wantError(t, set, Inputs{Repos: repos}, "spec.generators[0].git.directories[0].path")

	set.Spec.Generators[0].Git.Directories = nil
	set.Spec.Generators[0].Git.Files = []v1alpha1.GitFileGeneratorItem{{Path: "bad/*.json"}}
	wantError(t, set, Inputs{Repos: repos}, "spec.generators[0].git (file bad/config.json", "a string")

	big := `{"pad": "` + strings.Repeat("x", maxParamsFileBytes) + `"}`
	if _, err := repo.Commit("main", map[string]string{"big/config.json": big}, nil, "a large file"); err != nil {
		t.Fatal(err)
	}
	set.Spec.Generators[0].Git.Files = []v1alpha1.GitFileGeneratorItem{{Path: "big/*.json"}}
	watched := &openWatchingRepos{Repos: repos, name: "big/config.json"}
	wantError(t, set, Inputs{Repos: watched}, "spec.generators[0].git (file big/config.json", "larger than the 4194304-byte limit")
	if watched.opened.Load() {
		t.Error("the file over the limit was opened; it must be refused from its size alone")
	}

	set.Spec.Generators[0].Git.Files = []v1alpha1.GitFileGeneratorItem{{Path: "nothing/*.json"}}
	if apps := mustGenerate(t, set, Inputs{Repos: repos}); len(apps) != 0 {
		t.Errorf("no matching file: %d Applications, want none", len(apps))
	}
}

// openWatchingRepos notes whether the file name is ever opened.
type openWatchingRepos struct {
	Repos
	name   string
	opened atomic.Bool
}

func (o *openWatchingRepos) Open(ctx context.Context, repoURL, revision string) (fs.FS, string, error) {
	fsys, commit, err := o.Repos.Open(ctx, repoURL, revision)
	return &openWatchingFS{fsys.(fs.StatFS), o}, commit, err
}

type openWatchingFS struct {
	fs.StatFS
	o *openWatchingRepos
}

func (f *openWatchingFS) Open(name string) (fs.File, error) {
	if name == f.o.name {
		f.o.opened.Store(true)
	}
	return f.StatFS.Open(name)
}

type countingRepos struct {
	Repos
	opens atomic.Int64
}

func (c *countingRepos) Open(ctx context.Context, repoURL, revision string) (fs.FS, string, error) {
	c.opens.Add(1)
	return c.Repos.Open(ctx, repoURL, revision)
}

func TestMatchGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"apps/*", "apps/a", true},
		{"apps/*", "apps/a/b", false},
		{"*", "apps", true},
		{"apps/**", "apps/a/b", true},
		{"apps/**", "apps", true},
		{"**/config.json", "config.json", true},
		{"**/config.json", "a/b/config.json", true},
		{"a/**/b/*.json", "a/x/y/b/c.json", true},
		{"a/**/b/*.json", "a/b/c.json", true},
		{"a/**/b/*.json", "a/b/c/d.json", false},
		{"apps/[ab]", "apps/b", true},
		{"apps/?", "apps/bb", false},
	} {
		got, err := matchGlob(c.pattern, c.name)
		if err != nil || got != c.want {
			t.Errorf("matchGlob(%q, %q) = %v, %v; want %v", c.pattern, c.name, got, err, c.want)
		}
	}
	if _, err := matchGlob("apps/[", "x"); err == nil {
		t.Errorf("a malformed pattern must fail")
	}
}
