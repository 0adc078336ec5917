package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/render"
	"github.com/tether-gitops/tether/internal/source"
)

// renderCache keeps the last render of each (commit, source spec, app,
// namespace): a reconcile that sees no new commit and no spec change does
// not render again. Entries are replaced per app, so memory stays bounded
// by the number of apps.
type renderCache struct {
	mu      sync.Mutex
	entries map[string]renderEntry // by app key
	renders int64
}

type renderEntry struct {
	key     string
	typ     string
	objects []*unstructured.Unstructured
	err     error
}

func newRenderCache() *renderCache { return &renderCache{entries: map[string]renderEntry{}} }

// renderKey identifies what a render depends on. Only the path inside the
// snapshot matters, but the commit is part of the key because the snapshot
// changes with it.
func renderKey(snap *source.Snapshot, src v1alpha1.ApplicationSource, appName, namespace string) string {
	b, _ := json.Marshal(struct {
		Commit string
		Src    v1alpha1.ApplicationSource
		App    string
		NS     string
	}{snap.Commit, src, appName, namespace})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// render returns deep copies of the cached objects, rendering on a miss.
func (c *renderCache) render(ctx context.Context, appKey string, snap *source.Snapshot, src v1alpha1.ApplicationSource, appName, namespace string) (string, []*unstructured.Unstructured, error) {
	key := renderKey(snap, src, appName, namespace)
	c.mu.Lock()
	e, ok := c.entries[appKey]
	c.mu.Unlock()
	if !ok || e.key != key {
		res, err := render.Render(ctx, render.Request{Root: snap.Dir, Source: src, AppName: appName, Namespace: namespace}, render.DefaultOptions())
		e = renderEntry{key: key, err: err}
		if res != nil {
			e.typ, e.objects = res.Type, res.Objects
		}
		c.mu.Lock()
		c.entries[appKey] = e
		c.renders++
		c.mu.Unlock()
	}
	if e.err != nil {
		return "", nil, e.err
	}
	out := make([]*unstructured.Unstructured, len(e.objects))
	for i, o := range e.objects {
		out[i] = o.DeepCopy()
	}
	return e.typ, out, nil
}

func (c *renderCache) forget(appKey string) {
	c.mu.Lock()
	delete(c.entries, appKey)
	c.mu.Unlock()
}
