package controller

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/source"
)

// sourceRun is one source of a comparison: the source as compared (its
// targetRevision may be an operation's), the snapshot it resolved to and
// how it rendered ("" for a source that only lends its files).
type sourceRun struct {
	source     v1alpha1.ApplicationSource
	snapshot   *source.Snapshot
	sourceType string
}

// comparedSources returns the sources a comparison reads: the app's
// source or sources, replaced or re-pinned by a sync operation's Source,
// Sources, Revision or Revisions.
func comparedSources(app *v1alpha1.Application, op *v1alpha1.Operation) ([]v1alpha1.ApplicationSource, error) {
	if !app.Spec.HasMultipleSources() {
		src := *app.Spec.Source
		if op != nil && op.Sync != nil {
			if op.Sync.Source != nil {
				src = *op.Sync.Source
			}
			if op.Sync.Revision != "" {
				src.TargetRevision = op.Sync.Revision
			}
			if len(op.Sync.Revisions) > 0 || len(op.Sync.Sources) > 0 {
				return nil, fmt.Errorf("operation.sync.revisions and operation.sync.sources are for an app with several sources; this app has spec.source (use operation.sync.revision)")
			}
		}
		return []v1alpha1.ApplicationSource{src}, nil
	}
	srcs := append([]v1alpha1.ApplicationSource(nil), app.Spec.Sources...)
	if op == nil || op.Sync == nil {
		return srcs, nil
	}
	if len(op.Sync.Sources) > 0 {
		srcs = append([]v1alpha1.ApplicationSource(nil), op.Sync.Sources...)
	}
	if op.Sync.Revision != "" || op.Sync.Source != nil {
		return nil, fmt.Errorf("operation.sync.revision: the app has several sources; name each source's revision by position in operation.sync.revisions (tether app sync --revision REV --source-position N)")
	}
	if len(op.Sync.Revisions) > len(srcs) {
		return nil, fmt.Errorf("operation.sync.revisions: %d revisions for %d sources", len(op.Sync.Revisions), len(srcs))
	}
	for i, rev := range op.Sync.Revisions {
		if rev != "" {
			srcs[i].TargetRevision = rev
		}
	}
	return srcs, nil
}

// fetchSources resolves and reads every source of the comparison, then
// renders each one that is not only a ref, and puts the objects together
// (prepare keeps an object several sources render from the last of them,
// with a warning, as Argo CD does).
func (r *Reconciler) fetchSources(ctx context.Context, c *comparison, key types.NamespacedName, app *v1alpha1.Application, srcs []v1alpha1.ApplicationSource, maxAge time.Duration) error {
	c.runs = make([]sourceRun, len(srcs))
	for i, src := range srcs {
		c.runs[i].source = src
		creds, err := r.credentials(ctx, src.RepoURL)
		if err != nil {
			return c.sourceErr(i, fmt.Errorf("repository %s: read credentials: %w", source.RedactURL(src.RepoURL), err))
		}
		snap, err := r.snapshotOf(ctx, src, creds, maxAge)
		if err != nil {
			return c.sourceErr(i, err)
		}
		if err := r.verifySignature(ctx, c.project, snap); err != nil {
			return c.sourceErr(i, err)
		}
		c.runs[i] = sourceRun{source: src, snapshot: snap}
	}
	refs, refCommits := map[string]fs.FS{}, []string{}
	for _, run := range c.runs {
		if run.source.Ref != "" {
			refs[run.source.Ref] = run.snapshot.FS
			refCommits = append(refCommits, run.source.Ref+"="+run.snapshot.Commit)
		}
	}
	sort.Strings(refCommits)
	for i := range c.runs {
		run := &c.runs[i]
		if c.multi && run.source.RefOnly() {
			continue
		}
		cacheKey, extra := key.String(), ""
		if c.multi {
			cacheKey += "#" + strconv.Itoa(i)
			if usesRefs(run.source) {
				// The value files of other sources are not inputs of this
				// repository: a new commit of any ref renders again.
				extra = strings.Join(refCommits, ",")
			}
		}
		typ, objs, err := r.renderSource(ctx, cacheKey, run.snapshot, run.source, app, refs, extra)
		if err != nil {
			return c.sourceErr(i, err)
		}
		run.sourceType = typ
		if !c.multi {
			c.desired = objs
			continue
		}
		for _, o := range objs {
			c.desired = append(c.desired, o)
			c.origins = append(c.origins, i)
		}
	}
	if c.multi {
		if c.origins == nil {
			c.origins = []int{} // several sources, none rendering objects
		}
		return nil
	}
	c.source, c.snapshot, c.sourceType = c.runs[0].source, c.runs[0].snapshot, c.runs[0].sourceType
	return nil
}

// usesRefs reports whether a source reads value files of other sources.
func usesRefs(src v1alpha1.ApplicationSource) bool {
	if src.Helm == nil {
		return false
	}
	for _, vf := range src.Helm.ValueFiles {
		if strings.HasPrefix(vf, "$") {
			return true
		}
	}
	return false
}

// sourceErr names the source an error is about when the app has several.
func (c *comparison) sourceErr(i int, err error) error {
	if !c.multi {
		return err
	}
	return fmt.Errorf("source %d of %d (spec.sources[%d], %s): %w", i+1, len(c.runs), i, source.RedactURL(c.runs[i].source.RepoURL), err)
}

