package apply

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-gitops/tether/internal/plan"
)

// write puts one object into the cluster the way its sync options ask:
// server-side apply by default; Replace=true replaces the whole object (as
// kubectl replace does); Force=true deletes and recreates an object the API
// server refuses to change in place (an immutable field).
func (a *Applier) write(ctx context.Context, it plan.Item, opts SyncOptions) (*unstructured.Unstructured, error) {
	var out *unstructured.Unstructured
	var err error
	if it.Options.Bool("Replace") {
		out, err = a.replace(ctx, it.Desired, it.Live)
	} else {
		out, err = a.Apply(ctx, it.Desired, opts.App, it.Live)
	}
	if err == nil || !it.Options.Bool("Force") || it.Live == nil || !apierrors.IsInvalid(err) {
		return out, err
	}
	if derr := a.deleteAndWait(ctx, it.Live, opts.Timeout); derr != nil {
		return nil, fmt.Errorf("%w; Force=true: delete before recreating: %v", err, derr)
	}
	return a.Apply(ctx, it.Desired, opts.App, nil)
}

// replace creates obj, or replaces the live object with it whole.
func (a *Applier) replace(ctx context.Context, obj, live *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	m, err := a.Client.Map(obj.GroupVersionKind())
	if err != nil {
		return nil, err
	}
	res := a.Client.Resource(m, obj.GetNamespace())
	if live == nil {
		return res.Create(ctx, obj, metav1.CreateOptions{FieldManager: FieldManager})
	}
	o := obj.DeepCopy()
	o.SetResourceVersion(live.GetResourceVersion())
	return res.Update(ctx, o, metav1.UpdateOptions{FieldManager: FieldManager})
}
