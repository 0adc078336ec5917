package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ApplicationSet generates Applications from one template and the parameter
// sets of its generators.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=applicationsets,shortName=appset;appsets
// +kubebuilder:subresource:status
type ApplicationSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ApplicationSetSpec `json:"spec"`
	// +optional
	Status ApplicationSetStatus `json:"status,omitempty"`
}

// ApplicationSetList is a list of ApplicationSets.
//
// +kubebuilder:object:root=true
type ApplicationSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ApplicationSet `json:"items"`
}

// ApplicationSetSpec is the desired state of an ApplicationSet.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ApplicationSetSpec struct {
	// Generators produce the parameter sets; each set renders one Application.
	Generators []ApplicationSetGenerator `json:"generators"`
	// Template is the Application every parameter set is substituted into.
	Template ApplicationSetTemplate `json:"template"`
	// GoTemplate renders with Go text/template (and Sprig) instead of
	// plain {{param}} substitution.
	// +optional
	GoTemplate bool `json:"goTemplate,omitempty"`
	// GoTemplateOptions are text/template options such as missingkey=error.
	// +optional
	GoTemplateOptions []string `json:"goTemplateOptions,omitempty"`
	// TemplatePatch is a Go template that renders to YAML or JSON, merged
	// into each rendered Application. Needs goTemplate.
	// +optional
	TemplatePatch string `json:"templatePatch,omitempty"`
	// SyncPolicy controls what the controller may do to generated Applications.
	// +optional
	SyncPolicy *ApplicationSetSyncPolicy `json:"syncPolicy,omitempty"`
	// PreservedFields are label and annotation keys whose current values
	// on generated Applications the set keeps.
	// +optional
	PreservedFields *ApplicationPreservedFields `json:"preservedFields,omitempty"`
	// IgnoreApplicationDifferences are fields of existing generated
	// Applications the set leaves as they are when it updates them.
	// +optional
	IgnoreApplicationDifferences []ApplicationSetIgnoreDifferences `json:"ignoreApplicationDifferences,omitempty"`
}

// ApplicationPreservedFields lists label and annotation keys.
type ApplicationPreservedFields struct {
	// +optional
	Annotations []string `json:"annotations,omitempty"`
	// +optional
	Labels []string `json:"labels,omitempty"`
}

// ApplicationSetIgnoreDifferences names fields of generated Applications
// (under spec) the set does not change once an Application exists.
type ApplicationSetIgnoreDifferences struct {
	// Name is the Application this entry is for; empty means every one.
	// +optional
	Name string `json:"name,omitempty"`
	// JSONPointers are RFC 6901 pointers into the Application, under /spec.
	// +optional
	JSONPointers []string `json:"jsonPointers,omitempty"`
	// JQPathExpressions are jq path expressions into the Application,
	// under .spec.
	// +optional
	JQPathExpressions []string `json:"jqPathExpressions,omitempty"`
}

// ApplicationsSync policies.
const (
	// ApplicationsSyncCreateOnly only creates Applications.
	ApplicationsSyncCreateOnly = "create-only"
	// ApplicationsSyncCreateUpdate creates and updates, never deletes.
	ApplicationsSyncCreateUpdate = "create-update"
	// ApplicationsSyncCreateDelete creates and deletes, never updates.
	ApplicationsSyncCreateDelete = "create-delete"
	// ApplicationsSyncSync creates, updates and deletes (the default).
	ApplicationsSyncSync = "sync"
)

// ApplicationSetSyncPolicy controls what the controller may do to the
// Applications it generates.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ApplicationSetSyncPolicy struct {
	// PreserveResourcesOnDeletion keeps the objects of generated
	// Applications when they (or the ApplicationSet) are deleted.
	// +optional
	PreserveResourcesOnDeletion bool `json:"preserveResourcesOnDeletion,omitempty"`
	// ApplicationsSync is create-only, create-update, create-delete or sync
	// (the default when empty).
	// +optional
	// +kubebuilder:validation:Enum=create-only;create-update;create-delete;sync
	ApplicationsSync string `json:"applicationsSync,omitempty"`
}

// Policy returns the ApplicationsSync policy of p, "sync" when unset.
func (p *ApplicationSetSyncPolicy) Policy() string {
	if p == nil || p.ApplicationsSync == "" {
		return ApplicationsSyncSync
	}
	return p.ApplicationsSync
}

// AllowUpdate tells whether existing generated Applications may be updated.
func (p *ApplicationSetSyncPolicy) AllowUpdate() bool {
	switch p.Policy() {
	case ApplicationsSyncCreateUpdate, ApplicationsSyncSync:
		return true
	}
	return false
}

