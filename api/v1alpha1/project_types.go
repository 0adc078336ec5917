package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultProject is the project every Application without one belongs to;
// it allows everything.
const DefaultProject = "default"

// AppProject groups Applications and fences them in.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=appprojects,shortName=appproj;appprojs
type AppProject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              AppProjectSpec `json:"spec"`
}

// AppProjectList is a list of AppProjects.
//
// +kubebuilder:object:root=true
type AppProjectList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AppProject `json:"items"`
}

// AppProjectSpec holds the project's rules.
//
// +kubebuilder:pruning:PreserveUnknownFields
type AppProjectSpec struct {
	// +optional
	Description string `json:"description,omitempty"`
	// SourceRepos are globs of allowed repository URLs.
	// +optional
	SourceRepos []string `json:"sourceRepos,omitempty"`
	// Destinations are allowed server/name/namespace globs.
	// +optional
	Destinations []ApplicationDestination `json:"destinations,omitempty"`
	// +optional
	ClusterResourceWhitelist []GroupKind `json:"clusterResourceWhitelist,omitempty"`
	// +optional
	ClusterResourceBlacklist []GroupKind `json:"clusterResourceBlacklist,omitempty"`
	// +optional
	NamespaceResourceWhitelist []GroupKind `json:"namespaceResourceWhitelist,omitempty"`
	// +optional
	NamespaceResourceBlacklist []GroupKind `json:"namespaceResourceBlacklist,omitempty"`
	// SourceNamespaces are globs of the namespaces, other than tether's
	// own, whose Applications may use this project.
	// +optional
	SourceNamespaces []string `json:"sourceNamespaces,omitempty"`
	// SyncWindows allow or deny syncs at scheduled times.
	// +optional
	SyncWindows []SyncWindow `json:"syncWindows,omitempty"`
	// OrphanedResources, when set, warns on each app of the project whose
	// destination namespace holds top-level objects no app tracks.
	// +optional
	OrphanedResources *OrphanedResourcesMonitorSettings `json:"orphanedResources,omitempty"`
	// SignatureKeys are the OpenPGP keys one of which must have signed
	// every Git commit the project's apps sync to; their public keys are
	// in the ConfigMap argocd-gpg-keys-cm of tether's namespace.
	// +optional
	SignatureKeys []SignatureKey `json:"signatureKeys,omitempty"`
	// DestinationServiceAccounts name the service account a sync runs as,
	// per destination, when the controller runs with --sync-impersonation:
	// the first entry whose server and namespace globs match the app's
	// destination is used.
	// +optional
	DestinationServiceAccounts []ApplicationDestinationServiceAccount `json:"destinationServiceAccounts,omitempty"`
}

// OrphanedResourcesMonitorSettings configure the orphaned objects warning.
type OrphanedResourcesMonitorSettings struct {
	// Warn gives apps with orphaned objects an OrphanedResourceWarning
	// condition (default true).
	// +optional
	Warn *bool `json:"warn,omitempty"`
	// Ignore lists objects never counted as orphaned.
	// +optional
	Ignore []OrphanedResourceKey `json:"ignore,omitempty"`
}

// OrphanedResourceKey matches objects by group, kind and name globs (an
// empty field matches anything).
type OrphanedResourceKey struct {
	// +optional
	Group string `json:"group,omitempty"`
	// +optional
	Kind string `json:"kind,omitempty"`
	// +optional
	Name string `json:"name,omitempty"`
}

// SignatureKey names an OpenPGP public key by its ID.
type SignatureKey struct {
	// KeyID is the key's ID: 16 hex digits.
	KeyID string `json:"keyID"`
}

// ApplicationDestinationServiceAccount is the service account syncs to a
// destination run as.
type ApplicationDestinationServiceAccount struct {
	// Server is a glob of the destination cluster's API server URL.
	Server string `json:"server"`
	// Namespace is a glob of the destination namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// DefaultServiceAccount is "name" (in the app's destination namespace)
	// or "namespace:name".
	DefaultServiceAccount string `json:"defaultServiceAccount"`
}

// SyncWindow opens (allow) or closes (deny) syncing for matching
// Applications for Duration after each time Schedule fires.
type SyncWindow struct {
	// Kind is allow or deny.
	Kind string `json:"kind"`
	// Schedule is a cron expression of five fields.
	Schedule string `json:"schedule"`
	// Duration is how long the window stays open after it starts (1h, 30m).
	Duration string `json:"duration"`
	// Applications are globs of the Application names the window applies to.
	// +optional
	Applications []string `json:"applications,omitempty"`
	// Namespaces are globs of destination namespaces.
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`
	// Clusters are globs of destination cluster names or servers.
	// +optional
	Clusters []string `json:"clusters,omitempty"`
	// ManualSync lets a person sync inside a deny window (or outside the
	// allow windows).
	// +optional
	ManualSync bool `json:"manualSync,omitempty"`
	// TimeZone of the schedule (IANA name); UTC when empty.
	// +optional
	TimeZone string `json:"timeZone,omitempty"`
}

// GroupKind names a kind of object.
type GroupKind struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
}
