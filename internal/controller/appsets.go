package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/appset"
	"github.com/tether-gitops/tether/internal/clusters"
)

// AppSetRefreshAnnotation set to "true" on an ApplicationSet makes its git
// generators list the repositories' refs again at once; the controller
// removes it afterwards, as Argo CD does.
const AppSetRefreshAnnotation = "argocd.argoproj.io/application-set-refresh"

// Condition reasons of ApplicationSets besides those of the API package.
const (
	// appSetReasonValidation: a generated Application breaks a rule
	// (project, destination, ownership); nothing was written.
	appSetReasonValidation = "ApplicationValidationError"
	// appSetReasonUpdate: writing the Applications failed.
	appSetReasonUpdate = "ApplicationUpdateError"
)

// Annotations of generated Applications that others write and an update
// keeps (Argo CD keeps the same ones).
var appSetPreservedAnnotations = []string{
	v1alpha1.RefreshAnnotation,
	"argocd.argoproj.io/hydrate",
	"notified.notifications.argoproj.io",
}

// appSetController creates, updates and deletes the Applications of
// ApplicationSets. It shares the Application controller's cache, Git cache
// and credentials.
type appSetController struct {
	r *Reconciler

	mu sync.Mutex
	// blocked maps an Application a set could not take over (it is not the
	// set's) to that set, so the set is retried when the Application goes.
	blocked map[types.NamespacedName]types.NamespacedName
}

// setupAppSets adds the ApplicationSet controller to mgr. While the
// ApplicationSet CRD is not served (tether started before or with its
// CRDs), it looks for the CRD every few seconds and starts the controller
// once it is there.
func setupAppSets(mgr manager.Manager, r *Reconciler) error {
	gk := schema.GroupKind{Group: v1alpha1.Group, Kind: v1alpha1.ApplicationSetKind}
	served := func() bool {
		_, err := mgr.GetRESTMapper().RESTMapping(gk, v1alpha1.GroupVersion.Version)
		return !meta.IsNoMatchError(err)
	}
	if served() {
		return addAppSetController(mgr, r)
	}
	slog.Warn("the ApplicationSet CRD is not installed; ApplicationSets are reconciled once it is")
	return mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		tick := time.NewTicker(appSetCRDPoll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			if served() {
				slog.Info("the ApplicationSet CRD is installed; reconciling ApplicationSets")
				return addAppSetController(mgr, r)
			}
		}
	}))
}

// appSetCRDPoll is how often a missing ApplicationSet CRD is looked for.
const appSetCRDPoll = 5 * time.Second

