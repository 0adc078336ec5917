package v1alpha1

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Well-known names shared with existing manifests.
const (
	// InClusterServer is the destination server meaning "the cluster tether runs against".
	InClusterServer = "https://kubernetes.default.svc"
	// InClusterName is the destination name of that cluster.
	InClusterName = "in-cluster"
	// ResourcesFinalizer makes deleting an Application delete its objects.
	ResourcesFinalizer = "resources-finalizer.argocd.argoproj.io"
	// PostDeleteFinalizer, added by the controller to an app with
	// PostDelete hooks, holds its deletion until they ran;
	// PostDeleteCleanupFinalizer until they were cleaned up.
	PostDeleteFinalizer        = "post-delete-finalizer.argocd.argoproj.io"
	PostDeleteCleanupFinalizer = "post-delete-finalizer.argocd.argoproj.io/cleanup"
	// RefreshAnnotation asks for an immediate refresh ("normal" or "hard").
	RefreshAnnotation = "argocd.argoproj.io/refresh"
	// SyncOptionsAnnotation holds per-object sync options.
	SyncOptionsAnnotation = "argocd.argoproj.io/sync-options"
	// CompareOptionsAnnotation holds per-object compare options.
	CompareOptionsAnnotation = "argocd.argoproj.io/compare-options"
	// DeletionApprovedAnnotation on an Application, an RFC 3339 time,
	// approves pruning the objects marked Prune=confirm (in the sync
	// started at or before that time) and deleting those marked
	// Delete=confirm (when the app was deleted at or before it).
	DeletionApprovedAnnotation = "argocd.argoproj.io/deletion-approved"
)

// DeletionApproved reports whether the app's deletion-approved annotation
// approves what waits since the given time: the annotation must be an
// RFC 3339 time no earlier than since (both taken to the second, the
// precision of Kubernetes timestamps). An approval given before a sync
// started does not approve that sync's prunes. A value that is not such a
// time approves nothing and is returned as an error naming the annotation.
func (a *Application) DeletionApproved(since time.Time) (bool, error) {
	v, ok := a.Annotations[DeletionApprovedAnnotation]
	if !ok {
		return false, nil
	}
	at, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return false, fmt.Errorf("annotation %s: %q is not an RFC 3339 time (e.g. %s)", DeletionApprovedAnnotation, v, time.Now().UTC().Format(time.RFC3339))
	}
	return !at.Before(since.Truncate(time.Second)), nil
}

// Application is a set of Kubernetes objects rendered from a Git source and
// kept in sync with a destination cluster and namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=applications,shortName=app;apps
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Sync Status",type=string,JSONPath=`.status.sync.status`
// +kubebuilder:printcolumn:name="Health Status",type=string,JSONPath=`.status.health.status`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.sync.revision`,priority=10
type Application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ApplicationSpec `json:"spec"`
	// Status is the observed state, written by tether alone. Its schema is
	// open and it is one atomic value for server-side apply, which makes a
	// status write cost the API server about half as much.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	// +structType=atomic
	Status ApplicationStatus `json:"status,omitempty"`
	// Operation asks the controller to run a sync; it is cleared when the
	// operation starts and its outcome goes to status.operationState.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Operation *Operation `json:"operation,omitempty"`
}

// ApplicationList is a list of Applications.
//
// +kubebuilder:object:root=true
type ApplicationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Application `json:"items"`
}

// ApplicationSpec is the desired state of an Application.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ApplicationSpec struct {
	// Project is the AppProject the Application belongs to; "default" when empty.
	// +optional
	Project string `json:"project,omitempty"`
	// Source is where the manifests come from.
	// +optional
	Source *ApplicationSource `json:"source,omitempty"`
	// Sources are several sources whose manifests make up the app together;
	// when set, Source is ignored. A source with a Ref lends its repository
	// to the others' Helm value files ($ref/path).
	// +optional
	Sources []ApplicationSource `json:"sources,omitempty"`
	// Destination is the cluster and namespace to deploy to.
	Destination ApplicationDestination `json:"destination"`
	// SyncPolicy controls when and how a sync is run.
	// +optional
	SyncPolicy *SyncPolicy `json:"syncPolicy,omitempty"`
	// IgnoreDifferences lists fields left out of the comparison.
	// +optional
	IgnoreDifferences []ResourceIgnoreDifferences `json:"ignoreDifferences,omitempty"`
	// RevisionHistoryLimit bounds status.history; 10 when unset.
	// +optional
	RevisionHistoryLimit *int64 `json:"revisionHistoryLimit,omitempty"`
	// Info is free-form information shown with the app.
	// +optional
	Info []Info `json:"info,omitempty"`
}

