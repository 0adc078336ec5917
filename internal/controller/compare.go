package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/cluster"
	"github.com/tether-gitops/tether/internal/health"
	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/plan"
	"github.com/tether-gitops/tether/internal/project"
	"github.com/tether-gitops/tether/internal/record"
	"github.com/tether-gitops/tether/internal/source"
)

// comparison is one run of source -> render -> plan for an app.
type comparison struct {
	// source, snapshot and sourceType are those of an app with one source;
	// runs holds every source (the one, or the app's several).
	source     v1alpha1.ApplicationSource
	multi      bool
	runs       []sourceRun
	origins    []int    // the source of each desired object, with several
	repeated   []string // objects rendered by several sources
	target     *target
	project    *project.Project
	snapshot   *source.Snapshot
	sourceType string
	desired    []*unstructured.Unstructured
	live       map[inventory.Key]*unstructured.Unstructured
	plan       *plan.Plan
	planErr    error
	options    plan.SyncOptions
	specHash   string
}

func (c *comparison) healthOf(k inventory.Key) *health.Status {
	h := health.Compute(c.live[k])
	return &h
}

// compare resolves the app's revision (or the operation's), renders it and
// plans against the live objects. A plan error (an invalid annotation, say)
// is returned with the comparison, which then holds the valid part.
func (r *Reconciler) compare(ctx context.Context, app *v1alpha1.Application, op *v1alpha1.Operation, refresh bool) (*comparison, error) {
	key := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}
	c := &comparison{multi: app.Spec.HasMultipleSources()}
	prune := app.Spec.SyncPolicy != nil && app.Spec.SyncPolicy.Automated.IsEnabled() && app.Spec.SyncPolicy.Automated.Prune
	if op != nil && op.Sync != nil {
		prune = op.Sync.Prune
	}
	srcs, err := comparedSources(app, op)
	if err != nil {
		return nil, err
	}
	proj, err := r.loadProject(ctx, app)
	if err != nil {
		return nil, err
	}
	c.project = proj
	for i, src := range srcs {
		if err := proj.PermitSource(src.RepoURL); err != nil {
			c.runs = make([]sourceRun, len(srcs))
			c.runs[i].source = src
			return nil, c.sourceErr(i, err)
		}
	}
	t, err := r.resolve(ctx, app.Spec.Destination)
	if err != nil {
		return nil, err
	}
	if err := proj.PermitDestination(t.info().Server, t.info().Name, app.Spec.Destination.Namespace); err != nil {
		return nil, err
	}
	if err := t.reachable(ctx); err != nil {
		return nil, err
	}
	c.target = t
	maxAge := r.opts.PollInterval
	if refresh {
		maxAge = 0
	}
	if err := r.fetchSources(ctx, c, key, app, srcs, maxAge); err != nil {
		return nil, err
	}
	var optList []string
	if app.Spec.SyncPolicy != nil {
		optList = app.Spec.SyncPolicy.SyncOptions
	}
	if op != nil && op.Sync != nil {
		optList = append(append([]string(nil), optList...), op.Sync.SyncOptions...)
	}
	if c.options, err = plan.ParseSyncOptions(optList...); err != nil {
		return nil, fmt.Errorf("spec.syncPolicy.syncOptions: %w", err)
	}
	rules, err := plan.CompileIgnoreRules(app.Spec.IgnoreDifferences)
	if err != nil {
		return nil, fmt.Errorf("spec.%w", err)
	}
	if c.desired, c.repeated, err = r.prepare(t, proj, key, app.Spec.Destination.Namespace, c.desired, c.origins); err != nil {
		return nil, err
	}
	inv := record.Inventory(app.Status.Resources)
	c.live, err = r.liveObjects(ctx, t, key, c.desired, inv)
	if err != nil {
		t.markDown(err)
		return nil, err
	}
	if c.options.Bool("RespectIgnoreDifferences") {
		for _, d := range c.desired {
			if err := plan.RespectIgnored(d, c.live[inventory.KeyOf(d)], rules); err != nil {
				return nil, fmt.Errorf("%s: RespectIgnoreDifferences: %w", inventory.KeyOf(d), err)
			}
		}
	}
	predicted := r.predict(ctx, t, key, c.desired, c.live)
	c.plan, c.planErr = plan.Make(plan.Input{
		App: key, Desired: c.desired, Live: c.live, Predicted: predicted,
		Inventory: inv, Ignore: rules, Options: c.options, Prune: prune, NoDiff: !r.diffs,
	})
	c.specHash = hashOf(app.Spec)
	return c, c.planErr
}