func addAppSetController(mgr manager.Manager, r *Reconciler) error {
	c := &appSetController{r: r, blocked: map[types.NamespacedName]types.NamespacedName{}}
	appObj := &unstructured.Unstructured{}
	appObj.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationKind))
	return ctrl.NewControllerManagedBy(mgr).
		Named("applicationset").
		For(&v1alpha1.ApplicationSet{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Watches(appObj, handler.EnqueueRequestsFromMapFunc(c.setsOfApp), builder.WithPredicates(appSetAppChanged)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(c.setsOfClusterSecret)).
		Watches(&v1alpha1.AppProject{}, handler.EnqueueRequestsFromMapFunc(c.setsOfProject)).
		WatchesRawSource(source.Channel(r.wakeSets, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.opts.Workers, SkipNameValidation: ptr.To(true)}).
		Complete(c)
}

// Reconcile generates the set's Applications and, when every one of them
// passes the checks, creates, updates and deletes Applications as the
// set's policy allows.
func (c *appSetController) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r := c.r
	set := &v1alpha1.ApplicationSet{}
	if err := r.client.Get(ctx, req.NamespacedName, set); err != nil {
		if apierrors.IsNotFound(err) {
			c.unblock(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if set.DeletionTimestamp != nil {
		// The garbage collector deletes the owned Applications.
		c.unblock(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	log := slog.Default().With("appset", req.NamespacedName.String())
	var result ctrl.Result
	if usesGit(set) {
		result.RequeueAfter = jitter(r.opts.PollInterval, req.String())
	}
	orig := set.DeepCopy()
	refresh := set.Annotations[AppSetRefreshAnnotation] == "true"

	entries, err := clusters.List(ctx, r.client, r.opts.Namespace, r.targets.local.client.Config)
	if err != nil {
		return ctrl.Result{}, err
	}
	var dests []*clusters.Cluster
	for _, e := range entries {
		// A cluster whose Secret is broken still gets its Applications;
		// they report the Secret's problem themselves.
		if e.Cluster != nil {
			dests = append(dests, e.Cluster)
		}
	}
	maxAge := r.opts.PollInterval
	if refresh {
		maxAge = 0
	}
	repos := &appset.SourceRepos{Cache: r.sources, Credentials: r.credentials, MaxAge: maxAge}
	apps, genErr := appset.Generate(ctx, set, appset.Inputs{Clusters: dests, Repos: repos})
	if genErr != nil && ctx.Err() != nil {
		return ctrl.Result{}, ctx.Err()
	}

	existing, err := c.existing(ctx, set)
	if err != nil {
		return ctrl.Result{}, err
	}
	var st appSetState
	switch {
	case genErr != nil:
		st = appSetState{reason: v1alpha1.ApplicationSetReasonGenerationError, msg: genErr.Error(), paramsFailed: true}
		set.Status.Resources = ownedResources(set, existing)
	default:
		desired, blocked, problems := c.check(ctx, set, apps, entries, existing)
		c.setBlocked(req.NamespacedName, blocked)
		if len(problems) > 0 {
			st = appSetState{reason: appSetReasonValidation, msg: strings.Join(problems, "; ")}
			set.Status.Resources = ownedResources(set, existing)
			break
		}
		live, retry, werr := c.apply(ctx, log, set, desired, existing, entries)
		if retry && werr == nil {
			// Another writer changed an Application meanwhile: try again
			// with the new version before reporting anything.
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		set.Status.Resources = generatedResources(desired, live)
		if werr != nil {
			st = appSetState{reason: appSetReasonUpdate, msg: werr.Error()}
			err = werr
		}
	}
	st.warnings = append(c.unsupportedFields(ctx, req.NamespacedName), appset.Warnings(set)...)
	if werr := c.writeStatus(ctx, orig, set, st); werr != nil && err == nil {
		err = werr
	}
	if refresh {
		patch := annotationPatch(AppSetRefreshAnnotation, nil)
		if perr := r.client.Patch(ctx, orig.DeepCopy(), patch); perr != nil && !apierrors.IsNotFound(perr) && err == nil {
			err = fmt.Errorf("ApplicationSet %s: remove the refresh annotation: %w", req.NamespacedName, perr)
		}
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	return result, nil
}

// existing returns the Applications of the set's namespace by name.
func (c *appSetController) existing(ctx context.Context, set *v1alpha1.ApplicationSet) (map[string]*unstructured.Unstructured, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationKind + "List"))
	if err := c.r.client.List(ctx, list, client.InNamespace(set.Namespace)); err != nil {
		return nil, fmt.Errorf("list Applications in %s: %w", set.Namespace, err)
	}
	out := make(map[string]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		out[list.Items[i].GetName()] = &list.Items[i]
	}
	return out, nil
}

// ownedBy tells whether the set is o's controller.
func ownedBy(o metav1.Object, set *v1alpha1.ApplicationSet) bool {
	ref := metav1.GetControllerOf(o)
	return ref != nil && ref.UID == set.UID
}

// desiredApp is one generated Application, ready to write.
type desiredApp struct {
	app  *v1alpha1.Application
	spec []byte // the spec in canonical JSON
}

// check applies the rules to every generated Application: its namespace is
// the set's, its project exists and permits its repository and
// destination, the destination cluster is registered, and an Application
// of that name, if any, is the set's. It returns every problem found,
// each naming the Application and the rule, and the names of Applications
// the set may not take over.
func (c *appSetController) check(ctx context.Context, set *v1alpha1.ApplicationSet, apps []*v1alpha1.Application,
	entries []clusters.Entry, existing map[string]*unstructured.Unstructured) ([]desiredApp, []types.NamespacedName, []string) {
	var out []desiredApp
	var blocked []types.NamespacedName
	var problems []string
	fail := func(app *v1alpha1.Application, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("application %s: ", app.Name)+fmt.Sprintf(format, args...))
	}
	for _, app := range apps {
		if app.Namespace != set.Namespace {
			fail(app, "metadata.namespace %s: generated Applications must be in the ApplicationSet's namespace %s", app.Namespace, set.Namespace)
			continue
		}
		if err := c.r.checkProject(ctx, app); err != nil {
			fail(app, "%v", err)
			continue
		}
		if len(appSources(app)) == 0 {
			fail(app, "spec.source: required (or spec.sources)")
			continue
		}
		e, err := clusters.Find(entries, app.Spec.Destination)
		if err != nil {
			fail(app, "%v", err)
			continue
		}
		proj, err := c.r.loadProject(ctx, app)
		if err != nil {
			fail(app, "%v", err)
			continue
		}
		if err := proj.PermitDestination(e.Server, e.Name, app.Spec.Destination.Namespace); err != nil {
			fail(app, "%v", err)
			continue
		}
		if cur, ok := existing[app.Name]; ok && !ownedBy(cur, set) {
			owner := "no ApplicationSet"
			if ref := metav1.GetControllerOf(cur); ref != nil {
				owner = fmt.Sprintf("%s %s", ref.Kind, ref.Name)
			}
			fail(app, "an Application of that name already exists and belongs to %s; the ApplicationSet does not take it over", owner)
			blocked = append(blocked, types.NamespacedName{Namespace: app.Namespace, Name: app.Name})
			continue
		}
		spec, err := canonicalSpec(app.Spec)
		if err != nil {
			fail(app, "spec: %v", err)
			continue
		}
		out = append(out, desiredApp{app: app, spec: spec})
	}
	return out, blocked, problems
}

// apply creates, updates and deletes Applications as the policy allows.
// It returns the Applications as they are after the writes, by name, and
// whether a write met a newer version of an Application (retry soon).
func (c *appSetController) apply(ctx context.Context, log *slog.Logger, set *v1alpha1.ApplicationSet,
	desired []desiredApp, existing map[string]*unstructured.Unstructured, entries []clusters.Entry) (map[string]*unstructured.Unstructured, bool, error) {
	policy := set.Spec.SyncPolicy
	preserve := policy.PreservesResources()
	live := map[string]*unstructured.Unstructured{}
	var errs []error
	retry := false
	generated := map[string]bool{}
	for _, d := range desired {
		name := d.app.Name
		generated[name] = true
		cur, ok := existing[name]
		if !ok {
			u, err := c.create(ctx, set, d, preserve)
			if err != nil {
				errs = append(errs, fmt.Errorf("application %s: create: %w", name, err))
				continue
			}
			if u != nil {
				live[name] = u
				log.Info("created Application", "app", name)
				c.event(set, corev1.EventTypeNormal, "Created", "Created Application %q", name)
			}
			continue
		}
		live[name] = cur
		if cur.GetDeletionTimestamp() != nil {
			continue // created again once it is gone
		}
		next, changed, err := c.updated(cur, set, d, policy.AllowUpdate(), preserve)
		if err != nil {
			errs = append(errs, fmt.Errorf("application %s: %w", name, err))
			continue
		}
		if !changed {
			continue
		}
		if err := c.patch(ctx, cur, next); apierrors.IsConflict(err) {
			retry = true
			continue
		} else if err != nil {
			errs = append(errs, fmt.Errorf("application %s: update: %w", name, err))
			continue
		}
		live[name] = next
		log.Info("updated Application", "app", name)
		c.event(set, corev1.EventTypeNormal, "Updated", "Updated Application %q", name)
	}
	names := make([]string, 0, len(existing))
	for name := range existing {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		cur := existing[name]
		if generated[name] || !ownedBy(cur, set) || cur.GetDeletionTimestamp() != nil {
			continue
		}
		// Kept objects need the finalizer gone before the delete, or
		// deleting the Application deletes them; the same holds for a
		// policy that keeps the Application, should it be deleted later.
		strip := preserve
		if policy.AllowDelete() && !strip {
			// A cluster that is no longer registered (its Secret removed,
			// which is what dropped the element) cannot have its objects
			// deleted: the finalizer would hold the Application forever.
			// Argo CD drops the finalizer in this case too.
			var d v1alpha1.ApplicationDestination
			d.Server, _, _ = unstructured.NestedString(cur.Object, "spec", "destination", "server")
			d.Name, _, _ = unstructured.NestedString(cur.Object, "spec", "destination", "name")
			_, err := clusters.Find(entries, d)
			strip = err != nil
		}
		if strip && hasResourcesFinalizer(cur.GetFinalizers()) {
			next := cur.DeepCopy()
			next.SetFinalizers(withoutResourcesFinalizers(cur.GetFinalizers()))
			if err := c.patch(ctx, cur, next); apierrors.IsConflict(err) {
				retry = true
				continue
			} else if err != nil {
				errs = append(errs, fmt.Errorf("application %s: remove the resources finalizer: %w", name, err))
				continue
			}
			cur = next
		}
		if !policy.AllowDelete() {
			continue
		}
		uid := cur.GetUID()
		if err := c.r.client.Delete(ctx, cur, client.Preconditions{UID: &uid}); apierrors.IsConflict(err) {
			retry = true
			continue
		} else if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("application %s: delete: %w", name, err))
			continue
		}
		log.Info("deleted Application", "app", name)
		c.event(set, corev1.EventTypeNormal, "Deleted", "Deleted Application %q", name)
	}
	return live, retry, errors.Join(errs...)
}

// conflictRetry is how soon a set is reconciled again after a write met a
// newer version of an Application.
const conflictRetry = 200 * time.Millisecond

// patch writes the difference between cur and next as a merge patch, so
// the status writes of the Application controller do not conflict with
// it; a change of the finalizers is checked against cur's version, as
// others may be changing them too.
func (c *appSetController) patch(ctx context.Context, cur, next *unstructured.Unstructured) error {
	p := client.MergeFrom(cur)
	if !slices.Equal(cur.GetFinalizers(), next.GetFinalizers()) {
		p = client.MergeFromWithOptions(cur, client.MergeFromWithOptimisticLock{})
	}
	return c.r.client.Patch(ctx, next, p)
}

// create creates a generated Application owned by the set. An Application
// of that name that the cache did not show yet is left alone when it is
// the set's (the next reconcile updates it) and an error when not.
func (c *appSetController) create(ctx context.Context, set *v1alpha1.ApplicationSet, d desiredApp, preserve bool) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationKind))
	u.SetNamespace(d.app.Namespace)
	u.SetName(d.app.Name)
	u.SetLabels(d.app.Labels)
	u.SetAnnotations(d.app.Annotations)
	u.SetFinalizers(generatedFinalizers(d.app.Finalizers, nil, preserve))
	u.SetOwnerReferences([]metav1.OwnerReference{appSetOwnerRef(set)})
	var spec map[string]any
	if err := json.Unmarshal(d.spec, &spec); err != nil {
		return nil, err
	}
	u.Object["spec"] = spec
	err := c.r.client.Create(ctx, u)
	if apierrors.IsAlreadyExists(err) {
		cur := &unstructured.Unstructured{}
		cur.SetGroupVersionKind(u.GroupVersionKind())
		if gerr := c.r.apiReader.Get(ctx, client.ObjectKeyFromObject(u), cur); gerr == nil && ownedBy(cur, set) {
			return cur, nil
		}
		return nil, fmt.Errorf("an Application of that name already exists and is not the ApplicationSet's")
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// updated returns cur changed to match the generated Application, and
// whether anything changed. Without the update policy only the resources
// finalizer is removed when the set preserves resources.
func (c *appSetController) updated(cur *unstructured.Unstructured, set *v1alpha1.ApplicationSet, d desiredApp, allowUpdate, preserve bool) (*unstructured.Unstructured, bool, error) {
	next := cur.DeepCopy()
	if !allowUpdate {
		if preserve && hasResourcesFinalizer(cur.GetFinalizers()) {
			next.SetFinalizers(withoutResourcesFinalizers(cur.GetFinalizers()))
			return next, true, nil
		}
		return cur, false, nil
	}
	changed := false
	rawSpec, _, _ := unstructured.NestedFieldNoCopy(cur.Object, "spec")
	want, err := keptSpec(set, cur.GetName(), d.spec, rawSpec)
	if err != nil {
		return nil, false, err
	}
	curSpec, err := canonicalRaw(rawSpec)
	if err != nil || !bytes.Equal(curSpec, want) {
		var spec map[string]any
		if err := json.Unmarshal(want, &spec); err != nil {
			return nil, false, err
		}
		next.Object["spec"] = spec
		changed = true
	}
	var keepLabels, keepAnnotations []string
	if pf := set.Spec.PreservedFields; pf != nil {
		keepLabels, keepAnnotations = pf.Labels, pf.Annotations
	}
	labels := withKept(d.app.Labels, cur.GetLabels(), keepLabels)
	if !equalStringMaps(cur.GetLabels(), labels) {
		next.SetLabels(labels)
		changed = true
	}
	ann := withKept(withKept(d.app.Annotations, cur.GetAnnotations(), appSetPreservedAnnotations), cur.GetAnnotations(), keepAnnotations)
	if !equalStringMaps(cur.GetAnnotations(), ann) {
		next.SetAnnotations(ann)
		changed = true
	}
	if fin := generatedFinalizers(d.app.Finalizers, cur.GetFinalizers(), preserve); !slices.Equal(fin, cur.GetFinalizers()) {
		next.SetFinalizers(fin)
		changed = true
	}
	return next, changed, nil
}

// withKept returns a copy of desired in which each of keys that current
// holds has current's value.
func withKept(desired, current map[string]string, keys []string) map[string]string {
	out := make(map[string]string, len(desired))
	for k, v := range desired {
		out[k] = v
	}
	for _, k := range keys {
		if v, ok := current[k]; ok {
			out[k] = v
		}
	}
	return out
}

// generatedFinalizers are the template's finalizers plus those others put
// on the Application (current). Without preserveResourcesOnDeletion the
// resources finalizer is added when the template names no variant of it,
// so deleting the Application deletes its objects (Argo CD's default);
// with it, every variant is left out so the objects stay.
func generatedFinalizers(template, current []string, preserve bool) []string {
	var out []string
	for _, f := range template {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if preserve {
		out = withoutResourcesFinalizers(out)
	} else if !hasResourcesFinalizer(out) {
		out = append(out, v1alpha1.ResourcesFinalizer)
	}
	for _, f := range current {
		if !isResourcesFinalizer(f) && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func isResourcesFinalizer(f string) bool {
	return f == v1alpha1.ResourcesFinalizer || strings.HasPrefix(f, v1alpha1.ResourcesFinalizer+"/")
}

func hasResourcesFinalizer(fs []string) bool { return slices.ContainsFunc(fs, isResourcesFinalizer) }

func withoutResourcesFinalizers(fs []string) []string {
	out := []string{}
	for _, f := range fs {
		if !isResourcesFinalizer(f) {
			out = append(out, f)
		}
	}
	return out
}

func appSetOwnerRef(set *v1alpha1.ApplicationSet) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         v1alpha1.GroupVersion.String(),
		Kind:               v1alpha1.ApplicationSetKind,
		Name:               set.Name,
		UID:                set.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}

// canonicalSpec is spec as JSON after a round trip through the type, so
// a generated spec and a stored one compare equal when they mean the same.
func canonicalSpec(spec v1alpha1.ApplicationSpec) ([]byte, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	return canonicalRaw(json.RawMessage(b))
}

func canonicalRaw(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var spec v1alpha1.ApplicationSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, err
	}
	return json.Marshal(spec)
}

func equalStringMaps(a, b map[string]string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return equality.Semantic.DeepEqual(a, b)
}

// appSetState is the outcome of one reconcile: no reason means success.
type appSetState struct {
	reason, msg string
	// paramsFailed: the parameters could not be generated.
	paramsFailed bool
	// warnings name fields of the set that tether does not act on.
	warnings []string
}

// writeStatus sets the conditions for st and writes the status when it
// changed; an ErrorOccurred that appears or changes its message also
// makes a Warning Event.
func (c *appSetController) writeStatus(ctx context.Context, orig, set *v1alpha1.ApplicationSet, st appSetState) error {
	const ok = "All applications have been generated successfully"
	conds := []v1alpha1.ApplicationSetCondition{
		{Type: v1alpha1.ApplicationSetConditionErrorOccurred, Status: "False", Reason: v1alpha1.ApplicationSetReasonUpToDate, Message: ok},
		{Type: v1alpha1.ApplicationSetConditionParametersGenerated, Status: "True", Reason: v1alpha1.ApplicationSetReasonParametersGenerated,
			Message: "Successfully generated parameters for all Applications"},
		{Type: v1alpha1.ApplicationSetConditionResourcesUpToDate, Status: "True", Reason: v1alpha1.ApplicationSetReasonUpToDate, Message: ok},
	}
	if st.reason != "" {
		conds[0] = v1alpha1.ApplicationSetCondition{Type: conds[0].Type, Status: "True", Reason: st.reason, Message: st.msg}
		conds[2] = v1alpha1.ApplicationSetCondition{Type: conds[2].Type, Status: "False", Reason: v1alpha1.ApplicationSetReasonErrorOccurred, Message: st.msg}
		if st.paramsFailed {
			conds[1] = v1alpha1.ApplicationSetCondition{Type: conds[1].Type, Status: "False", Reason: v1alpha1.ApplicationSetReasonErrorOccurred, Message: st.msg}
		}
	}
	now := metav1.Now()
	var prevErr *v1alpha1.ApplicationSetCondition
	for i := range conds {
		conds[i].LastTransitionTime = &now
		for j := range orig.Status.Conditions {
			old := &orig.Status.Conditions[j]
			if old.Type != conds[i].Type {
				continue
			}
			if old.Status == conds[i].Status && old.LastTransitionTime != nil {
				conds[i].LastTransitionTime = old.LastTransitionTime
			}
			if old.Type == v1alpha1.ApplicationSetConditionErrorOccurred {
				prevErr = old
			}
		}
	}
	if len(st.warnings) > 0 {
		w := v1alpha1.ApplicationSetCondition{Type: v1alpha1.ConditionUnsupportedField, Status: "True", Reason: v1alpha1.ConditionUnsupportedField,
			Message: strings.Join(st.warnings, "; "), LastTransitionTime: &now}
		for _, old := range orig.Status.Conditions {
			if old.Type == w.Type && old.Status == w.Status && old.LastTransitionTime != nil {
				w.LastTransitionTime = old.LastTransitionTime
			}
		}
		conds = append(conds, w)
	}
	set.Status.Conditions = conds
	if st.reason != "" && (prevErr == nil || prevErr.Status != "True" || prevErr.Message != st.msg) {
		c.event(set, corev1.EventTypeWarning, st.reason, "%s", st.msg)
	}
	if equality.Semantic.DeepEqual(orig.Status, set.Status) {
		return nil
	}
	if err := c.r.client.Status().Patch(ctx, set, client.MergeFrom(orig)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("ApplicationSet %s/%s: write status: %w", set.Namespace, set.Name, err)
	}
	return nil
}

// generatedResources lists the generated Applications in generation order
// with the sync and health status they report.
func generatedResources(desired []desiredApp, live map[string]*unstructured.Unstructured) []v1alpha1.ResourceStatus {
	out := make([]v1alpha1.ResourceStatus, 0, len(desired))
	for _, d := range desired {
		out = append(out, appResource(d.app.Namespace, d.app.Name, live[d.app.Name]))
	}
	return out
}

// ownedResources lists the set's existing Applications by name, for when
// nothing was generated.
func ownedResources(set *v1alpha1.ApplicationSet, existing map[string]*unstructured.Unstructured) []v1alpha1.ResourceStatus {
	var out []v1alpha1.ResourceStatus
	for _, u := range existing {
		if ownedBy(u, set) {
			out = append(out, appResource(u.GetNamespace(), u.GetName(), u))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func appResource(namespace, name string, u *unstructured.Unstructured) v1alpha1.ResourceStatus {
	rs := v1alpha1.ResourceStatus{Group: v1alpha1.Group, Version: v1alpha1.GroupVersion.Version, Kind: v1alpha1.ApplicationKind, Namespace: namespace, Name: name}
	if u == nil {
		return rs
	}
	rs.Status, _, _ = unstructured.NestedString(u.Object, "status", "sync", "status")
	if h, _, _ := unstructured.NestedString(u.Object, "status", "health", "status"); h != "" {
		rs.Health = &v1alpha1.HealthStatus{Status: h}
	}
	return rs
}

func (c *appSetController) event(set *v1alpha1.ApplicationSet, typ, reason, format string, args ...any) {
	if c.r.recorder == nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if len(msg) > 1000 {
		msg = msg[:1000] + "..."
	}
	ref := set.DeepCopy()
	ref.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationSetKind))
	c.r.recorder.Eventf(ref, nil, typ, reason, "Generate", "%s", msg)
}

// usesGit reports whether a generator of the set (at any depth) reads Git.
func usesGit(set *v1alpha1.ApplicationSet) bool { return len(gitGeneratorsOf(set)) > 0 }

// gitGeneratorsOf returns the repository and revision of every Git
// generator of the set, at any depth of matrix and merge generators. A
// set that cannot be walked counts as reading Git (at an unknown
// repository).
func gitGeneratorsOf(set *v1alpha1.ApplicationSet) []gitSource {
	unknown := []gitSource{{}}
	b, err := json.Marshal(set.Spec.Generators)
	if err != nil {
		return unknown
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return unknown
	}
	var out []gitSource
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if g, isObj := x.(map[string]any); k == "git" && isObj {
					url, _ := g["repoURL"].(string)
					rev, _ := g["revision"].(string)
					out = append(out, gitSource{url, rev})
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(tree)
	return out
}

func (c *appSetController) setBlocked(set types.NamespacedName, apps []types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for app, s := range c.blocked {
		if s == set {
			delete(c.blocked, app)
		}
	}
	for _, app := range apps {
		c.blocked[app] = set
	}
}

func (c *appSetController) unblock(set types.NamespacedName) { c.setBlocked(set, nil) }

// setsOfApp maps an Application to the set that controls it, or to the
// set waiting for it to go.
func (c *appSetController) setsOfApp(_ context.Context, o client.Object) []reconcile.Request {
	if ref := metav1.GetControllerOf(o); ref != nil && ref.Kind == v1alpha1.ApplicationSetKind &&
		strings.HasPrefix(ref.APIVersion, v1alpha1.Group+"/") {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: ref.Name}}}
	}
	c.mu.Lock()
	set, ok := c.blocked[types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}]
	c.mu.Unlock()
	if ok {
		return []reconcile.Request{{NamespacedName: set}}
	}
	return nil
}

