package render

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// hasKustomizeOverrides reports whether the Application customises the
// kustomization at all.
func hasKustomizeOverrides(k *v1alpha1.ApplicationSourceKustomize) bool {
	return k != nil && (k.NamePrefix != "" || k.NameSuffix != "" || k.Namespace != "" ||
		len(k.Images) > 0 || len(k.CommonLabels) > 0 || len(k.CommonAnnotations) > 0)
}

// applyKustomizeOverrides returns the kustomization data edited the way
// Argo CD edits it with `kustomize edit`: namePrefix, nameSuffix and
// namespace are set, labels and annotations added (overwriting equal keys),
// images set by name. The rest of the file is kept as written.
func applyKustomizeOverrides(data []byte, k *v1alpha1.ApplicationSourceKustomize) ([]byte, error) {
	node := kyaml.NewMapRNode(nil)
	if len(strings.TrimSpace(string(data))) > 0 {
		var err error
		if node, err = kyaml.Parse(string(data)); err != nil {
			return nil, fmt.Errorf("invalid kustomization: %w", err)
		}
	}
	for _, f := range []struct{ field, value string }{
		{"namePrefix", k.NamePrefix}, {"nameSuffix", k.NameSuffix}, {"namespace", k.Namespace},
	} {
		if f.value == "" {
			continue
		}
		if err := node.PipeE(kyaml.SetField(f.field, kyaml.NewStringRNode(f.value))); err != nil {
			return nil, fmt.Errorf("set %s: %w", f.field, err)
		}
	}
	if err := addCommonLabels(node, k.CommonLabels); err != nil {
		return nil, err
	}
	if err := mergeStringMap(node, "commonAnnotations", k.CommonAnnotations); err != nil {
		return nil, err
	}
	for _, spec := range k.Images {
		img, err := parseImageOverride(spec)
		if err != nil {
			return nil, err
		}
		if err := setImage(node, img); err != nil {
			return nil, fmt.Errorf("image %q: %w", spec, err)
		}
	}
	out, err := node.String()
	if err != nil {
		return nil, fmt.Errorf("write kustomization: %w", err)
	}
	return []byte(out), nil
}

// addCommonLabels adds labels to objects and selectors, like commonLabels.
// A kustomization without commonLabels gets an equivalent labels entry
// (includeSelectors), so kustomize does not warn that the field it never
// used is deprecated.
func addCommonLabels(node *kyaml.RNode, labels map[string]string) error {
	if len(labels) == 0 {
		return nil
	}
	if f := node.Field("commonLabels"); f != nil && !f.Value.IsNil() {
		return mergeStringMap(node, "commonLabels", labels)
	}
	entry := kyaml.NewMapRNode(nil)
	if err := mergeStringMap(entry, "pairs", labels); err != nil {
		return err
	}
	if err := entry.PipeE(kyaml.SetField("includeSelectors", kyaml.NewRNode(&kyaml.Node{Kind: kyaml.ScalarNode, Tag: kyaml.NodeTagBool, Value: "true"}))); err != nil {
		return err
	}
	list, err := node.Pipe(kyaml.LookupCreate(kyaml.SequenceNode, "labels"))
	if err != nil {
		return fmt.Errorf("set labels: %w", err)
	}
	return list.PipeE(kyaml.Append(entry.YNode()))
}

// mergeStringMap adds values to the map field, in key order.
func mergeStringMap(node *kyaml.RNode, field string, values map[string]string) error {
	if len(values) == 0 {
		return nil
	}
	m, err := node.Pipe(kyaml.LookupCreate(kyaml.MappingNode, field))
	if err != nil {
		return fmt.Errorf("set %s: %w", field, err)
	}
	keys := make([]string, 0, len(values))
	for key := range values {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		if err := m.PipeE(kyaml.SetField(key, kyaml.NewStringRNode(values[key]))); err != nil {
			return fmt.Errorf("set %s %s: %w", field, key, err)
		}
	}
	return nil
}

// imageOverride is one parsed `kustomize edit set image` argument.
type imageOverride struct {
	name, newName, newTag, digest string
}

// parseImageOverride reads the forms name=newName[:tag][@digest],
// name:tag and name@digest.
func parseImageOverride(spec string) (imageOverride, error) {
	name, ref, renamed := strings.Cut(spec, "=")
	if !renamed {
		ref = spec
	}
	repo, tag, digest := splitImageRef(ref)
	img := imageOverride{name: repo, newTag: tag, digest: digest}
	if renamed {
		img.name, img.newName = name, repo
	}
	if img.name == "" || (renamed && ref == "") {
		return img, fmt.Errorf("image override %q: want name=newName:tag, name:tag or name@digest", spec)
	}
	return img, nil
}

// splitImageRef splits "repo[:tag][@digest]"; a colon before the last
// slash belongs to a registry host:port, not a tag.
func splitImageRef(ref string) (repo, tag, digest string) {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref, digest = ref[:i], ref[i+1:]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref, tag = ref[:i], ref[i+1:]
	}
	return ref, tag, digest
}

// setImage updates the images entry named img.name, or appends one. As with
// kustomize, a new tag clears the digest and a new digest clears the tag.
func setImage(node *kyaml.RNode, img imageOverride) error {
	list, err := node.Pipe(kyaml.LookupCreate(kyaml.SequenceNode, "images"))
	if err != nil {
		return err
	}
	entry, err := list.Pipe(kyaml.MatchElement("name", img.name))
	if err != nil {
		return err
	}
	if entry == nil {
		entry = kyaml.NewMapRNode(&map[string]string{"name": img.name})
		if err := list.PipeE(kyaml.Append(entry.YNode())); err != nil {
			return err
		}
	}
	set := func(field, value string) error {
		return entry.PipeE(kyaml.SetField(field, kyaml.NewStringRNode(value)))
	}
	clear := func(field string) error {
		_, err := entry.Pipe(kyaml.Clear(field))
		return err
	}
	var errs []error
	if img.newName != "" {
		errs = append(errs, set("newName", img.newName))
	}
	switch {
	case img.newTag != "" && img.digest != "":
		errs = append(errs, set("newTag", img.newTag), set("digest", img.digest))
	case img.newTag != "":
		errs = append(errs, set("newTag", img.newTag), clear("digest"))
	case img.digest != "":
		errs = append(errs, set("digest", img.digest), clear("newTag"))
	}
	return errors.Join(errs...)
}
