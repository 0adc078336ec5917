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
	// +optional
	SourceNamespaces []string `json:"sourceNamespaces,omitempty"`
}

// GroupKind names a kind of object.
type GroupKind struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
}
