package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// SyncWaveAnnotation orders objects in waves (any integer, default 0).
const SyncWaveAnnotation = "argocd.argoproj.io/sync-wave"

// kindOrder is the order kinds are applied in within one wave: what others
// depend on first (namespaces, CRDs, RBAC, config), workloads after, and
// unknown kinds (custom resources) last.
var kindOrder = func() map[string]int {
	kinds := []string{
		"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
		"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
		"StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition",
		"ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList",
		"Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
		"ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
		"StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
		"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
	}
	m := make(map[string]int, len(kinds))
	for i, k := range kinds {
		m[k] = i
	}
	return m
}()

// KindRank is the position of a kind in the apply order.
func KindRank(kind string) int {
	if r, ok := kindOrder[kind]; ok {
		return r
	}
	return len(kindOrder)
}

// Wave returns the sync wave of obj; a value that is not an integer is an
// error naming the object and the annotation.
func Wave(obj *unstructured.Unstructured) (int, error) {
	v, ok := obj.GetAnnotations()[SyncWaveAnnotation]
	if !ok {
		return 0, nil
	}
	w, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("%s: annotation %s: %q is not an integer", describe(obj), SyncWaveAnnotation, v)
	}
	return w, nil
}

// SortItems orders items for applying: by wave, then kind order, then name.
func SortItems(items []Item) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.Wave != b.Wave {
			return a.Wave < b.Wave
		}
		if ra, rb := KindRank(a.Key.Kind), KindRank(b.Key.Kind); ra != rb {
			return ra < rb
		}
		if a.Key.Namespace != b.Key.Namespace {
			return a.Key.Namespace < b.Key.Namespace
		}
		return a.Key.Name < b.Key.Name
	})
}

func describe(obj *unstructured.Unstructured) string {
	if obj.GetNamespace() == "" {
		return obj.GetKind() + "/" + obj.GetName()
	}
	return obj.GetKind() + "/" + obj.GetNamespace() + "/" + obj.GetName()
}
