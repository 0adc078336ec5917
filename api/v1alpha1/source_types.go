package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ApplicationSource is a Git repository path and how to render it.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ApplicationSource struct {
	// RepoURL is the Git repository, or with Chart the Helm repository
	// (https://...) or OCI registry (oci://host/path or host/path).
	RepoURL string `json:"repoURL"`
	// Path inside the repository; the root when empty.
	// +optional
	Path string `json:"path,omitempty"`
	// TargetRevision is a branch, tag, commit SHA or HEAD; HEAD when empty.
	// With Chart: a chart version or a semantic version constraint
	// ("1.2.*", "^1.2"); the latest release when empty or "*".
	// +optional
	TargetRevision string `json:"targetRevision,omitempty"`
	// Chart names a chart in the Helm repository or OCI registry RepoURL.
	// +optional
	Chart string `json:"chart,omitempty"`
	// +optional
	Directory *ApplicationSourceDirectory `json:"directory,omitempty"`
	// +optional
	Kustomize *ApplicationSourceKustomize `json:"kustomize,omitempty"`
	// +optional
	Helm *ApplicationSourceHelm `json:"helm,omitempty"`
	// Ref names this source, in an app with several sources, so that the
	// other sources' Helm value files can be read from its repository as
	// "$<ref>/path/in/repo.yaml". A source with a Ref and neither Path nor
	// Chart only lends its files and renders nothing.
	// +optional
	Ref string `json:"ref,omitempty"`
	// Plugin (config management plugins) is not supported; kept to report it.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Plugin *runtime.RawExtension `json:"plugin,omitempty"`
}

// RefOnly reports whether the source, in an app with several sources, only
// lends its repository to the others (a Ref, and neither Path nor Chart).
func (s *ApplicationSource) RefOnly() bool {
	return s.Ref != "" && s.Path == "" && s.Chart == ""
}

// ApplicationSourceDirectory renders plain YAML and JSON files.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ApplicationSourceDirectory struct {
	// Recurse into subdirectories.
	// +optional
	Recurse bool `json:"recurse,omitempty"`
	// Include is a glob (or {a,b} list of globs) of files to read.
	// +optional
	Include string `json:"include,omitempty"`
	// Exclude is a glob (or {a,b} list of globs) of files to skip.
	// +optional
	Exclude string `json:"exclude,omitempty"`
	// Jsonnet is not supported; kept to report it.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Jsonnet *runtime.RawExtension `json:"jsonnet,omitempty"`
}

// ApplicationSourceKustomize customises a Kustomize build.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ApplicationSourceKustomize struct {
	// +optional
	NamePrefix string `json:"namePrefix,omitempty"`
	// +optional
	NameSuffix string `json:"nameSuffix,omitempty"`
	// Images overrides, in kustomize's `name=newName:tag` / `name:tag` / `name@digest` forms.
	// +optional
	Images []string `json:"images,omitempty"`
	// +optional
	CommonLabels map[string]string `json:"commonLabels,omitempty"`
	// +optional
	CommonAnnotations map[string]string `json:"commonAnnotations,omitempty"`
	// Namespace sets the namespace of every namespaced object.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Replicas set the replica count of the named workloads.
	// +optional
	Replicas []KustomizeReplica `json:"replicas,omitempty"`
	// Patches are added to the kustomization's patches.
	// +optional
	Patches []KustomizePatch `json:"patches,omitempty"`
	// Components are added to the kustomization's components; paths are
	// relative to the app path and stay inside the repository.
	// +optional
	Components []string `json:"components,omitempty"`
	// IgnoreMissingComponents leaves out Components that do not exist.
	// +optional
	IgnoreMissingComponents bool `json:"ignoreMissingComponents,omitempty"`
	// ForceCommonLabels and ForceCommonAnnotations are accepted: tether
	// always lets CommonLabels and CommonAnnotations win over the
	// kustomization's own values for the same keys.
	// +optional
	ForceCommonLabels bool `json:"forceCommonLabels,omitempty"`
	// +optional
	ForceCommonAnnotations bool `json:"forceCommonAnnotations,omitempty"`
	// LabelWithoutSelector adds CommonLabels to objects only, not to
	// selectors nor (unless LabelIncludeTemplates) to pod templates.
	// +optional
	LabelWithoutSelector bool `json:"labelWithoutSelector,omitempty"`
	// +optional
	LabelIncludeTemplates bool `json:"labelIncludeTemplates,omitempty"`
}