// Info is a name/value pair shown with the app.
//
// +kubebuilder:pruning:PreserveUnknownFields
type Info struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ApplicationDestination names a cluster (by server URL or name) and a
// default namespace.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ApplicationDestination struct {
	// +optional
	Server string `json:"server,omitempty"`
	// +optional
	Name string `json:"name,omitempty"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// SyncPolicy controls automated sync and sync options.
//
// +kubebuilder:pruning:PreserveUnknownFields
type SyncPolicy struct {
	// Automated syncs when Git or the cluster changes.
	// +optional
	Automated *SyncPolicyAutomated `json:"automated,omitempty"`
	// SyncOptions such as CreateNamespace=true.
	// +optional
	SyncOptions []string `json:"syncOptions,omitempty"`
	// Retry of failed syncs.
	// +optional
	Retry *RetryStrategy `json:"retry,omitempty"`
	// ManagedNamespaceMetadata is set on the destination namespace by every
	// sync, with the sync option CreateNamespace=true.
	// +optional
	ManagedNamespaceMetadata *ManagedNamespaceMetadata `json:"managedNamespaceMetadata,omitempty"`
}

// ManagedNamespaceMetadata is the labels and annotations tether keeps on
// the namespace that CreateNamespace=true creates. Removing one from here
// removes it from the namespace at the next sync; what others set stays.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ManagedNamespaceMetadata struct {
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// SyncPolicyAutomated turns on automated sync.
//
// +kubebuilder:pruning:PreserveUnknownFields
type SyncPolicyAutomated struct {
	// Prune deletes objects no longer in Git.
	// +optional
	Prune bool `json:"prune,omitempty"`
	// SelfHeal reverts changes made to the cluster outside Git.
	// +optional
	SelfHeal bool `json:"selfHeal,omitempty"`
	// AllowEmpty allows syncing to an empty set of objects (which prunes all).
	// +optional
	AllowEmpty bool `json:"allowEmpty,omitempty"`
	// Enabled turns automation off when false; on when unset.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
}

// HasMultipleSources reports whether the app uses spec.sources, which
// then replaces spec.source.
func (s *ApplicationSpec) HasMultipleSources() bool { return len(s.Sources) > 0 }

// IsEnabled reports whether automated sync is on.
func (a *SyncPolicyAutomated) IsEnabled() bool {
	return a != nil && (a.Enabled == nil || *a.Enabled)
}

// RetryStrategy retries a failed sync.
//
// +kubebuilder:pruning:PreserveUnknownFields
type RetryStrategy struct {
	// +optional
	Limit int64 `json:"limit,omitempty"`
	// +optional
	Backoff *Backoff `json:"backoff,omitempty"`
	// Refresh retries with the latest revision instead of the failed one.
	// Tether always does: a retry resolves the sync's revision again (a
	// branch moves on), and a new commit replaces a pending retry of an
	// automated sync.
	// +optional
	Refresh bool `json:"refresh,omitempty"`
}

// Backoff is the wait between retries.
//
// +kubebuilder:pruning:PreserveUnknownFields
type Backoff struct {
	// +optional
	Duration string `json:"duration,omitempty"`
	// +optional
	Factor *int64 `json:"factor,omitempty"`
	// +optional
	MaxDuration string `json:"maxDuration,omitempty"`
}

// ResourceIgnoreDifferences leaves fields of matching objects out of the comparison.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ResourceIgnoreDifferences struct {
	// +optional
	Group string `json:"group,omitempty"`
	Kind  string `json:"kind"`
	// +optional
	Name string `json:"name,omitempty"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// +optional
	JSONPointers []string `json:"jsonPointers,omitempty"`
	// +optional
	JQPathExpressions []string `json:"jqPathExpressions,omitempty"`
	// +optional
	ManagedFieldsManagers []string `json:"managedFieldsManagers,omitempty"`
}

// String says who or what started an operation: "alice (user)",
// "tether (drift)", or the bare trigger.
func (i OperationInitiator) String() string {
	trigger := func(d string) string {
		if i.Trigger != "" {
			return i.Trigger
		}
		return d
	}
	switch {
	case i.Username != "":
		return i.Username + " (" + trigger("user") + ")"
	case i.Automated:
		return "tether (" + trigger("auto") + ")"
	}
	return trigger("user")
}

