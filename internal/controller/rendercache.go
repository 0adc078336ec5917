package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/render"
	"github.com/tether-gitops/tether/internal/source"
)

// renderCache keeps the last render of each app. It is reused when the
// source spec is the same and either the commit is the same or every input
// of the render (the directories and files it read, see render.Result.Inputs)
// has the same content at the new commit: a commit that does not touch the
// app does not render it again. Entries are replaced per app, so memory
// stays bounded by the number of apps.
type renderCache struct {
	mu      sync.Mutex
	entries map[string]renderEntry // by app key
	renders int64
}

type renderEntry struct {
	spec    string // source spec, app name and namespace
	commit  string
	inputs  []string
	content string // ContentHash of inputs at commit
	typ     string
	objects []*unstructured.Unstructured
	err     error
}

// contentHasher is the part of the source cache the render cache needs.
type contentHasher interface {
	ContentHash(ctx context.Context, url, commit string, paths []string) (string, error)
}

// noContentHashes is the hasher of snapshots without a Git tree (a chart
// from a Helm repository): a new version is always rendered again.
type noContentHashes struct{}

func (noContentHashes) ContentHash(context.Context, string, string, []string) (string, error) {
	return "", errors.New("no content hashes outside Git")
}

func newRenderCache() *renderCache { return &renderCache{entries: map[string]renderEntry{}} }

// specKey identifies what a render depends on besides the repository content.
// extra is anything else the render depends on (the commits of the refs a
// source of several reads value files from).
func specKey(src v1alpha1.ApplicationSource, appName, namespace, extra string) string {
	src.TargetRevision = "" // the commit is compared separately
	b, _ := json.Marshal(struct {
		Src   v1alpha1.ApplicationSource
		App   string
		NS    string
		Extra string `json:",omitempty"`
	}{src, appName, namespace, extra})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// render returns deep copies of the cached objects, rendering on a miss.
// refs are the repositories of the app's ref sources (see render.Request).
func (c *renderCache) render(ctx context.Context, hasher contentHasher, appKey string, snap *source.Snapshot, src v1alpha1.ApplicationSource, appName, namespace string, refs map[string]fs.FS, extra string) (string, []*unstructured.Unstructured, error) {
	spec := specKey(src, appName, namespace, extra)
	c.mu.Lock()
	e, ok := c.entries[appKey]
	c.mu.Unlock()
	hit := ok && e.spec == spec && e.commit == snap.Commit
	if ok && !hit && e.spec == spec && e.err == nil && len(e.inputs) > 0 {
		if content, err := hasher.ContentHash(ctx, snap.RepoURL, snap.Commit, e.inputs); err == nil && content == e.content {
			hit = true
			e.commit = snap.Commit
			c.mu.Lock()
			c.entries[appKey] = e
			c.mu.Unlock()
		}
	}
	if !hit {
		res, err := render.Render(ctx, render.Request{FS: snap.FS, Source: src, AppName: appName, Namespace: namespace, Refs: refs}, render.DefaultOptions())
		e = renderEntry{spec: spec, commit: snap.Commit, err: err}
		if res != nil {
			e.typ, e.objects, e.inputs = res.Type, res.Objects, res.Inputs
			if content, herr := hasher.ContentHash(ctx, snap.RepoURL, snap.Commit, res.Inputs); herr == nil {
				e.content = content
			} else {
				e.inputs = nil // unknown inputs: render again on the next commit
			}
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

// forget drops the app's entries: its one source's, or each of its
// several sources' ("<appKey>#<position>").
func (c *renderCache) forget(appKey string) {
	c.mu.Lock()
	delete(c.entries, appKey)
	for k := range c.entries {
		if strings.HasPrefix(k, appKey+"#") {
			delete(c.entries, k)
		}
	}
	c.mu.Unlock()
}
