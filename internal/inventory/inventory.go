package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// The marks tether puts on every object it applies.
const (
	AppLabel           = "tether.dev/app"
	TrackingAnnotation = "tether.dev/tracking-id"
)

// Key identifies an object within one cluster.
type Key struct {
	Group     string
	Kind      string
	Namespace string
	Name      string
}

// KeyOf returns the key of an object.
func KeyOf(obj *unstructured.Unstructured) Key {
	gvk := obj.GroupVersionKind()
	return Key{Group: gvk.Group, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// GroupKind returns the key's group and kind.
func (k Key) GroupKind() schema.GroupKind { return schema.GroupKind{Group: k.Group, Kind: k.Kind} }

// String renders Kind/namespace/name (Kind/name when cluster-scoped), the
// form errors and messages name objects by.
func (k Key) String() string {
	kind := k.Kind
	if k.Group != "" {
		kind = k.Kind + "." + k.Group
	}
	if k.Namespace == "" {
		return kind + "/" + k.Name
	}
	return kind + "/" + k.Namespace + "/" + k.Name
}

// LabelValue is the value of AppLabel for an app: "namespace.name" when it
// fits a label value, else a stable hash of it.
func LabelValue(app types.NamespacedName) string {
	v := app.Namespace + "." + app.Name
	if len(v) <= 63 {
		return v
	}
	sum := sha256.Sum256([]byte(v))
	return "h-" + hex.EncodeToString(sum[:15])
}

// TrackingID is the annotation value for an object of app.
func TrackingID(app types.NamespacedName, k Key) string {
	return fmt.Sprintf("%s/%s:%s/%s:%s/%s", app.Namespace, app.Name, k.Group, k.Kind, k.Namespace, k.Name)
}

// Mark sets the label and annotation of app on obj.
func Mark(obj *unstructured.Unstructured, app types.NamespacedName) {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[AppLabel] = LabelValue(app)
	obj.SetLabels(labels)
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[TrackingAnnotation] = TrackingID(app, KeyOf(obj))
	obj.SetAnnotations(ann)
}

// Owner returns the app named by obj's tracking annotation, and whether the
// annotation matches the object itself (a copy of a tracked object under
// another name does not match).
func Owner(obj *unstructured.Unstructured) (app types.NamespacedName, matches bool, ok bool) {
	id, found := obj.GetAnnotations()[TrackingAnnotation]
	if !found {
		return types.NamespacedName{}, false, false
	}
	appPart, _, found := strings.Cut(id, ":")
	ns, name, found2 := strings.Cut(appPart, "/")
	if !found || !found2 {
		return types.NamespacedName{}, false, false
	}
	app = types.NamespacedName{Namespace: ns, Name: name}
	return app, id == TrackingID(app, KeyOf(obj)), true
}

// BelongsTo reports whether obj was applied by app (and is not a copy).
func BelongsTo(obj *unstructured.Unstructured, app types.NamespacedName) bool {
	owner, matches, ok := Owner(obj)
	return ok && matches && owner == app
}
