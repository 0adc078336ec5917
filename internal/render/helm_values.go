package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	chartloader "helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/strvals"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// helmValues merges the user-supplied values in Helm's order (the chart's
// own values.yaml is coalesced later by Helm): valueFiles in order, then
// valuesObject if set, else the values string, then parameters (--set, then
// --set-string for forceString).
func (s *snapshot) helmValues(chartAbs string, h *v1alpha1.ApplicationSourceHelm) (map[string]any, error) {
	vals := map[string]any{}
	for _, vf := range h.ValueFiles {
		if vf == "" {
			continue
		}
		fileVals, err := s.valueFile(chartAbs, vf, h.IgnoreMissingValueFiles)
		if err != nil {
			return nil, err
		}
		vals = chartloader.MergeMaps(vals, fileVals)
	}

	// Like Argo CD, valuesObject replaces the values string rather than
	// merging with it.
	var inline map[string]any
	switch {
	case h.ValuesObject != nil && (h.ValuesObject.Raw != nil || h.ValuesObject.Object != nil):
		raw := h.ValuesObject.Raw
		if raw == nil {
			var err error
			if raw, err = json.Marshal(h.ValuesObject.Object); err != nil {
				return nil, fmt.Errorf("helm valuesObject: %w", err)
			}
		}
		if err := utiljson.Unmarshal(raw, &inline); err != nil {
			return nil, fmt.Errorf("helm valuesObject: must be an object: %w", err)
		}
	case strings.TrimSpace(h.Values) != "":
		v, err := common.ReadValues([]byte(h.Values))
		if err != nil {
			return nil, fmt.Errorf("helm values: %w", err)
		}
		inline = v
	}
	vals = chartloader.MergeMaps(vals, inline)
	if h.Version != "" && h.Version != "v3" {
		return nil, fmt.Errorf("helm version %q: only v3 is supported", h.Version)
	}

	for _, forceString := range []bool{false, true} {
		for _, p := range h.Parameters {
			if p.ForceString != forceString {
				continue
			}
			var err error
			if forceString {
				err = strvals.ParseIntoString(p.Name+"="+escapeSetValue(p.Value), vals)
			} else {
				err = strvals.ParseInto(p.Name+"="+escapeSetValue(p.Value), vals)
			}
			if err != nil {
				return nil, fmt.Errorf("helm parameter %q: %w", p.Name, err)
			}
		}
	}
	for i, fp := range h.FileParameters {
		if err := s.fileParameter(chartAbs, i, fp, vals); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// fileParameter sets the value fp.Name to the content of the file fp.Path
// (relative to the chart, inside the repository), as helm --set-file.
func (s *snapshot) fileParameter(chartAbs string, i int, fp v1alpha1.HelmFileParameter, vals map[string]any) error {
	if fp.Name == "" || fp.Path == "" {
		return fmt.Errorf("helm fileParameters[%d]: name and path are required", i)
	}
	if strings.Contains(fp.Path, "://") || filepath.IsAbs(fp.Path) || strings.HasPrefix(fp.Path, "/") {
		return &Error{File: fp.Path, Err: fmt.Errorf("helm fileParameters[%d]: give a path relative to the chart, inside the repository", i)}
	}
	abs := filepath.Join(chartAbs, filepath.FromSlash(fp.Path))
	name := fp.Path
	if within(s.root, abs) {
		name = s.rel(abs)
	}
	data, err := s.readFile(abs, name)
	if err != nil {
		return err
	}
	content := string(data)
	err = strvals.ParseIntoFile(fp.Name+"="+fp.Path, vals, func([]rune) (any, error) { return content, nil })
	if err != nil {
		return fmt.Errorf("helm fileParameters[%d] %q: %w", i, fp.Name, err)
	}
	return nil
}

// errMissingValueFile is the cause when a value file does not exist.
var errMissingValueFile = fmt.Errorf("value file does not exist (set ignoreMissingValueFiles to skip it): %w", fs.ErrNotExist)

// valueFile reads one value file, given relative to the chart directory.
func (s *snapshot) valueFile(chartAbs, vf string, ignoreMissing bool) (map[string]any, error) {
	if strings.HasPrefix(vf, "$") {
		return s.refValueFile(vf, ignoreMissing)
	}
	if strings.Contains(vf, "://") {
		return nil, &Error{File: vf, Err: errors.New("remote value files are not supported; commit the file to the repository")}
	}
	if filepath.IsAbs(vf) || strings.HasPrefix(vf, "/") {
		return nil, &Error{File: vf, Err: errors.New("absolute value file paths are not supported; give a path relative to the chart")}
	}
	abs := filepath.Join(chartAbs, filepath.FromSlash(vf))
	name := vf // what the user wrote, when it is not even lexically inside
	if within(s.root, abs) {
		name = s.rel(abs)
	}
	return s.readValues(abs, name, ignoreMissing)
}

// readValues reads the value file abs of the snapshot, named name in errors.
func (s *snapshot) readValues(abs, name string, ignoreMissing bool) (map[string]any, error) {
	_, err := s.resolve(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist) && ignoreMissing:
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, &Error{File: name, Err: errMissingValueFile}
	case err != nil:
		return nil, &Error{File: name, Err: err}
	}
	data, err := s.readFile(abs, name)
	if err != nil {
		return nil, err
	}
	vals, err := common.ReadValues(data)
	if err != nil {
		return nil, &Error{File: name, Err: fmt.Errorf("invalid values: %w", err)}
	}
	return vals, nil
}

// refValueFile reads a value file written "$ref/path" from the repository
// of the app's source with that ref. The path is relative to that
// repository's root and may not leave it, by "..", an absolute path or a
// symlink. The bytes read count against this render's budget.
func (s *snapshot) refValueFile(vf string, ignoreMissing bool) (map[string]any, error) {
	ref, rel, ok := strings.Cut(vf[1:], "/")
	if !ok || ref == "" || strings.Trim(rel, "/") == "" {
		return nil, &Error{File: vf, Err: errors.New(`a value file from another source is written "$<ref>/<path in its repository>"`)}
	}
	fsys, found := s.refs[ref]
	if !found {
		return nil, &Error{File: vf, Err: fmt.Errorf("no source of the app has ref %q", ref)}
	}
	if strings.HasPrefix(rel, "/") || filepath.IsAbs(rel) {
		return nil, &Error{File: vf, Err: fmt.Errorf("the path after $%s is relative to that source's repository root; it may not be absolute", ref)}
	}
	other, err := newSnapshot("", fsys, s.opts)
	if err != nil {
		return nil, &Error{File: vf, Err: err}
	}
	other.read = s.read
	abs := filepath.Join(other.root, filepath.FromSlash(rel))
	if !within(other.root, abs) {
		return nil, &Error{File: vf, Err: fmt.Errorf("%w: the path after $%s must stay inside that source's repository", ErrPathEscapes, ref)}
	}
	vals, err := other.readValues(abs, vf, ignoreMissing)
	s.read = other.read
	return vals, err
}

// escapeSetValue escapes the commas of a --set value, so a parameter is one
// value, not a list of assignments; {a,b} list values are kept, as Argo CD
// does.
func escapeSetValue(v string) string {
	if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == ',' && (i == 0 || v[i-1] != '\\') {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
