package render

import (
	"slices"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// helmObjects turns rendered templates into objects in `helm template`
// order: CRDs from crds/ (unless skipped), manifests sorted by kind, then
// hooks, which keep their helm.sh/hook annotations. Test hooks, NOTES.txt
// and partials are left out.
func (s *snapshot) helmObjects(ch *chart.Chart, chartRel string, files map[string]string, includeCRDs bool) ([]*unstructured.Unstructured, error) {
	for name := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(files, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, &Error{File: templateFile(err, chartRel), Err: err}
	}
	var out []*unstructured.Unstructured
	add := func(file string, data []byte) error {
		objs, err := decodeYAML(chartPath(chartRel, file), data)
		if err != nil {
			return err
		}
		if err := s.countObjects(len(objs)); err != nil {
			return &Error{File: chartPath(chartRel, file), Err: err}
		}
		out = append(out, objs...)
		return nil
	}
	if includeCRDs {
		for _, crd := range ch.CRDObjects() {
			if err := add(crd.Filename, crd.File.Data); err != nil {
				return nil, err
			}
		}
	}
	for _, m := range manifests {
		if err := add(m.Name, []byte(m.Content)); err != nil {
			return nil, err
		}
	}
	for _, h := range hooks {
		if slices.Contains(h.Events, release.HookTest) {
			continue
		}
		if err := add(h.Path, []byte(h.Manifest)); err != nil {
			return nil, err
		}
	}
	return out, nil
}
