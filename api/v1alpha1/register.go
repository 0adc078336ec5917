package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group is the API group of the kinds in this package.
const Group = "argoproj.io"

var (
	// GroupVersion is argoproj.io/v1alpha1.
	GroupVersion = schema.GroupVersion{Group: Group, Version: "v1alpha1"}
	// SchemeBuilder registers the kinds of this package.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds the kinds of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// Kind names.
const (
	ApplicationKind = "Application"
	AppProjectKind  = "AppProject"
	// ApplicationSetKind is the kind of ApplicationSets.
	ApplicationSetKind = "ApplicationSet"
)

// ApplicationGVR is the resource of Applications.
var ApplicationGVR = GroupVersion.WithResource("applications")

// ApplicationSetGVR is the resource of ApplicationSets.
var ApplicationSetGVR = GroupVersion.WithResource("applicationsets")

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &Application{}, &ApplicationList{}, &AppProject{}, &AppProjectList{},
		&ApplicationSet{}, &ApplicationSetList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// NewScheme returns a scheme with the built-in kinds and this package's.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = AddToScheme(s)
	return s
}
