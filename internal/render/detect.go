package render

import (
	"fmt"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// Source types, as Argo CD names them.
const (
	TypeDirectory = "Directory"
	TypeKustomize = "Kustomize"
	TypeHelm      = "Helm"
)

// DetectType tells how the source at path (relative to root) is rendered,
// the way Argo CD decides: an explicit helm, kustomize or directory section
// wins (two of them are an error), then a Chart.yaml, then a kustomization
// file; anything else is a directory.
func DetectType(root, path string, src v1alpha1.ApplicationSource) (string, error) {
	s, err := newSnapshot(root, nil, DefaultOptions())
	if err != nil {
		return "", err
	}
	abs, _, err := s.appDir(path)
	if err != nil {
		return "", err
	}
	return s.detectType(abs, src)
}

func (s *snapshot) detectType(appAbs string, src v1alpha1.ApplicationSource) (string, error) {
	var explicit []string
	if src.Helm != nil {
		explicit = append(explicit, TypeHelm)
	}
	if src.Kustomize != nil {
		explicit = append(explicit, TypeKustomize)
	}
	if src.Directory != nil {
		explicit = append(explicit, TypeDirectory)
	}
	switch len(explicit) {
	case 0:
	case 1:
		return explicit[0], nil
	default:
		return "", fmt.Errorf("source sets more than one type: %s", strings.Join(explicit, ", "))
	}
	ok, err := s.exists(filepath.Join(appAbs, "Chart.yaml"))
	if err != nil {
		return "", &Error{File: s.rel(filepath.Join(appAbs, "Chart.yaml")), Err: err}
	}
	if ok {
		return TypeHelm, nil
	}
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(appAbs, name)
		ok, err := s.exists(p)
		if err != nil {
			return "", &Error{File: s.rel(p), Err: err}
		}
		if ok {
			return TypeKustomize, nil
		}
	}
	return TypeDirectory, nil
}
