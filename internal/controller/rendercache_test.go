package controller

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/source"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

func TestACommitThatDoesNotTouchTheAppDoesNotRenderAgain(t *testing.T) {
	srv, err := gitserver.Start(gitserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	repo, err := srv.CreateRepo("cache", gitserver.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	overlay := "resources: [../base]\nnamePrefix: prod-\n"
	base := "resources: [cm.yaml]\n"
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {v: \"1\"}\n"
	if _, err := repo.Commit("main", map[string]string{
		"apps/api/prod/kustomization.yaml": overlay, "apps/api/base/kustomization.yaml": base,
		"apps/api/base/cm.yaml": cm, "apps/web/cm.yaml": cm,
	}, nil, "one"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sources, err := source.NewCache(source.DefaultOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	rc := newRenderCache()
	src := v1alpha1.ApplicationSource{RepoURL: repo.HTTPURL(), Path: "apps/api/prod", TargetRevision: "main"}
	renderAt := func() string {
		t.Helper()
		commit, err := sources.Resolve(ctx, repo.HTTPURL(), "main", nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		snap, err := sources.Snapshot(ctx, repo.HTTPURL(), commit, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, objs, err := rc.render(ctx, sources, "argocd/api", snap, src, "api", "prod", nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 1 || objs[0].GetName() != "prod-c" {
			t.Fatalf("rendered %v", objs)
		}
		v, _, _ := unstructured.NestedString(objs[0].Object, "data", "v")
		return v
	}
	renders := func() int64 { rc.mu.Lock(); defer rc.mu.Unlock(); return rc.renders }

	renderAt()
	if renders() != 1 {
		t.Fatalf("renders = %d", renders())
	}
	if _, err := repo.Commit("main", map[string]string{"apps/web/cm.yaml": cm + "# touched\n"}, nil, "web only"); err != nil {
		t.Fatal(err)
	}
	renderAt()
	if renders() != 1 {
		t.Fatalf("a commit outside the app's inputs rendered again (%d renders)", renders())
	}
	if _, err := repo.Commit("main", map[string]string{"apps/api/base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {v: \"2\"}\n"}, nil, "base change"); err != nil {
		t.Fatal(err)
	}
	if v := renderAt(); v != "2" || renders() != 2 {
		t.Fatalf("a change in the overlay's base was not rendered: v=%s renders=%d", v, renders())
	}
}