// KustomizeReplica sets the replicas of the workloads named Name.
//
// +kubebuilder:pruning:PreserveUnknownFields
type KustomizeReplica struct {
	Name string `json:"name"`
	// Count is a number, or a string holding one.
	Count intstr.IntOrString `json:"count"`
}

// KustomizePatch is a kustomize patch: a file (Path, relative to the app
// path) or an inline Patch, for the objects Target selects.
//
// +kubebuilder:pruning:PreserveUnknownFields
type KustomizePatch struct {
	// +optional
	Path string `json:"path,omitempty"`
	// +optional
	Patch string `json:"patch,omitempty"`
	// +optional
	Target *KustomizeSelector `json:"target,omitempty"`
	// Options: allowNameChange, allowKindChange.
	// +optional
	Options map[string]bool `json:"options,omitempty"`
}

// KustomizeSelector selects the objects a patch applies to.
//
// +kubebuilder:pruning:PreserveUnknownFields
type KustomizeSelector struct {
	// +optional
	Group string `json:"group,omitempty"`
	// +optional
	Version string `json:"version,omitempty"`
	// +optional
	Kind string `json:"kind,omitempty"`
	// +optional
	Name string `json:"name,omitempty"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// +optional
	LabelSelector string `json:"labelSelector,omitempty"`
	// +optional
	AnnotationSelector string `json:"annotationSelector,omitempty"`
}

// ApplicationSourceHelm customises a Helm chart stored in the repository.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ApplicationSourceHelm struct {
	// ValueFiles are paths relative to the chart, inside the repository.
	// +optional
	ValueFiles []string `json:"valueFiles,omitempty"`
	// IgnoreMissingValueFiles skips value files that do not exist.
	// +optional
	IgnoreMissingValueFiles bool `json:"ignoreMissingValueFiles,omitempty"`
	// Values is a YAML string of values.
	// +optional
	Values string `json:"values,omitempty"`
	// ValuesObject is values as an object; it wins over Values.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	ValuesObject *runtime.RawExtension `json:"valuesObject,omitempty"`
	// Parameters are --set style overrides.
	// +optional
	Parameters []HelmParameter `json:"parameters,omitempty"`
	// ReleaseName defaults to the Application's name.
	// +optional
	ReleaseName string `json:"releaseName,omitempty"`
	// Namespace overrides the release namespace (default: destination namespace).
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// PassCredentials sends the chart repository's credentials also when
	// its index points to an archive on another host (Helm's
	// --pass-credentials); by default they go to the repository's host only.
	// +optional
	PassCredentials bool `json:"passCredentials,omitempty"`
	// SkipCrds leaves out the chart's crds/ directory.
	// +optional
	SkipCrds bool `json:"skipCrds,omitempty"`
	// KubeVersion the chart sees; the destination's when empty.
	// +optional
	KubeVersion string `json:"kubeVersion,omitempty"`
	// APIVersions the chart sees in .Capabilities.APIVersions.
	// +optional
	APIVersions []string `json:"apiVersions,omitempty"`
	// FileParameters set values to the content of files (helm
	// --set-file); paths are relative to the chart, inside the repository.
	// +optional
	FileParameters []HelmFileParameter `json:"fileParameters,omitempty"`
	// SkipSchemaValidation renders without checking the values against
	// the chart's values.schema.json.
	// +optional
	SkipSchemaValidation bool `json:"skipSchemaValidation,omitempty"`
	// SkipTests is accepted: test hooks are never rendered.
	// +optional
	SkipTests bool `json:"skipTests,omitempty"`
	// Version is the Helm version; only "v3" (or empty) is accepted.
	// +optional
	Version string `json:"version,omitempty"`
}

// HelmFileParameter sets the value at Name to the content of the file Path.
//
// +kubebuilder:pruning:PreserveUnknownFields
type HelmFileParameter struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// HelmParameter is one --set style override.
//
// +kubebuilder:pruning:PreserveUnknownFields
type HelmParameter struct {
	Name string `json:"name"`
	// +optional
	Value string `json:"value,omitempty"`
	// ForceString keeps the value a string.
	// +optional
	ForceString bool `json:"forceString,omitempty"`
}