// prepare sets the destination namespace on namespaced objects that have
// none, clears it on cluster-scoped ones, and marks every object as the app's.
// origins, for an app with several sources, is the source (by position) of
// each object: an object several sources render is kept from the last of
// them, and the rest are returned as warnings. Otherwise an object rendered
// twice is an error.
func (r *Reconciler) prepare(t *target, proj *project.Project, app types.NamespacedName, namespace string, objs []*unstructured.Unstructured, origins []int) ([]*unstructured.Unstructured, []string, error) {
	crdScopes := map[string]bool{} // group/kind -> namespaced, from CRDs in the same app
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			g, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			k, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			s, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
			crdScopes[g+"/"+k] = s != "Cluster"
		}
	}
	namespaced := make([]bool, len(objs))
	for i, o := range objs {
		gvk := o.GroupVersionKind()
		namespaced[i] = true
		m, err := t.client.Map(gvk)
		if err == nil {
			namespaced[i] = m.Namespaced
		} else if s, ok := crdScopes[gvk.Group+"/"+gvk.Kind]; ok {
			namespaced[i] = s
		} else if meta.IsNoMatchError(err) {
			return nil, nil, fmt.Errorf("%s/%s: kind %s is not served by cluster %s and no CustomResourceDefinition in the app defines it", gvk.Kind, o.GetName(), gvk.GroupVersion().String()+"/"+gvk.Kind, t.info().Name)
		} else {
			t.markDown(err)
			return nil, nil, fmt.Errorf("%s/%s: discovery of cluster %s: %w", gvk.Kind, o.GetName(), t.info().Name, err)
		}
		switch {
		case namespaced[i] && o.GetNamespace() == "":
			if namespace == "" {
				return nil, nil, fmt.Errorf("%s/%s: namespaced object without a namespace, and spec.destination.namespace is empty", gvk.Kind, o.GetName())
			}
			o.SetNamespace(namespace)
		case !namespaced[i]:
			o.SetNamespace("")
		}
	}
	var repeated []string
	if origins != nil {
		last := map[inventory.Key]int{}
		for i, o := range objs {
			if k := inventory.KeyOf(o); k.Name != "" {
				if j, dup := last[k]; dup && origins[j] != origins[i] {
					repeated = append(repeated, fmt.Sprintf("%s is rendered by source %d and source %d; the last one is applied", k, origins[j]+1, origins[i]+1))
				}
				last[k] = i
			}
		}
		kept, keptNS := objs[:0:0], namespaced[:0:0]
		for i, o := range objs {
			k := inventory.KeyOf(o)
			if j := last[k]; k.Name == "" || j == i || origins[j] == origins[i] {
				kept, keptNS = append(kept, o), append(keptNS, namespaced[i])
			}
		}
		objs, namespaced = kept, keptNS
	}
	seen := map[inventory.Key]bool{}
	for i, o := range objs {
		gvk := o.GroupVersionKind()
		if err := t.info().PermitsNamespace(o.GetNamespace()); err != nil {
			return nil, nil, fmt.Errorf("%s/%s: %w", gvk.Kind, o.GetName(), err)
		}
		if err := proj.PermitResource(gvk.Group, gvk.Kind, namespaced[i]); err != nil {
			return nil, nil, fmt.Errorf("%s/%s: %w", gvk.Kind, o.GetName(), err)
		}
		if ns := o.GetNamespace(); ns != "" && ns != namespace {
			if err := proj.PermitDestination(t.info().Server, t.info().Name, ns); err != nil {
				return nil, nil, fmt.Errorf("%s/%s: %w", gvk.Kind, o.GetName(), err)
			}
		}
		k := inventory.KeyOf(o)
		if seen[k] && k.Name != "" { // generateName hooks have no name yet
			return nil, nil, fmt.Errorf("%s: rendered twice", k)
		}
		seen[k] = true
		inventory.Mark(o, app)
	}
	return objs, repeated, nil
}

