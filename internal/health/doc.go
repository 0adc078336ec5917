// Package health computes the health of live Kubernetes objects, in the
// model Argo CD users know: Healthy, Suspended, Progressing, Missing,
// Unknown and Degraded.
//
// The package is pure: Compute takes one object and returns its Status,
// Worst folds several statuses into the one an application shows. Built-in
// kinds (workloads, Pods, Services, Ingresses, PersistentVolumeClaims, Jobs,
// APIServices, HorizontalPodAutoscalers, CustomResourceDefinitions,
// Namespaces) follow Argo CD's rules; every other kind is judged by
// kstatus-like conventions on status.observedGeneration and the Ready,
// Stalled, Reconciling and Available conditions, so objects without a
// status (ConfigMaps, Secrets, RBAC) are Healthy.
package health
