package render

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// manifestExtensions are the file types a directory source reads.
var manifestExtensions = map[string]bool{".yaml": true, ".yml": true, ".json": true}

// renderDirectory reads the YAML and JSON files of a directory source, in
// lexical path order, then document order.
func (s *snapshot) renderDirectory(ctx context.Context, appAbs, appRel string, spec *v1alpha1.ApplicationSourceDirectory) ([]*unstructured.Unstructured, error) {
	var d v1alpha1.ApplicationSourceDirectory
	if spec != nil {
		d = *spec
	}
	include, err := parseGlobs("include", d.Include)
	if err != nil {
		return nil, err
	}
	exclude, err := parseGlobs("exclude", d.Exclude)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	firstSeen := map[string]string{} // object ID -> file that defined it
	err = s.walk(ctx, appAbs, func(rel, abs string, isDir bool) (bool, error) {
		if isDir {
			return d.Recurse && !strings.HasPrefix(path.Base(rel), "."), nil
		}
		ext := strings.ToLower(path.Ext(rel))
		if !manifestExtensions[ext] && ext != ".jsonnet" {
			return false, nil
		}
		if include != nil && !include.match(rel) {
			return false, nil
		}
		if exclude != nil && exclude.match(rel) {
			return false, nil
		}
		name := path.Join(appRel, rel)
		if ext == ".jsonnet" {
			// Argo CD renders these; leaving them out would make their
			// objects look deleted from Git (and pruned).
			return false, &Error{File: name, Err: errors.New("a Jsonnet file, and Jsonnet is not supported; exclude the file (directory.exclude) if it is not meant to render objects")}
		}
		data, err := s.readFile(abs, name)
		if err != nil {
			return false, err
		}
		var objs []*unstructured.Unstructured
		if ext == ".json" {
			objs, err = decodeJSON(name, data)
		} else {
			objs, err = decodeYAML(name, data)
		}
		if err != nil {
			return false, err
		}
		for _, o := range objs {
			if o.GetName() == "" {
				continue // generateName objects cannot collide
			}
			id := objectID(o)
			if prev, ok := firstSeen[id]; ok {
				return false, &Error{File: name, Err: fmt.Errorf("%s is already defined in %s", id, prev)}
			}
			firstSeen[id] = name
		}
		if err := s.countObjects(len(objs)); err != nil {
			return false, &Error{File: name, Err: err}
		}
		out = append(out, objs...)
		return false, nil
	})
	return out, err
}