// appSetAppChanged passes the Application changes a set cares about:
// what it writes (spec, metadata) and the status it reports.
var appSetAppChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld, e.ObjectNew
		if o.GetGeneration() != n.GetGeneration() || !equalStringMaps(o.GetLabels(), n.GetLabels()) ||
			!equalStringMaps(o.GetAnnotations(), n.GetAnnotations()) || !slices.Equal(o.GetFinalizers(), n.GetFinalizers()) ||
			!equality.Semantic.DeepEqual(o.GetOwnerReferences(), n.GetOwnerReferences()) ||
			(o.GetDeletionTimestamp() == nil) != (n.GetDeletionTimestamp() == nil) {
			return true
		}
		ou, ok1 := o.(*unstructured.Unstructured)
		nu, ok2 := n.(*unstructured.Unstructured)
		if !ok1 || !ok2 {
			return true
		}
		for _, f := range [][]string{{"status", "sync", "status"}, {"status", "health", "status"}} {
			a, _, _ := unstructured.NestedString(ou.Object, f...)
			b, _, _ := unstructured.NestedString(nu.Object, f...)
			if a != b {
				return true
			}
		}
		return false
	},
}

// setsOfClusterSecret maps a change of a cluster Secret in tether's
// namespace to every set: a new cluster may get Applications.
func (c *appSetController) setsOfClusterSecret(ctx context.Context, o client.Object) []reconcile.Request {
	if o.GetNamespace() != c.r.opts.Namespace || o.GetLabels()[clusters.SecretTypeLabel] != clusters.SecretTypeCluster {
		return nil
	}
	return c.allSets(ctx)
}

