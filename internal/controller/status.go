package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/record"
)

// writeStatus writes the status when it changed (or reconciledAt is older
// than StatusRefresh), removes a handled refresh annotation and clears
// a handled operation. An app in sync costs no write. After a refresh the
// status is always written, after the annotation's removal: `tether app get
// --refresh` returns the app as that write leaves it.
func (r *Reconciler) writeStatus(ctx context.Context, orig, app *v1alpha1.Application, refresh string, clearOp bool) error {
	if refresh != "" || clearOp {
		patch := map[string]any{}
		if refresh != "" {
			patch["metadata"] = map[string]any{"annotations": map[string]any{v1alpha1.RefreshAnnotation: nil}}
		}
		if clearOp {
			patch["operation"] = nil
		}
		b, _ := json.Marshal(patch)
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationKind))
		u.SetNamespace(app.Namespace)
		u.SetName(app.Name)
		if err := r.client.Patch(ctx, u, client.RawPatch(types.MergePatchType, b)); err != nil {
			return fmt.Errorf("application %s/%s: clear refresh/operation: %w", app.Namespace, app.Name, err)
		}
	}
	a, b := orig.Status.DeepCopy(), app.Status.DeepCopy()
	a.ReconciledAt, b.ReconciledAt = nil, nil
	stale := orig.Status.ReconciledAt == nil || time.Since(orig.Status.ReconciledAt.Time) >= r.opts.StatusRefresh
	if equality.Semantic.DeepEqual(a, b) && !stale && refresh == "" {
		return nil
	}
	now := metav1.Now()
	app.Status.ReconciledAt = &now
	patch, err := statusPatch(&orig.Status, &app.Status)
	if err != nil {
		return fmt.Errorf("application %s/%s: write status: %w", app.Namespace, app.Name, err)
	}
	if err := r.client.Status().Patch(ctx, app, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("application %s/%s: write status: %w", app.Namespace, app.Name, err)
	}
	return nil
}

// statusPatch is the merge patch from status a to b: only what changed,
// with cleared fields sent as nulls. It carries no resourceVersion (earlier
// writes of this reconcile moved it on), so it cannot conflict, and it is
// computed from the statuses alone rather than from two whole objects.
func statusPatch(a, b *v1alpha1.ApplicationStatus) ([]byte, error) {
	aj, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	bj, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	diff, err := jsonpatch.CreateMergePatch(aj, bj)
	if err != nil {
		return nil, err
	}
	return append(append([]byte(`{"status":`), diff...), '}'), nil
}

// validate returns the problems that stop an app before any comparison.
func (r *Reconciler) validate(ctx context.Context, app *v1alpha1.Application, raw *unstructured.Unstructured) []string {
	msgs := unsupportedFields(app, raw)
	msgs = append(msgs, sourceProblems(app)...)
	msgs = append(msgs, namespaceMetadataProblems(app.Spec.SyncPolicy)...)
	if err := r.checkProject(ctx, app); err != nil {
		msgs = append(msgs, err.Error())
	}
	return msgs
}

// writeInvalid records an app that cannot be compared at all.
func (r *Reconciler) writeInvalid(ctx context.Context, app *v1alpha1.Application, raw *unstructured.Unstructured, msgs []string) error {
	orig := app.DeepCopy()
	if app.Name == "" {
		app.Name, app.Namespace = raw.GetName(), raw.GetNamespace()
	}
	conds := make([]v1alpha1.ApplicationCondition, 0, len(msgs))
	for _, m := range msgs {
		typ := v1alpha1.ConditionInvalidSpecError
		if containsAny(m, "not supported", "does not support") {
			typ = v1alpha1.ConditionUnsupportedField
		}
		conds = append(conds, record.Condition(typ, m))
	}
	record.SetConditions(&app.Status, conds, metav1.Now())
	app.Status.Sync.Status = v1alpha1.SyncStatusUnknown
	if app.Operation != nil {
		r.failOperation(app, app.Operation, fmt.Errorf("%s", msgs[0]), metav1.Now())
	}
	r.event(app, "Warning", "InvalidSpec", msgs[0])
	return r.writeStatus(ctx, orig, app, app.Annotations[v1alpha1.RefreshAnnotation], app.Operation != nil)
}

// event emits a Kubernetes Event about the app.
func (r *Reconciler) event(app *v1alpha1.Application, typ, reason, msg string) {
	if r.recorder == nil {
		return
	}
	if len(msg) > 1000 {
		msg = msg[:1000] + "..."
	}
	ref := app.DeepCopy()
	ref.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationKind))
	r.recorder.Eventf(ref, nil, typ, reason, "Sync", "%s", msg)
}

type loggerKey struct{}

func withLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

func fromCtx(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
