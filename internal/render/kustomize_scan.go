package render

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/yaml"
)

// kustomizationRefs are the fields of a kustomization that name other files
// or directories.
type kustomizationRefs struct {
	Resources             []string            `json:"resources"`
	Bases                 []string            `json:"bases"`
	Components            []string            `json:"components"`
	Crds                  []string            `json:"crds"`
	Configurations        []string            `json:"configurations"`
	Generators            []string            `json:"generators"`
	Transformers          []string            `json:"transformers"`
	Validators            []string            `json:"validators"`
	PatchesStrategicMerge []string            `json:"patchesStrategicMerge"`
	Patches               []kustomizationPath `json:"patches"`
	PatchesJSON6902       []kustomizationPath `json:"patchesJson6902"`
	Replacements          []kustomizationPath `json:"replacements"`
	ConfigMapGenerator    []kustomizationGen  `json:"configMapGenerator"`
	SecretGenerator       []kustomizationGen  `json:"secretGenerator"`
	OpenAPI               map[string]string   `json:"openapi"`
}

type kustomizationPath struct {
	Path string `json:"path"`
}

type kustomizationGen struct {
	Files []string `json:"files"`
	Envs  []string `json:"envs"`
	Env   string   `json:"env"`
}

// findKustomization returns the kustomization file in dir, or "" if none.
func (s *snapshot) findKustomization(dir string) (string, error) {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		ok, err := s.exists(p)
		if err != nil {
			return "", &Error{File: s.rel(p), Err: err}
		}
		if ok {
			return p, nil
		}
	}
	return "", nil
}

// scanKustomization checks, before kustomize runs, every reference of the
// kustomization in dir and of the local bases and components it uses:
// remote ones (which kustomize would clone or download) and local ones
// leaving the root are refused, naming the kustomization file.
//
// Files are read through c, which keeps them for the build that follows.
func (c *confinedFS) scanKustomization(dir string, seen map[string]bool) error {
	s := c.s
	real, err := s.resolve(dir)
	if err != nil || seen[real] {
		return nil // kustomize reports a missing base; escapes are caught by the caller
	}
	seen[real] = true
	file, err := s.findKustomization(dir)
	if err != nil || file == "" {
		return err
	}
	name := s.rel(file)
	data, err := c.load(file, name)
	if err != nil {
		return err
	}
	var k kustomizationRefs
	if err := yaml.Unmarshal(data, &k); err != nil {
		return &Error{File: name, Err: fmt.Errorf("invalid kustomization: %w", plainError(err))}
	}
	// Bases are directories (other kustomizations) that kustomize may clone.
	for _, refs := range []namedRefs{{"resources", k.Resources}, {"bases", k.Bases}, {"components", k.Components}} {
		field := refs.field
		for _, ref := range refs.refs {
			if isRemoteBase(ref) {
				return &Error{File: name, Err: fmt.Errorf("%s %q: remote bases are not supported; vendor it into the repository", field, ref)}
			}
			target, err := s.checkKustomizeRef(dir, name, field, ref)
			if err != nil {
				return err
			}
			if target == "" {
				continue
			}
			if s.isDir(target) {
				if err := c.scanKustomization(filepath.Join(dir, ref), seen); err != nil {
					return err
				}
			}
		}
	}
	for _, refs := range k.files() {
		field := refs.field
		for _, ref := range refs.refs {
			if isRemoteFile(ref) {
				return &Error{File: name, Err: fmt.Errorf("%s %q: remote files are not supported", field, ref)}
			}
			if _, err := s.checkKustomizeRef(dir, name, field, ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// namedRefs are the references of one kustomization field.
type namedRefs struct {
	field string
	refs  []string
}

// files lists the file references, field by field in a fixed order.
func (k *kustomizationRefs) files() []namedRefs {
	out := []namedRefs{
		{"crds", k.Crds},
		{"configurations", k.Configurations},
		{"generators", k.Generators},
		{"transformers", k.Transformers},
		{"validators", k.Validators},
		{"patchesStrategicMerge", k.PatchesStrategicMerge},
		{"patches", paths(k.Patches)},
		{"patchesJson6902", paths(k.PatchesJSON6902)},
		{"replacements", paths(k.Replacements)},
		{"openapi", []string{k.OpenAPI["path"]}},
	}
	for _, gens := range []struct {
		field string
		gens  []kustomizationGen
	}{{"configMapGenerator", k.ConfigMapGenerator}, {"secretGenerator", k.SecretGenerator}} {
		for _, g := range gens.gens {
			refs := append([]string{g.Env}, g.Envs...)
			for _, f := range g.Files {
				// A file source is "[key=]path".
				if _, p, ok := strings.Cut(f, "="); ok {
					f = p
				}
				refs = append(refs, f)
			}
			out = append(out, namedRefs{gens.field, refs})
		}
	}
	return out
}

func paths(ps []kustomizationPath) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Path
	}
	return out
}

// checkKustomizeRef refuses a local reference leaving the root and returns
// its real location ("" when it does not exist or is no path at all).
func (s *snapshot) checkKustomizeRef(dir, name, field, ref string) (string, error) {
	// Inline patches, generators and transformers are YAML, not paths.
	if ref == "" || strings.ContainsAny(ref, "\n") {
		return "", nil
	}
	if filepath.IsAbs(ref) {
		return "", &Error{File: name, Err: fmt.Errorf("%s %q: absolute paths are not allowed: %w", field, ref, ErrPathEscapes)}
	}
	real, err := s.resolve(filepath.Join(dir, filepath.FromSlash(ref)))
	switch {
	case errors.Is(err, ErrPathEscapes):
		return "", &Error{File: name, Err: fmt.Errorf("%s %q: %w", field, ref, ErrPathEscapes)}
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", &Error{File: name, Err: fmt.Errorf("%s %q: %w", field, ref, err)}
	}
	return real, nil
}

// scpUser matches the "user@" that starts an scp-style git address.
var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// isRemoteBase reports whether kustomize would treat ref as a git
// repository to clone: any URL, a "git::" or scp-style address, or a
// github.com path.
func isRemoteBase(ref string) bool {
	l := strings.ToLower(strings.TrimSpace(ref))
	if strings.HasPrefix(l, "git::") {
		return true
	}
	return strings.Contains(l, "://") || scpUser.MatchString(l) ||
		strings.HasPrefix(l, "github.com/") || strings.HasPrefix(l, "github.com:")
}

// isRemoteFile reports whether kustomize would download ref over HTTP.
func isRemoteFile(ref string) bool {
	l := strings.ToLower(strings.TrimSpace(ref))
	return strings.Contains(l, "://") || strings.HasPrefix(l, "git::")
}
