// Package record turns what a reconcile saw and did into the Application's
// status, in the shape Argo CD users know: sync and health, resources,
// operationState, conditions and history. It is pure.
package record
