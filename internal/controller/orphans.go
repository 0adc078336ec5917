package controller

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"

	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/project"
)

// orphanTTL is how long one namespace's scan for orphaned objects serves
// the apps of that namespace before it is made again (a refresh makes it
// at once).
const orphanTTL = time.Minute

// orphanKinds never count as orphaned: what the cluster makes and
// refreshes by itself.
var orphanKinds = map[schema.GroupKind]bool{
	{Kind: "Event"}:                                                   true,
	{Group: "events.k8s.io", Kind: "Event"}:                           true,
	{Kind: "Endpoints"}:                                               true,
	{Group: "discovery.k8s.io", Kind: "EndpointSlice"}:                true,
	{Group: "coordination.k8s.io", Kind: "Lease"}:                     true,
	{Group: "authorization.k8s.io", Kind: "LocalSubjectAccessReview"}: true,
}

// orphanScan is one namespace's untracked top-level objects, sorted by
// their names as orphanName writes them.
type orphanScan struct {
	at      time.Time
	objects []orphan
}

// orphan is one untracked object.
type orphan struct {
	gk   schema.GroupKind
	name string
}

// orphanCache holds the latest scan per cluster and namespace.
type orphanCache struct {
	mu    sync.Mutex
	scans map[string]orphanScan
}

// metadataClient is the target's metadata-only client, made on first use.
func (t *target) metadataClient() (metadata.Interface, error) {
	t.mdOnce.Do(func() { t.md, t.mdErr = metadata.NewForConfig(t.client.Config) })
	return t.md, t.mdErr
}

// orphans lists the top-level objects of namespace that no app tracks and
// the project does not exclude (its ignore list, kinds it does not allow,
// the service account "default", the CA ConfigMap, the kubernetes
// Service).
func (r *Reconciler) orphans(ctx context.Context, t *target, proj *project.Project, namespace string, fresh bool) ([]string, error) {
	key := t.info().Server + "|" + namespace
	r.orphanage.mu.Lock()
	if r.orphanage.scans == nil {
		r.orphanage.scans = map[string]orphanScan{}
	}
	scan, ok := r.orphanage.scans[key]
	r.orphanage.mu.Unlock()
	if !ok || fresh || time.Since(scan.at) > orphanTTL {
		md, err := t.metadataClient()
		if err != nil {
			return nil, err
		}
		objects, err := scanNamespace(ctx, t, md, namespace)
		if err != nil {
			return nil, err
		}
		scan = orphanScan{at: time.Now(), objects: objects}
		r.orphanage.mu.Lock()
		r.orphanage.scans[key] = scan
		r.orphanage.mu.Unlock()
	}
	var out []string
	for _, o := range scan.objects {
		if !proj.IsOrphanIgnored(o.gk.Group, o.gk.Kind, o.name) {
			out = append(out, orphanName(o.gk, o.name))
		}
	}
	return out, nil
}

// scanNamespace lists, by metadata, every kind of namespaced object the
// cluster serves in namespace, and keeps those without an owner and
// without an app's tracking label.
func scanNamespace(ctx context.Context, t *target, md metadata.Interface, namespace string) ([]orphan, error) {
	lists, err := t.client.Discovery.ServerPreferredNamespacedResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("discover the cluster's kinds: %w", err)
	}
	var out []orphan
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, res := range l.APIResources {
			gk := schema.GroupKind{Group: gv.Group, Kind: res.Kind}
			if strings.Contains(res.Name, "/") || !slices.Contains(res.Verbs, "list") || orphanKinds[gk] {
				continue
			}
			items, err := md.Resource(gv.WithResource(res.Name)).Namespace(namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue // a kind this identity may not list, or gone
			}
			for _, it := range items.Items {
				if len(it.OwnerReferences) > 0 || it.Labels[inventory.AppLabel] != "" || clusterMade(gk, namespace, it.Name, it.Annotations) {
					continue
				}
				out = append(out, orphan{gk: gk, name: it.Name})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return orphanName(out[i].gk, out[i].name) < orphanName(out[j].gk, out[j].name) })
	return out, nil
}

// clusterMade tells the objects Kubernetes makes in every namespace.
func clusterMade(gk schema.GroupKind, namespace, name string, annotations map[string]string) bool {
	switch {
	case gk.Group != "":
		return false
	case gk.Kind == "ServiceAccount" && name == "default",
		gk.Kind == "ConfigMap" && name == "kube-root-ca.crt",
		gk.Kind == "Service" && name == "kubernetes" && namespace == "default",
		gk.Kind == "Secret" && annotations["kubernetes.io/service-account.name"] == "default":
		return true
	}
	return false
}

func orphanName(gk schema.GroupKind, name string) string {
	if gk.Group == "" {
		return gk.Kind + "/" + name
	}
	return gk.Kind + "." + gk.Group + "/" + name
}

// orphanMessage is the OrphanedResourceWarning condition's message.
func orphanMessage(namespace string, objects []string) string {
	const shown = 10
	list := objects
	more := ""
	if len(list) > shown {
		more = fmt.Sprintf(" and %d more", len(list)-shown)
		list = list[:shown]
	}
	noun := "objects"
	if len(objects) == 1 {
		noun = "object"
	}
	return fmt.Sprintf("Application has %d orphaned %s in namespace %s (no app tracks them): %s%s", len(objects), noun, namespace, strings.Join(list, ", "), more)
}
