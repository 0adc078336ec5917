package render

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// decodeYAML parses a stream of YAML documents into objects. name (relative
// to the root) is used in errors, with the 1-based document number.
func decodeYAML(name string, data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for doc := 1; ; doc++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, &Error{File: name, Err: fmt.Errorf("document %d: %w", doc, err)}
		}
		objs, err := decodeYAMLDocument(raw)
		if err != nil {
			return out, &Error{File: name, Err: fmt.Errorf("document %d: %w", doc, err)}
		}
		out = append(out, objs...)
	}
}

// decodeJSON parses one JSON value (an object or a List) into objects.
func decodeJSON(name string, data []byte) ([]*unstructured.Unstructured, error) {
	var v any
	if err := utiljson.Unmarshal(data, &v); err != nil {
		return nil, &Error{File: name, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	if v == nil {
		return nil, nil
	}
	objs, err := objectsOf(v)
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	return objs, nil
}

// decodeYAMLDocument parses one YAML document; an empty one gives nothing.
func decodeYAMLDocument(doc []byte) ([]*unstructured.Unstructured, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, nil
	}
	if err := checkAliasesOf(doc, false); err != nil { // decodeYAML names the document
		return nil, err
	}
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	var v any
	if err := utiljson.Unmarshal(j, &v); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if v == nil {
		return nil, nil
	}
	return objectsOf(v)
}

// objectsOf checks that v is an object, flattening a List into its items.
func objectsOf(v any) ([]*unstructured.Unstructured, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a Kubernetes object")
	}
	kind, _ := m["kind"].(string)
	items, isList := m["items"].([]any)
	if !strings.HasSuffix(kind, "List") || !isList {
		u := &unstructured.Unstructured{Object: m}
		if err := checkObject(u); err != nil {
			return nil, err
		}
		return []*unstructured.Unstructured{u}, nil
	}
	out := make([]*unstructured.Unstructured, 0, len(items))
	for i, item := range items {
		im, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s item %d: not a Kubernetes object", kind, i+1)
		}
		u := &unstructured.Unstructured{Object: im}
		if err := checkObject(u); err != nil {
			return nil, fmt.Errorf("%s item %d: %w", kind, i+1, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// checkObject requires apiVersion, kind and a name (or generateName).
func checkObject(u *unstructured.Unstructured) error {
	if s, ok := u.Object["apiVersion"].(string); !ok || s == "" {
		return errors.New("object has no apiVersion")
	}
	if s, ok := u.Object["kind"].(string); !ok || s == "" {
		return errors.New("object has no kind")
	}
	if _, ok := u.Object["metadata"].(map[string]any); !ok {
		return fmt.Errorf("%s has no metadata.name", u.GetKind())
	}
	if u.GetName() == "" && u.GetGenerateName() == "" {
		return fmt.Errorf("%s has no metadata.name", u.GetKind())
	}
	return nil
}

// objectID names an object as Kind[.group]/[namespace/]name.
func objectID(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	id := gvk.Kind
	if gvk.Group != "" {
		id += "." + gvk.Group
	}
	if ns := u.GetNamespace(); ns != "" {
		id += "/" + ns
	}
	return id + "/" + u.GetName()
}