// Operation is a requested sync.
//
// +kubebuilder:pruning:PreserveUnknownFields
type Operation struct {
	// +optional
	Sync *SyncOperation `json:"sync,omitempty"`
	// +optional
	InitiatedBy OperationInitiator `json:"initiatedBy,omitempty"`
	// +optional
	Retry *RetryStrategy `json:"retry,omitempty"`
	// Info is free-form; the CLI puts a request-id here to find the
	// operation's outcome in status.operationState.
	// +optional
	Info []Info `json:"info,omitempty"`
}

// RequestIDInfo names the Info entry that identifies a request.
const RequestIDInfo = "request-id"

// RequestID returns the operation's request id, if any.
func (o *Operation) RequestID() string {
	for _, i := range o.Info {
		if i.Name == RequestIDInfo {
			return i.Value
		}
	}
	return ""
}

// SyncOperation is a sync request.
//
// +kubebuilder:pruning:PreserveUnknownFields
type SyncOperation struct {
	// Revision to sync to; the source's targetRevision when empty.
	// +optional
	Revision string `json:"revision,omitempty"`
	// Prune objects no longer in Git.
	// +optional
	Prune bool `json:"prune,omitempty"`
	// DryRun computes the result without changing the cluster.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`
	// +optional
	SyncOptions []string `json:"syncOptions,omitempty"`
	// Source overrides the app's source (used by rollback).
	// +optional
	Source *ApplicationSource `json:"source,omitempty"`
	// Revisions, for an app with several sources, are the revisions to sync
	// each source to, by position in spec.sources; an empty entry (or a
	// missing one) means that source's targetRevision.
	// +optional
	Revisions []string `json:"revisions,omitempty"`
	// Sources override the app's sources (used by rollback).
	// +optional
	Sources []ApplicationSource `json:"sources,omitempty"`
	// Resources, when set, makes the sync selective: only these objects
	// are applied (or pruned, with Prune), no hook runs, and the sync is not
	// recorded in the history.
	// +optional
	Resources []SyncOperationResource `json:"resources,omitempty"`
}

// SyncOperationResource names one object of a selective sync; an empty
// namespace matches the object in any namespace.
//
// +kubebuilder:pruning:PreserveUnknownFields
type SyncOperationResource struct {
	// +optional
	Group string `json:"group,omitempty"`
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// String is GROUP:KIND:NAMESPACE/NAME, as the CLI takes it.
func (r SyncOperationResource) String() string {
	name := r.Name
	if r.Namespace != "" {
		name = r.Namespace + "/" + r.Name
	}
	return r.Group + ":" + r.Kind + ":" + name
}

// OperationInitiator says who or what started an operation.
//
// +kubebuilder:pruning:PreserveUnknownFields
type OperationInitiator struct {
	// +optional
	Username string `json:"username,omitempty"`
	// +optional
	Automated bool `json:"automated,omitempty"`
	// Trigger is what made tether act: "auto" (a new commit), "drift",
	// "user", "rollback", "webhook".
	// +optional
	Trigger string `json:"trigger,omitempty"`
}

// PinRevision returns a sync operation that syncs the source at position
// (1-based, as `--source-position`; 0 for an app with one source) to
// revision, and the other sources to their targetRevision. An empty
// revision syncs every source to its targetRevision.
func (s *ApplicationSpec) PinRevision(revision string, position int) (SyncOperation, error) {
	n := len(s.Sources)
	switch {
	case !s.HasMultipleSources() && position > 1:
		return SyncOperation{}, fmt.Errorf("source position %d: the app has one source (spec.source)", position)
	case !s.HasMultipleSources():
		return SyncOperation{Revision: revision}, nil
	case position < 0 || position > n:
		return SyncOperation{}, fmt.Errorf("source position %d: the app has %d sources (spec.sources), numbered 1 to %d", position, n, n)
	case revision == "" && position > 0:
		return SyncOperation{}, fmt.Errorf("source position %d: give the revision for it too", position)
	case revision == "":
		return SyncOperation{}, nil
	case position == 0:
		return SyncOperation{}, fmt.Errorf("the app has %d sources (spec.sources): say which one revision %q is for with its position, 1 to %d", n, revision, n)
	}
	revs := make([]string, n)
	revs[position-1] = revision
	return SyncOperation{Revisions: revs}, nil
}
