package appset

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Repos reads Git repositories for the git generator.
type Repos interface {
	// Open returns the files of repoURL at revision (a branch, tag,
	// commit, or HEAD when empty) and the commit it resolved to. The
	// generator walks the tree with fs.WalkDir and reads only regular
	// files, so symbolic links are never followed.
	Open(ctx context.Context, repoURL, revision string) (fsys fs.FS, commit string, err error)
}

// repoTree is a repository read once per Generate call.
type repoTree struct {
	commit string
	dirs   []string // every directory but the root, hidden ones left out
	files  []string // every regular file
	fsys   fs.FS
	err    error
}

func (r *run) tree(repoURL, revision string) (*repoTree, error) {
	key := [2]string{repoURL, revision}
	if t, ok := r.repos[key]; ok {
		return t, t.err
	}
	t := &repoTree{}
	r.repos[key] = t
	if r.in.Repos == nil {
		t.err = fmt.Errorf("no Git access configured")
		return t, t.err
	}
	t.fsys, t.commit, t.err = r.in.Repos.Open(r.ctx, repoURL, revision)
	if t.err != nil {
		return t, t.err
	}
	t.err = fs.WalkDir(t.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			if !hiddenPath(p) {
				t.dirs = append(t.dirs, p)
			}
			return nil
		}
		if d.Type().IsRegular() {
			t.files = append(t.files, p)
		}
		return nil
	})
	return t, t.err
}

// hiddenPath tells whether a segment of p starts with a dot; the
// directory generator leaves those out.
func hiddenPath(p string) bool {
	for _, s := range strings.Split(p, "/") {
		if strings.HasPrefix(s, ".") {
			return true
		}
	}
	return false
}

// gitParams runs the directory or the file flavour of the git generator.
func (r *run) gitParams(n *node, parent map[string]any) ([]paramSet, error) {
	g := n.git
	field := n.field + ".git"
	switch {
	case g.RepoURL == "":
		return nil, fmt.Errorf("%s.repoURL: required", field)
	case len(g.Directories) > 0 && len(g.Files) > 0:
		return nil, fmt.Errorf("%s: set directories or files, not both", field)
	case len(g.Directories) == 0 && len(g.Files) == 0:
		return nil, fmt.Errorf("%s: set directories or files", field)
	}
	t, err := r.tree(g.RepoURL, g.Revision)
	if err != nil {
		return nil, fmt.Errorf("%s: repository %s at %s: %w", field, g.RepoURL, orHEAD(g.Revision), err)
	}
	if len(g.Directories) > 0 {
		return r.dirParams(n, t, parent)
	}
	return r.fileParams(n, t, parent)
}

func orHEAD(rev string) string {
	if rev == "" {
		return "HEAD"
	}
	return rev
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

// dirParams yields one set per directory that an included pattern
// matches and no excluded pattern does.
func (r *run) dirParams(n *node, t *repoTree, parent map[string]any) ([]paramSet, error) {
	g := n.git
	for i, d := range g.Directories {
		if _, err := matchGlob(cleanPattern(d.Path), "x"); err != nil {
			return nil, fmt.Errorf("%s.git.directories[%d].path: %q: %w", n.field, i, d.Path, err)
		}
	}
	var sets []paramSet
	for _, dir := range t.dirs {
		included, excluded := false, false
		for _, d := range g.Directories {
			if ok, _ := matchGlob(cleanPattern(d.Path), dir); ok {
				if d.Exclude {
					excluded = true
				} else {
					included = true
				}
			}
		}
		if !included || excluded {
			continue
		}
		where := fmt.Sprintf("%s.git (directory %s at %s)", n.field, dir, shortSHA(t.commit))
		p := map[string]any{}
		r.addPathParams(p, g.PathParamPrefix, dir, "")
		if err := r.addValues(p, g.Values, parent, n.field+".git.values", where); err != nil {
			return nil, err
		}
		sets = append(sets, paramSet{Params: p, Origin: where})
	}
	return sets, nil
}

// fileParams yields the sets of every JSON or YAML file a pattern
// matches: one per file holding an object, one per item of a file
// holding a list.
func (r *run) fileParams(n *node, t *repoTree, parent map[string]any) ([]paramSet, error) {
	g := n.git
	seen := map[string]bool{}
	var sets []paramSet
	for i, f := range g.Files {
		pattern := cleanPattern(f.Path)
		if _, err := matchGlob(pattern, "x"); err != nil {
			return nil, fmt.Errorf("%s.git.files[%d].path: %q: %w", n.field, i, f.Path, err)
		}
		for _, file := range t.files {
			if ok, _ := matchGlob(pattern, file); !ok || seen[file] {
				continue
			}
			seen[file] = true
			where := fmt.Sprintf("%s.git (file %s at %s)", n.field, file, shortSHA(t.commit))
			objs, err := r.readParamsFile(t, file)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			for j, obj := range objs {
				w := where
				if len(objs) > 1 {
					w = fmt.Sprintf("%s.git (file %s item %d at %s)", n.field, file, j, shortSHA(t.commit))
				}
				p := paramsOf(obj, r.flat)
				r.addPathParams(p, g.PathParamPrefix, path.Dir(file), path.Base(file))
				if err := r.addValues(p, g.Values, parent, n.field+".git.values", w); err != nil {
					return nil, err
				}
				sets = append(sets, paramSet{Params: p, Origin: w})
			}
		}
	}
	return sets, nil
}

// maxParamsFileBytes bounds a file the files generator reads, as renders
// bound manifests: a larger one is refused without being read.
const maxParamsFileBytes = 4 << 20

var errParamsFileTooLarge = fmt.Errorf("the file is larger than the %d-byte limit", maxParamsFileBytes)

// readParamsFile reads a JSON or YAML file: an object, or a list of
// objects. An empty file is one empty object.
func (r *run) readParamsFile(t *repoTree, file string) ([]map[string]any, error) {
	fi, err := fs.Stat(t.fsys, file)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxParamsFileBytes {
		return nil, errParamsFileTooLarge
	}
	b, err := fs.ReadFile(t.fsys, file)
	if err != nil {
		return nil, err
	}
	if len(b) > maxParamsFileBytes { // it grew since Stat
		return nil, errParamsFileTooLarge
	}
	if strings.TrimSpace(string(b)) == "" {
		return []map[string]any{{}}, nil
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON or YAML: %w", err)
	}
	v, err := decodeJSON(j, r.flat)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON or YAML: %w", err)
	}
	switch x := v.(type) {
	case nil:
		return []map[string]any{{}}, nil
	case map[string]any:
		return []map[string]any{x}, nil
	case []any:
		out := make([]map[string]any, 0, len(x))
		for i, it := range x {
			obj, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("item %d is %s; a list must hold objects", i, describe(it))
			}
			out = append(out, obj)
		}
		return out, nil
	}
	return nil, fmt.Errorf("holds %s; want an object or a list of objects", describe(v))
}