// AllowDelete tells whether generated Applications no longer generated may
// be deleted.
func (p *ApplicationSetSyncPolicy) AllowDelete() bool {
	switch p.Policy() {
	case ApplicationsSyncCreateDelete, ApplicationsSyncSync:
		return true
	}
	return false
}

// PreservesResources tells whether the objects of generated Applications
// are kept when an Application is deleted.
func (p *ApplicationSetSyncPolicy) PreservesResources() bool {
	return p != nil && p.PreserveResourcesOnDeletion
}

// ApplicationSetTemplate is an Application with templated strings.
type ApplicationSetTemplate struct {
	// +optional
	Metadata ApplicationSetTemplateMeta `json:"metadata,omitempty"`
	// +optional
	Spec ApplicationSpec `json:"spec,omitempty"`
}

// ApplicationSetTemplateMeta is the metadata of generated Applications.
type ApplicationSetTemplateMeta struct {
	// +optional
	Name string `json:"name,omitempty"`
	// Namespace defaults to the ApplicationSet's.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// +optional
	Finalizers []string `json:"finalizers,omitempty"`
}

// ApplicationSetGenerator is one generator of spec.generators: exactly one
// of its generator fields is set.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ApplicationSetGenerator struct {
	// +optional
	List *ListGenerator `json:"list,omitempty"`
	// +optional
	Clusters *ClusterGenerator `json:"clusters,omitempty"`
	// +optional
	Git *GitGenerator `json:"git,omitempty"`
	// +optional
	Matrix *MatrixGenerator `json:"matrix,omitempty"`
	// +optional
	Merge *MergeGenerator `json:"merge,omitempty"`
	// Selector keeps only the parameter sets whose values match it.
	// +optional
	Selector              *metav1.LabelSelector `json:"selector,omitempty"`
	UnsupportedGenerators `json:",inline"`
}

// UnsupportedGenerators are Argo CD generators tether does not run; kept
// to report them.
type UnsupportedGenerators struct {
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	SCMProvider *apiextensionsv1.JSON `json:"scmProvider,omitempty"`
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	ClusterDecisionResource *apiextensionsv1.JSON `json:"clusterDecisionResource,omitempty"`
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	PullRequest *apiextensionsv1.JSON `json:"pullRequest,omitempty"`
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Plugin *apiextensionsv1.JSON `json:"plugin,omitempty"`
}

// ApplicationSetNestedGenerator is a child of a matrix or merge generator.
// A matrix or merge child is kept as raw JSON (a NestedMatrixGenerator or
// NestedMergeGenerator), so the CRD schema is not recursive.
//
// +kubebuilder:pruning:PreserveUnknownFields
type ApplicationSetNestedGenerator struct {
	// +optional
	List *ListGenerator `json:"list,omitempty"`
	// +optional
	Clusters *ClusterGenerator `json:"clusters,omitempty"`
	// +optional
	Git *GitGenerator `json:"git,omitempty"`
	// Matrix holds a NestedMatrixGenerator.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Matrix *apiextensionsv1.JSON `json:"matrix,omitempty"`
	// Merge holds a NestedMergeGenerator.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Merge *apiextensionsv1.JSON `json:"merge,omitempty"`
	// +optional
	Selector              *metav1.LabelSelector `json:"selector,omitempty"`
	UnsupportedGenerators `json:",inline"`
}

// ApplicationSetTerminalGenerator is a child of a nested matrix or merge
// generator: it cannot nest further.
//
// +kubebuilder:object:generate=false
type ApplicationSetTerminalGenerator struct {
	List                  *ListGenerator        `json:"list,omitempty"`
	Clusters              *ClusterGenerator     `json:"clusters,omitempty"`
	Git                   *GitGenerator         `json:"git,omitempty"`
	Selector              *metav1.LabelSelector `json:"selector,omitempty"`
	UnsupportedGenerators `json:",inline"`
}

// NestedMatrixGenerator is the content of ApplicationSetNestedGenerator.Matrix.
//
// +kubebuilder:object:generate=false
type NestedMatrixGenerator struct {
	Generators []ApplicationSetTerminalGenerator `json:"generators"`
}

// NestedMergeGenerator is the content of ApplicationSetNestedGenerator.Merge.
//
// +kubebuilder:object:generate=false
type NestedMergeGenerator struct {
	MergeKeys  []string                          `json:"mergeKeys"`
	Generators []ApplicationSetTerminalGenerator `json:"generators"`
}

