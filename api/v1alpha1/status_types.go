package v1alpha1

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Sync statuses.
const (
	SyncStatusSynced    = "Synced"
	SyncStatusOutOfSync = "OutOfSync"
	SyncStatusUnknown   = "Unknown"
)

// Health statuses, from best to worst.
const (
	HealthHealthy     = "Healthy"
	HealthSuspended   = "Suspended"
	HealthProgressing = "Progressing"
	HealthMissing     = "Missing"
	HealthUnknown     = "Unknown"
	HealthDegraded    = "Degraded"
)

// Operation phases.
const (
	PhaseRunning     = "Running"
	PhaseTerminating = "Terminating"
	PhaseSucceeded   = "Succeeded"
	PhaseFailed      = "Failed"
	PhaseError       = "Error"
)

// Condition types.
const (
	ConditionComparisonError  = "ComparisonError"
	ConditionInvalidSpecError = "InvalidSpecError"
	ConditionUnsupportedField = "UnsupportedField"
	ConditionSyncError        = "SyncError"
	ConditionSharedResource   = "SharedResourceWarning"
	ConditionOrphanedResource = "OrphanedResourceWarning"
	ConditionRepeatedResource = "RepeatedResourceWarning"
	ConditionDeletionError    = "DeletionError"
	ConditionUnknownError     = "UnknownError"
)

// ApplicationStatus is the observed state of an Application, in the shape
// Argo CD users know.
type ApplicationStatus struct {
	// +optional
	Resources []ResourceStatus `json:"resources,omitempty"`
	// +optional
	Sync SyncStatus `json:"sync,omitempty"`
	// +optional
	Health HealthStatus `json:"health,omitempty"`
	// +optional
	History []RevisionHistory `json:"history,omitempty"`
	// +optional
	Conditions []ApplicationCondition `json:"conditions,omitempty"`
	// +optional
	ReconciledAt *metav1.Time `json:"reconciledAt,omitempty"`
	// +optional
	OperationState *OperationState `json:"operationState,omitempty"`
	// SourceType is Directory, Kustomize or Helm.
	// +optional
	SourceType string `json:"sourceType,omitempty"`
	// SourceTypes are the types of an app's several sources, by position
	// ("" for a source that only lends its files).
	// +optional
	SourceTypes []string `json:"sourceTypes,omitempty"`
	// +optional
	Summary ApplicationSummary `json:"summary,omitempty"`
}

// ApplicationSummary lists what the app runs.
type ApplicationSummary struct {
	// +optional
	Images []string `json:"images,omitempty"`
	// ExternalURLs are the addresses the app's Ingresses serve, and the
	// links of its objects' link.argocd.argoproj.io/* annotations.
	// +optional
	ExternalURLs []string `json:"externalURLs,omitempty"`
}

// ResourceStatus is one managed object.
type ResourceStatus struct {
	// +optional
	Group   string `json:"group,omitempty"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// +optional
	Status string `json:"status,omitempty"`
	// +optional
	Health *HealthStatus `json:"health,omitempty"`
	// +optional
	Hook bool `json:"hook,omitempty"`
	// +optional
	RequiresPruning bool `json:"requiresPruning,omitempty"`
	// +optional
	SyncWave int64 `json:"syncWave,omitempty"`
}

// SyncStatus compares the cluster with Git.
type SyncStatus struct {
	Status string `json:"status"`
	// Revision is the commit compared against.
	// +optional
	Revision string `json:"revision,omitempty"`
	// Revisions are the commits (or chart versions) of an app's several
	// sources, by position.
	// +optional
	Revisions []string `json:"revisions,omitempty"`
	// +optional
	ComparedTo ComparedTo `json:"comparedTo,omitempty"`
}

// ComparedTo is the source and destination of the last comparison.
type ComparedTo struct {
	// +optional
	Source ApplicationSource `json:"source,omitzero"`
	// +optional
	Sources []ApplicationSource `json:"sources,omitempty"`
	// +optional
	Destination ApplicationDestination `json:"destination,omitempty"`
}

// HealthStatus is a health and why.
type HealthStatus struct {
	// +optional
	Status string `json:"status,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
}

// ApplicationCondition is a problem or warning about the app.
type ApplicationCondition struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
}

// RevisionHistory is one deployment of the app.
type RevisionHistory struct {
	ID       int64  `json:"id"`
	Revision string `json:"revision"`
	// +optional
	DeployedAt metav1.Time `json:"deployedAt"`
	// +optional
	DeployStartedAt *metav1.Time `json:"deployStartedAt,omitempty"`
	// +optional
	Source ApplicationSource `json:"source,omitzero"`
	// Revisions and Sources record a deployment of an app with several
	// sources, by position.
	// +optional
	Revisions []string `json:"revisions,omitempty"`
	// +optional
	Sources []ApplicationSource `json:"sources,omitempty"`
	// +optional
	InitiatedBy OperationInitiator `json:"initiatedBy,omitempty"`
	// Author of the commit, "Name <email>".
	// +optional
	Author string `json:"author,omitempty"`
	// Message is the commit's subject line.
	// +optional
	Message string `json:"message,omitempty"`
}

// PruneApprovalPending starts the message of a sync that applied every
// wave and waits for a person to approve pruning objects marked
// Prune=confirm (see DeletionApprovedAnnotation).
const PruneApprovalPending = "waiting for pruning confirmation of "

// WaitsForApproval reports whether the operation is a running sync that
// waits for its prune to be approved.
func (s *OperationState) WaitsForApproval() bool {
	return s != nil && s.Phase == PhaseRunning && strings.HasPrefix(s.Message, PruneApprovalPending)
}

// OperationState is the state of the last or running operation.
type OperationState struct {
	Operation Operation `json:"operation"`
	Phase     string    `json:"phase"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	SyncResult *SyncOperationResult `json:"syncResult,omitempty"`
	StartedAt  metav1.Time          `json:"startedAt"`
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// +optional
	RetryCount int64 `json:"retryCount,omitempty"`
}

// SyncOperationResult is the outcome of a sync.
type SyncOperationResult struct {
	// +optional
	Resources []ResourceResult `json:"resources,omitempty"`
	Revision  string           `json:"revision"`
	// +optional
	Source ApplicationSource `json:"source,omitzero"`
	// +optional
	Revisions []string `json:"revisions,omitempty"`
	// +optional
	Sources []ApplicationSource `json:"sources,omitempty"`
}

// ResourceResult is what a sync did to one object.
type ResourceResult struct {
	// +optional
	Group   string `json:"group,omitempty"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Status is Synced, SyncFailed, Pruned or PruneSkipped.
	// +optional
	Status string `json:"status,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	HookType string `json:"hookType,omitempty"`
	// +optional
	HookPhase string `json:"hookPhase,omitempty"`
	// +optional
	SyncPhase string `json:"syncPhase,omitempty"`
	// +optional
	SyncWave int64 `json:"syncWave,omitempty"`
}