// addPathParams adds the path parameters of dir (and of file, for the
// file generator), under prefix when set:
//
//	flat:        path, path.basename, path.basenameNormalized, path[N],
//	             path.filename, path.filenameNormalized
//	Go template: path.path, path.basename, path.basenameNormalized,
//	             path.segments, path.filename, path.filenameNormalized
func (r *run) addPathParams(p map[string]any, prefix, dir, file string) {
	segments := []string{}
	for _, s := range strings.Split(dir, "/") {
		if s != "" && s != "." {
			segments = append(segments, s)
		}
	}
	base := path.Base(dir)
	if r.flat {
		name := "path"
		if prefix != "" {
			name = prefix + ".path"
		}
		p[name] = dir
		p[name+".basename"] = base
		p[name+".basenameNormalized"] = Normalize(base)
		for i, s := range segments {
			p[name+"["+strconv.Itoa(i)+"]"] = s
		}
		if file != "" {
			p[name+".filename"] = file
			p[name+".filenameNormalized"] = Normalize(file)
		}
		return
	}
	segs := make([]any, len(segments))
	for i, s := range segments {
		segs[i] = s
	}
	pp := map[string]any{
		"path":               dir,
		"basename":           base,
		"basenameNormalized": Normalize(base),
		"segments":           segs,
	}
	if file != "" {
		pp["filename"] = file
		pp["filenameNormalized"] = Normalize(file)
	}
	if prefix == "" {
		p["path"] = pp
		return
	}
	if m, ok := p[prefix].(map[string]any); ok {
		m["path"] = pp
		return
	}
	p[prefix] = map[string]any{"path": pp}
}

// cleanPattern makes a pattern relative to the repository root.
func cleanPattern(p string) string {
	p = strings.TrimPrefix(strings.TrimSpace(p), "/")
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	return p
}

// matchGlob matches a slash-separated name against a pattern: segments
// use path.Match syntax (*, ?, [a-z], \x) and never cross a '/', and a
// segment that is exactly ** matches any number of segments, none
// included.
func matchGlob(pattern, name string) (bool, error) {
	ps := strings.Split(pattern, "/")
	for _, s := range ps {
		if s != "**" {
			if _, err := path.Match(s, ""); err != nil {
				return false, err
			}
		}
	}
	return matchSegments(ps, strings.Split(name, "/")), nil
}

func matchSegments(ps, ns []string) bool {
	for len(ps) > 0 {
		if ps[0] == "**" {
			for len(ps) > 1 && ps[1] == "**" {
				ps = ps[1:]
			}
			if len(ps) == 1 {
				return true
			}
			for i := 0; i <= len(ns); i++ {
				if matchSegments(ps[1:], ns[i:]) {
					return true
				}
			}
			return false
		}
		if len(ns) == 0 {
			return false
		}
		if ok, _ := path.Match(ps[0], ns[0]); !ok {
			return false
		}
		ps, ns = ps[1:], ns[1:]
	}
	return len(ns) == 0
}
