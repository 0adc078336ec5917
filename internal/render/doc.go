// Package render turns a repository snapshot and an Application source spec
// into the list of Kubernetes objects the source describes.
//
// Three source types are supported, detected the way Argo CD detects them:
// plain YAML/JSON directories, Kustomize overlays (built in-process with
// krusty, plugins disabled) and Helm charts stored in the repository
// (rendered client-side with the Helm SDK, never touching a cluster).
//
// Every file that is read must resolve, after following symlinks, to a
// location inside the snapshot root: a path or symlink that escapes it is
// refused with ErrPathEscapes. Remote Kustomize bases and remote Helm value
// files are refused before any network access. Sizes and object counts are
// bounded by Options.
package render