// snapshotOf resolves a source's revision (a Git revision, or a chart
// version from a Helm repository) and reads it.
func (r *Reconciler) snapshotOf(ctx context.Context, src v1alpha1.ApplicationSource, creds *source.Credentials, maxAge time.Duration) (*source.Snapshot, error) {
	if src.Chart != "" {
		if src.Helm != nil && src.Helm.PassCredentials {
			pass := *creds
			pass.PassToOtherHosts = true
			creds = &pass
		}
		version, err := r.charts.ResolveChart(ctx, src.RepoURL, src.Chart, src.TargetRevision, creds, maxAge)
		if err != nil {
			return nil, err
		}
		return r.charts.ChartSnapshot(ctx, src.RepoURL, src.Chart, version, creds)
	}
	commit, err := r.sources.Resolve(ctx, src.RepoURL, src.TargetRevision, creds, maxAge)
	if err != nil {
		return nil, err
	}
	return r.sources.Snapshot(ctx, src.RepoURL, commit, creds)
}

// renderSource renders one source from its snapshot, through the render
// cache entry cacheKey.
func (r *Reconciler) renderSource(ctx context.Context, cacheKey string, snap *source.Snapshot, src v1alpha1.ApplicationSource, app *v1alpha1.Application, refs map[string]fs.FS, extra string) (string, []*unstructured.Unstructured, error) {
	if src.Chart != "" {
		src.Path = "" // the chart's files are the snapshot's root
		typ, objs, err := r.renders.render(ctx, noContentHashes{}, cacheKey, snap, src, app.Name, app.Spec.Destination.Namespace, refs, extra)
		if err != nil {
			return "", nil, fmt.Errorf("render chart %s %s: %w", src.Chart, snap.Commit, err)
		}
		return typ, objs, nil
	}
	typ, objs, err := r.renders.render(ctx, r.sources, cacheKey, snap, src, app.Name, app.Spec.Destination.Namespace, refs, extra)
	if err != nil {
		return "", nil, fmt.Errorf("render %s at %s: %w", pathOrRoot(src.Path), short(snap.Commit), err)
	}
	return typ, objs, nil
}

// revisionKey identifies what the comparison compared: the commit (or
// chart version), or the revisions of all sources joined by commas.
func (c *comparison) revisionKey() string {
	if !c.multi {
		return c.snapshot.Commit
	}
	return strings.Join(c.revisions(), ",")
}

// revisions are the commits (or chart versions) of an app's several
// sources, by position.
func (c *comparison) revisions() []string {
	out := make([]string, len(c.runs))
	for i, run := range c.runs {
		out[i] = run.snapshot.Commit
	}
	return out
}

func (c *comparison) sources() []v1alpha1.ApplicationSource {
	out := make([]v1alpha1.ApplicationSource, len(c.runs))
	for i, run := range c.runs {
		out[i] = run.source
	}
	return out
}

// syncRevision is what an automated sync of the comparison asks for.
func (c *comparison) syncRevision(op *v1alpha1.SyncOperation) {
	if c.multi {
		op.Revisions = c.revisions()
		return
	}
	op.Revision = c.snapshot.Commit
}

// syncResult is the result of a sync of the comparison.
func (c *comparison) syncResult(resources []v1alpha1.ResourceResult) *v1alpha1.SyncOperationResult {
	if c.multi {
		return &v1alpha1.SyncOperationResult{Resources: resources, Revisions: c.revisions(), Sources: c.sources()}
	}
	return &v1alpha1.SyncOperationResult{Resources: resources, Revision: c.snapshot.Commit, Source: c.source}
}

// deployment is the history entry of a sync of the comparison; the author
// and message are those of the newest commit among the sources.
func (c *comparison) deployment() v1alpha1.RevisionHistory {
	if !c.multi {
		return v1alpha1.RevisionHistory{Revision: c.snapshot.Commit, Source: c.source, Author: c.snapshot.Author, Message: c.snapshot.Subject()}
	}
	h := v1alpha1.RevisionHistory{Revisions: c.revisions(), Sources: c.sources()}
	if s := c.newest(); s != nil {
		h.Author, h.Message = s.Author, s.Subject()
	}
	return h
}

// newest is the snapshot of the most recent commit among the sources.
func (c *comparison) newest() *source.Snapshot {
	var best *source.Snapshot
	for _, run := range c.runs {
		if run.snapshot.Author == "" {
			continue // a chart version has no commit
		}
		if best == nil || run.snapshot.Time.After(best.Time) {
			best = run.snapshot
		}
	}
	return best
}

// describe names what was compared, for events and logs.
func (c *comparison) describe() string {
	if !c.multi {
		return c.snapshot.Describe()
	}
	var parts []string
	for _, run := range c.runs {
		if d := run.snapshot.Describe(); !slices.Contains(parts, d) {
			parts = append(parts, d) // sources of one repository share a commit
		}
	}
	return strings.Join(parts, " + ")
}

// revisionKeyOf identifies the revisions a sync result records.
func revisionKeyOf(rev string, revs []string) string {
	if len(revs) > 0 {
		return strings.Join(revs, ",")
	}
	return rev
}