// setsOfProject maps a change of an AppProject to every set: a rule that
// refused an Application may now allow it.
func (c *appSetController) setsOfProject(ctx context.Context, o client.Object) []reconcile.Request {
	if o.GetNamespace() != c.r.opts.Namespace {
		return nil
	}
	return c.allSets(ctx)
}

func (c *appSetController) allSets(ctx context.Context) []reconcile.Request {
	var out []reconcile.Request
	seen := map[string]bool{}
	for _, ns := range append([]string{c.r.opts.Namespace}, c.r.opts.AppNamespaces...) {
		if seen[ns] {
			continue
		}
		seen[ns] = true
		var list v1alpha1.ApplicationSetList
		if err := c.r.client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			continue
		}
		for _, s := range list.Items {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}})
		}
	}
	return out
}

// unsupportedFields names the fields of the stored set that tether does
// not know (progressive syncs, ...), so they
// are reported instead of silently ignored.
func (c *appSetController) unsupportedFields(ctx context.Context, key types.NamespacedName) []string {
	raw := &unstructured.Unstructured{}
	raw.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("ApplicationSet"))
	if err := c.r.client.Get(ctx, key, raw); err != nil {
		return nil
	}
	return unknownFields[v1alpha1.ApplicationSetSpec](raw.Object, "spec", "tether does not support this field; it is ignored")
}
