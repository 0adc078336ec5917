// Package v1alpha1 holds the Go types of the argoproj.io/v1alpha1 kinds that
// tether serves: Application and AppProject. The types are tether's own,
// written for the subset of fields tether supports (docs/compat.md); the
// CRDs keep unknown fields so that a field tether does not support reaches
// the controller and is reported instead of silently dropped.
//
// +kubebuilder:object:generate=true
// +groupName=argoproj.io
package v1alpha1
