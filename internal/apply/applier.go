package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tether-gitops/tether/internal/cluster"
	"github.com/tether-gitops/tether/internal/inventory"
)

// FieldManager is the server-side apply manager of every tether write.
const FieldManager = "tether"

// Applier writes objects to one cluster.
type Applier struct {
	Client *cluster.Client
}

// New returns an applier for c.
func New(c *cluster.Client) *Applier { return &Applier{Client: c} }

// DryRun returns obj as the API server would store it after a server-side
// apply, without changing anything. Conflicts are forced, so the answer is
// what tether's apply would produce.
func (a *Applier) DryRun(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return a.apply(ctx, obj, true, true)
}

// Apply server-side applies obj. Conflicts with other field managers are
// forced only when app applied the object before (tether takes back its
// fields); otherwise a conflict is an error.
func (a *Applier) Apply(ctx context.Context, obj *unstructured.Unstructured, app types.NamespacedName, live *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if live != nil && inventory.BelongsTo(live, app) {
		// The app applied this object before: its fields are tether's to
		// take back (a revert of a manual edit), so force at once rather
		// than paying for a conflict first.
		return a.apply(ctx, obj, true, false)
	}
	out, err := a.apply(ctx, obj, false, false)
	if err != nil && apierrors.IsConflict(err) {
		return nil, fmt.Errorf("%w (the object was not applied by this app, so tether does not take over its fields)", err)
	}
	return out, err
}

func (a *Applier) apply(ctx context.Context, obj *unstructured.Unstructured, force, dryRun bool) (*unstructured.Unstructured, error) {
	m, err := a.Client.Map(obj.GroupVersionKind())
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	opts := metav1.PatchOptions{FieldManager: FieldManager, Force: &force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return a.Client.Resource(m, obj.GetNamespace()).Patch(ctx, obj.GetName(), types.ApplyPatchType, body, opts)
}

// Get reads an object straight from the API server; nil when missing.
func (a *Applier) Get(ctx context.Context, k inventory.Key, version string) (*unstructured.Unstructured, error) {
	m, err := a.Client.Map(k.GroupKind().WithVersion(version))
	if err != nil {
		return nil, err
	}
	o, err := a.Client.Resource(m, k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return o, err
}

// Delete deletes an object with the given propagation ("foreground",
// "background" or "orphan"; background when empty), only if it still is the
// object that was observed (same UID).
func (a *Applier) Delete(ctx context.Context, live *unstructured.Unstructured, propagation string) error {
	m, err := a.Client.Map(live.GroupVersionKind())
	if err != nil {
		return err
	}
	policy := metav1.DeletePropagationBackground
	switch strings.ToLower(propagation) {
	case "foreground":
		policy = metav1.DeletePropagationForeground
	case "orphan":
		policy = metav1.DeletePropagationOrphan
	}
	uid := live.GetUID()
	opts := metav1.DeleteOptions{PropagationPolicy: &policy}
	if uid != "" {
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	err = a.Client.Resource(m, live.GetNamespace()).Delete(ctx, live.GetName(), opts)
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // already gone, or replaced by an object that is not the one we saw
	}
	return err
}

// WaitEstablished waits until the CRD is Established and its kind served.
func (a *Applier) WaitEstablished(ctx context.Context, crd *unstructured.Unstructured, timeout time.Duration) error {
	m, err := a.Client.Map(crd.GroupVersionKind())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		o, err := a.Client.Resource(m, "").Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
		for _, c := range conds {
			cm, _ := c.(map[string]any)
			if cm["type"] == "Established" && cm["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("CustomResourceDefinition/%s: not Established within %s", crd.GetName(), timeout)
	}
	a.Client.Reset()
	return nil
}

// IsMissingNamespace reports an error caused by a namespace that does not
// exist (yet).
func IsMissingNamespace(err error) bool {
	var se *apierrors.StatusError
	if !errors.As(err, &se) || !apierrors.IsNotFound(err) {
		return false
	}
	d := se.ErrStatus.Details
	return d != nil && d.Kind == "namespaces"
}
