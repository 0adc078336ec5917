package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// hasKustomizeOverrides reports whether the Application customises the
// kustomization at all.
func hasKustomizeOverrides(k *v1alpha1.ApplicationSourceKustomize) bool {
	return k != nil && (k.NamePrefix != "" || k.NameSuffix != "" || k.Namespace != "" ||
		len(k.Images) > 0 || len(k.CommonLabels) > 0 || len(k.CommonAnnotations) > 0 ||
		len(k.Replicas) > 0 || len(k.Patches) > 0 || len(k.Components) > 0)
}

// applyKustomizeOverrides returns the kustomization data edited the way
// Argo CD edits it with `kustomize edit`: namePrefix, nameSuffix and
// namespace are set, labels and annotations added (overwriting equal keys),
// images and replicas set by name, patches and components appended (a
// component for which componentExists says no is left out when
// ignoreMissingComponents is set). The rest of the file is kept as written.
func applyKustomizeOverrides(data []byte, k *v1alpha1.ApplicationSourceKustomize, componentExists func(string) (bool, error)) ([]byte, error) {
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
	if err := addCommonLabels(node, k); err != nil {
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
	if err := setReplicas(node, k.Replicas); err != nil {
		return nil, err
	}
	if err := appendPatches(node, k.Patches); err != nil {
		return nil, err
	}
	if err := appendComponents(node, k, componentExists); err != nil {
		return nil, err
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
// used is deprecated. With labelWithoutSelector the entry leaves selectors
// alone, and pod templates too unless labelIncludeTemplates.
func addCommonLabels(node *kyaml.RNode, k *v1alpha1.ApplicationSourceKustomize) error {
	labels := k.CommonLabels
	if len(labels) == 0 {
		return nil
	}
	if f := node.Field("commonLabels"); f != nil && !f.Value.IsNil() && !k.LabelWithoutSelector {
		return mergeStringMap(node, "commonLabels", labels)
	}
	entry := kyaml.NewMapRNode(nil)
	if err := mergeStringMap(entry, "pairs", labels); err != nil {
		return err
	}
	boolNode := func(v bool) *kyaml.RNode {
		return kyaml.NewRNode(&kyaml.Node{Kind: kyaml.ScalarNode, Tag: kyaml.NodeTagBool, Value: strconv.FormatBool(v)})
	}
	if err := entry.PipeE(kyaml.SetField("includeSelectors", boolNode(!k.LabelWithoutSelector))); err != nil {
		return err
	}
	if k.LabelWithoutSelector && k.LabelIncludeTemplates {
		if err := entry.PipeE(kyaml.SetField("includeTemplates", boolNode(true))); err != nil {
			return err
		}
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

// setReplicas sets the replicas entry of each name, or appends one.
func setReplicas(node *kyaml.RNode, replicas []v1alpha1.KustomizeReplica) error {
	if len(replicas) == 0 {
		return nil
	}
	list, err := node.Pipe(kyaml.LookupCreate(kyaml.SequenceNode, "replicas"))
	if err != nil {
		return fmt.Errorf("set replicas: %w", err)
	}
	for i, r := range replicas {
		count := r.Count.IntValue()
		if r.Count.Type == intstr.String {
			n, err := strconv.Atoi(strings.TrimSpace(r.Count.StrVal))
			if err != nil {
				return fmt.Errorf("kustomize.replicas[%d].count: %q is not a number", i, r.Count.StrVal)
			}
			count = n
		}
		if r.Name == "" {
			return fmt.Errorf("kustomize.replicas[%d].name: required", i)
		}
		if count < 0 {
			return fmt.Errorf("kustomize.replicas[%d].count: %d is negative", i, count)
		}
		entry, err := list.Pipe(kyaml.MatchElement("name", r.Name))
		if err != nil {
			return err
		}
		if entry == nil {
			entry = kyaml.NewMapRNode(&map[string]string{"name": r.Name})
			if err := list.PipeE(kyaml.Append(entry.YNode())); err != nil {
				return err
			}
		}
		n := kyaml.NewRNode(&kyaml.Node{Kind: kyaml.ScalarNode, Tag: kyaml.NodeTagInt, Value: strconv.Itoa(count)})
		if err := entry.PipeE(kyaml.SetField("count", n)); err != nil {
			return err
		}
	}
	return nil
}

// appendPatches appends the patches to the kustomization's patches.
func appendPatches(node *kyaml.RNode, patches []v1alpha1.KustomizePatch) error {
	if len(patches) == 0 {
		return nil
	}
	list, err := node.Pipe(kyaml.LookupCreate(kyaml.SequenceNode, "patches"))
	if err != nil {
		return fmt.Errorf("set patches: %w", err)
	}
	for i, p := range patches {
		switch {
		case p.Path == "" && strings.TrimSpace(p.Patch) == "":
			return fmt.Errorf("kustomize.patches[%d]: needs a path or an inline patch", i)
		case p.Path != "" && p.Patch != "":
			return fmt.Errorf("kustomize.patches[%d]: path and patch cannot both be set", i)
		case strings.Contains(p.Path, "://"):
			return fmt.Errorf("kustomize.patches[%d].path: %q: remote patches are not supported; commit the file to the repository", i, p.Path)
		}
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		entry, err := kyaml.Parse(string(b))
		if err != nil {
			return fmt.Errorf("kustomize.patches[%d]: %w", i, err)
		}
		if err := list.PipeE(kyaml.Append(entry.YNode())); err != nil {
			return err
		}
	}
	return nil
}

// appendComponents appends the components to the kustomization's
// components, leaving out missing ones when asked to.
func appendComponents(node *kyaml.RNode, k *v1alpha1.ApplicationSourceKustomize, exists func(string) (bool, error)) error {
	var keep []string
	for i, c := range k.Components {
		if c == "" {
			return fmt.Errorf("kustomize.components[%d]: empty path", i)
		}
		if k.IgnoreMissingComponents && !isRemoteBase(c) {
			ok, err := exists(c)
			if err != nil {
				return fmt.Errorf("kustomize.components[%d] %q: %w", i, c, err)
			}
			if !ok {
				continue
			}
		}
		keep = append(keep, c)
	}
	if len(keep) == 0 {
		return nil
	}
	list, err := node.Pipe(kyaml.LookupCreate(kyaml.SequenceNode, "components"))
	if err != nil {
		return fmt.Errorf("set components: %w", err)
	}
	for _, c := range keep {
		if err := list.PipeE(kyaml.Append(kyaml.NewStringRNode(c).YNode())); err != nil {
			return err
		}
	}
	return nil
}