// ListGenerator yields one parameter set per element.
type ListGenerator struct {
	// Elements are objects; each one is a parameter set.
	// +optional
	Elements []apiextensionsv1.JSON `json:"elements,omitempty"`
	// ElementsYaml is a (templated) YAML or JSON list of elements, added to Elements.
	// +optional
	ElementsYaml string `json:"elementsYaml,omitempty"`
	// Template overrides fields of spec.template for this generator's
	// Applications. Its schema is left open to keep the CRD small.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Template *ApplicationSetTemplate `json:"template,omitempty"`
}

// ClusterGenerator yields one parameter set per destination cluster.
type ClusterGenerator struct {
	// Selector matches the labels of cluster Secrets; the in-cluster
	// destination without a Secret has no labels.
	// +optional
	Selector metav1.LabelSelector `json:"selector,omitempty"`
	// Values are added as values.<key>; they may reference the cluster's
	// parameters.
	// +optional
	Values map[string]string `json:"values,omitempty"`
	// Template overrides fields of spec.template for this generator's
	// Applications. Its schema is left open to keep the CRD small.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Template *ApplicationSetTemplate `json:"template,omitempty"`
}

// GitGenerator yields parameter sets from the directories or files of a
// Git repository.
type GitGenerator struct {
	RepoURL string `json:"repoURL"`
	// Revision is a branch, tag or commit; HEAD when empty.
	// +optional
	Revision string `json:"revision,omitempty"`
	// Directories yields one parameter set per matching directory.
	// +optional
	Directories []GitDirectoryGeneratorItem `json:"directories,omitempty"`
	// Files yields parameter sets from matching JSON or YAML files.
	// +optional
	Files []GitFileGeneratorItem `json:"files,omitempty"`
	// PathParamPrefix prefixes the path parameters (prefix.path...).
	// +optional
	PathParamPrefix string `json:"pathParamPrefix,omitempty"`
	// Values are added as values.<key>; they may reference the other parameters.
	// +optional
	Values map[string]string `json:"values,omitempty"`
	// Template overrides fields of spec.template for this generator's
	// Applications. Its schema is left open to keep the CRD small.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Template *ApplicationSetTemplate `json:"template,omitempty"`
}

// GitDirectoryGeneratorItem is a glob of directories to include or exclude.
type GitDirectoryGeneratorItem struct {
	Path string `json:"path"`
	// +optional
	Exclude bool `json:"exclude,omitempty"`
}

// GitFileGeneratorItem is a glob of files to read parameters from.
type GitFileGeneratorItem struct {
	Path string `json:"path"`
}

// MatrixGenerator yields the product of the parameter sets of its two
// generators.
type MatrixGenerator struct {
	Generators []ApplicationSetNestedGenerator `json:"generators"`
	// Template overrides fields of spec.template for this generator's
	// Applications. Its schema is left open to keep the CRD small.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Template *ApplicationSetTemplate `json:"template,omitempty"`
}

// MergeGenerator yields the parameter sets of its first generator, each
// overridden by the sets of later generators with equal merge keys.
type MergeGenerator struct {
	MergeKeys  []string                        `json:"mergeKeys"`
	Generators []ApplicationSetNestedGenerator `json:"generators"`
	// Template overrides fields of spec.template for this generator's
	// Applications. Its schema is left open to keep the CRD small.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Template *ApplicationSetTemplate `json:"template,omitempty"`
}

// ApplicationSet condition types.
const (
	ApplicationSetConditionErrorOccurred       = "ErrorOccurred"
	ApplicationSetConditionParametersGenerated = "ParametersGenerated"
	ApplicationSetConditionResourcesUpToDate   = "ResourcesUpToDate"
)

// ApplicationSet condition reasons.
const (
	ApplicationSetReasonUpToDate            = "ApplicationSetUpToDate"
	ApplicationSetReasonParametersGenerated = "ParametersGenerated"
	ApplicationSetReasonErrorOccurred       = "ErrorOccurred"
	ApplicationSetReasonGenerationError     = "ApplicationGenerationFromParamsError"
)

// ApplicationSetStatus is the observed state of an ApplicationSet.
type ApplicationSetStatus struct {
	// +optional
	Conditions []ApplicationSetCondition `json:"conditions,omitempty"`
	// Resources are the Applications the set generated.
	// +optional
	Resources []ResourceStatus `json:"resources,omitempty"`
}

// ApplicationSetCondition is one condition of an ApplicationSet.
type ApplicationSetCondition struct {
	Type string `json:"type"`
	// Status is True, False or Unknown.
	Status string `json:"status"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
}