// liveObjects reads the live state of the desired and inventory objects
// from the watch cache. Desired objects the app never applied are read from
// the API server once (they may exist without tether's label).
func (r *Reconciler) liveObjects(ctx context.Context, t *target, app types.NamespacedName, desired []*unstructured.Unstructured, inv []inventory.Key) (map[inventory.Key]*unstructured.Unstructured, error) {
	out := map[inventory.Key]*unstructured.Unstructured{}
	known := map[inventory.Key]bool{}
	for _, k := range inv {
		known[k] = true
	}
	// Each kind is mapped once per comparison: a kind that is not served
	// (yet) resets discovery, which should happen once, not per object.
	type mapped struct {
		m  cluster.Mapping
		ok bool
	}
	mappings := map[schema.GroupVersionKind]mapped{}
	mapOf := func(gvk schema.GroupVersionKind) (cluster.Mapping, bool) {
		if v, done := mappings[gvk]; done {
			return v.m, v.ok
		}
		m, err := t.client.Map(gvk)
		mappings[gvk] = mapped{m, err == nil}
		return m, err == nil
	}
	if t.watcher != nil {
		// Start the watches of every kind at once: the first sync of an
		// app waits for one round of listings, not one per kind.
		var gvrs []schema.GroupVersionResource
		seen := map[schema.GroupVersionResource]bool{}
		add := func(gvk schema.GroupVersionKind) {
			if m, ok := mapOf(gvk); ok && !seen[m.GVR] {
				seen[m.GVR] = true
				gvrs = append(gvrs, m.GVR)
			}
		}
		for _, d := range desired {
			if h, err := plan.Hook(d); err == nil && (h.IsHook() || h.Skip) {
				continue
			}
			add(d.GroupVersionKind())
		}
		for _, k := range inv {
			add(k.GroupKind().WithVersion(""))
		}
		if err := t.watcher.Ensure(ctx, gvrs...); err != nil {
			return nil, err
		}
	}
	lookup := func(k inventory.Key, version string, direct bool) error {
		m, ok := mapOf(k.GroupKind().WithVersion(version))
		if !ok {
			return nil // kind not served (yet): missing
		}
		var obj *unstructured.Unstructured
		if t.watcher != nil {
			if err := t.watcher.Ensure(ctx, m.GVR); err != nil {
				return err
			}
			obj = r.notPruned(app, k, r.freshest(t.watcher, app, k, m.GVR, t.watcher.Get(m.GVR, k.Namespace, k.Name)))
		} else {
			direct = true // no watch cache (the CLI): read every object
		}
		if obj == nil && direct && k.Kind == "Namespace" && k.Group == "" && t.watcher != nil && t.local && !r.namespaceExists(ctx, k.Name) {
			direct = false // the namespace cache says it does not exist
		}
		if obj == nil && direct {
			var err error
			if obj, err = t.applier.Get(ctx, k, version); err != nil {
				return fmt.Errorf("%s: read: %w", k, err)
			}
		}
		if obj != nil {
			out[k] = obj
		}
		return nil
	}
	// Namespaces first: an object in a namespace that does not exist cannot
	// exist either, so it needs no read.
	missingNS := map[string]bool{}
	for _, pass := range []bool{true, false} {
		for _, d := range desired {
			isNS := d.GetKind() == "Namespace" && d.GroupVersionKind().Group == ""
			if isNS != pass {
				continue
			}
			if h, err := plan.Hook(d); err == nil && (h.IsHook() || h.Skip) {
				continue // hooks are created anew by each sync
			}
			k := inventory.KeyOf(d)
			direct := !known[k] && !missingNS[k.Namespace]
			if err := lookup(k, d.GroupVersionKind().Version, direct); err != nil {
				return nil, err
			}
			if isNS && out[k] == nil {
				missingNS[k.Name] = true
			}
		}
	}
	for _, k := range inv {
		if _, ok := out[k]; !ok {
			if err := lookup(k, "", false); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// namespaceExists asks the metadata cache of all namespaces, so a
// namespace an app is about to create costs no read. When the cache cannot
// answer, it says yes and the caller reads from the API server.
func (r *Reconciler) namespaceExists(ctx context.Context, name string) bool {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	err := r.client.Get(ctx, client.ObjectKey{Name: name}, ns)
	return !apierrors.IsNotFound(err)
}

// notPruned hides an object tether just pruned that the watch cache still
// holds, so the comparison after a sync does not report it again.
func (r *Reconciler) notPruned(app types.NamespacedName, k inventory.Key, cached *unstructured.Unstructured) *unstructured.Unstructured {
	r.mu.Lock()
	defer r.mu.Unlock()
	uid, ok := r.pruned[objKey(app, k)]
	if !ok {
		return cached
	}
	if cached != nil && cached.GetUID() == uid {
		return nil
	}
	delete(r.pruned, objKey(app, k)) // gone from the cache, or a new object
	return cached
}

// freshest returns what tether itself applied last when the watch cache
// still holds an older version of the object, or none because the watch
// has not delivered tether's write yet.
func (r *Reconciler) freshest(w *cluster.Watcher, app types.NamespacedName, k inventory.Key, gvr schema.GroupVersionResource, cached *unstructured.Unstructured) *unstructured.Unstructured {
	r.mu.Lock()
	applied := r.applied[objKey(app, k)]
	r.mu.Unlock()
	if applied == nil {
		return cached
	}
	if cached == nil {
		if w.Behind(gvr, applied.GetResourceVersion()) {
			return applied
		}
		// The watch went past tether's write: the object is gone since.
		r.mu.Lock()
		if r.applied[objKey(app, k)] == applied {
			delete(r.applied, objKey(app, k))
		}
		r.mu.Unlock()
		return nil
	}
	a, errA := strconv.ParseUint(applied.GetResourceVersion(), 10, 64)
	c, errC := strconv.ParseUint(cached.GetResourceVersion(), 10, 64)
	if errA == nil && errC == nil && c < a {
		return applied
	}
	// The cache caught up: the copy is no longer needed.
	r.mu.Lock()
	if r.applied[objKey(app, k)] == applied {
		delete(r.applied, objKey(app, k))
	}
	if e, ok := r.dryRuns[objKey(app, k)]; ok && e.applied == applied && errA == nil && errC == nil && c == a && cached.GetUID() == applied.GetUID() {
		// The cache holds the very object the apply returned: the prediction
		// made from it shares the cached object instead of keeping a copy.
		e.result, e.applied = prediction(cached), nil
		r.dryRuns[objKey(app, k)] = e
	}
	r.mu.Unlock()
	return cached
}

// predict returns server-side dry-run results for objects that exist,
// cached by desired content and live resourceVersion: an unchanged object
// costs no request at all.
func (r *Reconciler) predict(ctx context.Context, t *target, app types.NamespacedName, desired []*unstructured.Unstructured, live map[inventory.Key]*unstructured.Unstructured) map[inventory.Key]*unstructured.Unstructured {
	out := map[inventory.Key]*unstructured.Unstructured{}
	for _, d := range desired {
		k := inventory.KeyOf(d)
		l := live[k]
		if l == nil {
			continue
		}
		ok, want := objKey(app, k), hashOf(d.Object)+"|"+liveFingerprint(l)
		r.mu.Lock()
		e, hit := r.dryRuns[ok]
		r.mu.Unlock()
		if !hit || e.input != want {
			p, err := t.applier.DryRun(ctx, d)
			if err != nil {
				continue // compared on the fields tether sets instead
			}
			e = dryRun{input: want, result: prediction(p)}
			r.mu.Lock()
			r.dryRuns[ok] = e
			r.mu.Unlock()
		}
		out[k] = e.result
	}
	return out
}

// prediction returns what of a dry-run (or apply) result the comparison
// uses, for keeping: a shallow copy without managedFields, which the
// comparison leaves out anyway and which are a good part of a small object.
func prediction(o *unstructured.Unstructured) *unstructured.Unstructured {
	meta, ok := o.Object["metadata"].(map[string]any)
	if !ok {
		return o
	}
	if _, has := meta["managedFields"]; !has {
		return o
	}
	m := make(map[string]any, len(meta))
	for k, v := range meta {
		if k != "managedFields" {
			m[k] = v
		}
	}
	c := &unstructured.Unstructured{Object: make(map[string]any, len(o.Object))}
	for k, v := range o.Object {
		c.Object[k] = v
	}
	c.Object["metadata"] = m
	return c
}

// liveFingerprint identifies the content of a live object that a dry run
// depends on: everything but status and server bookkeeping, so a status
// update (a Deployment's replicas turning ready) does not cost a new dry run.
func liveFingerprint(l *unstructured.Unstructured) string {
	c := &unstructured.Unstructured{Object: make(map[string]any, len(l.Object))}
	for k, v := range l.Object {
		if k != "status" {
			c.Object[k] = v
		}
	}
	meta, _ := l.Object["metadata"].(map[string]any)
	m := make(map[string]any, len(meta))
	for k, v := range meta {
		switch k {
		case "resourceVersion", "managedFields", "generation":
		default:
			m[k] = v
		}
	}
	c.Object["metadata"] = m
	return hashOf(c.Object)
}

func hashOf(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

func images(objs []*unstructured.Unstructured) []string {
	set := map[string]bool{}
	for _, o := range objs {
		for _, path := range [][]string{{"spec", "template", "spec"}, {"spec"}, {"spec", "jobTemplate", "spec", "template", "spec"}} {
			for _, field := range []string{"containers", "initContainers"} {
				cs, _, _ := unstructured.NestedSlice(o.Object, append(append([]string{}, path...), field)...)
				for _, c := range cs {
					if m, ok := c.(map[string]any); ok {
						if img, ok := m["image"].(string); ok && img != "" {
							set[img] = true
						}
					}
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	sort.Strings(out)
	return out
}

// externalURLs are the addresses of the app's Ingresses (https for a
// host its TLS section names, with each path), and the values of
// link.argocd.argoproj.io/* annotations, as Argo CD lists them. Sorted,
// without duplicates.
func externalURLs(objs []*unstructured.Unstructured) []string {
	set := map[string]bool{}
	for _, o := range objs {
		for k, v := range o.GetAnnotations() {
			if strings.HasPrefix(k, "link.argocd.argoproj.io/") && (strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://")) {
				set[v] = true
			}
		}
		if o.GetKind() != "Ingress" || o.GroupVersionKind().Group != "networking.k8s.io" {
			continue
		}
		tlsHosts := map[string]bool{}
		tls, _, _ := unstructured.NestedSlice(o.Object, "spec", "tls")
		for _, t := range tls {
			if m, ok := t.(map[string]any); ok {
				hosts, _, _ := unstructured.NestedStringSlice(m, "hosts")
				for _, h := range hosts {
					tlsHosts[h] = true
				}
			}
		}
		rules, _, _ := unstructured.NestedSlice(o.Object, "spec", "rules")
		for _, r := range rules {
			m, ok := r.(map[string]any)
			if !ok {
				continue
			}
			host, _ := m["host"].(string)
			if host == "" || strings.Contains(host, "*") {
				continue // no address a person can open
			}
			scheme := "http://"
			if tlsHosts[host] {
				scheme = "https://"
			}
			paths, _, _ := unstructured.NestedSlice(m, "http", "paths")
			if len(paths) == 0 {
				set[scheme+host+"/"] = true
			}
			for _, p := range paths {
				pm, _ := p.(map[string]any)
				path, _ := pm["path"].(string)
				switch {
				case path == "" || path == "/":
					set[scheme+host+"/"] = true
				case !strings.ContainsAny(path, "*()"): // not a regular expression
					set[scheme+host+path] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for u := range set {
		out = append(out, u)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func pathOrRoot(p string) string {
	if p == "" || p == "." {
		return "the repository root"
	}
	return "path " + p
}

// short abbreviates a commit SHA; anything else (a chart version) stays.
func short(sha string) string {
	if source.IsCommitSHA(sha) {
		return sha[:7]
	}
	return sha
}
