package render

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// errReadOnly refuses every write kustomize might attempt on the snapshot.
var errReadOnly = errors.New("the repository snapshot is read-only")

// confinedFS is the filesystem kustomize sees: the snapshot, read only,
// where every path must resolve inside the root, plus an overlay of edited
// files (the kustomization carrying the Application's overrides).
type confinedFS struct {
	ctx     context.Context
	s       *snapshot
	overlay map[string][]byte // real absolute path -> edited content
	cache   map[string][]byte // real absolute path -> content already read
	// violation is the first file refused for escaping the root or for
	// its YAML aliases. Kustomize may swallow or bury the error (an Exists
	// that says false), so Render reports it even when the build succeeded.
	violation error
}

var _ filesys.FileSystem = (*confinedFS)(nil)

func newConfinedFS(ctx context.Context, s *snapshot) *confinedFS {
	return &confinedFS{ctx: ctx, s: s, overlay: map[string][]byte{}, cache: map[string][]byte{}}
}

// check resolves p and refuses it when it leaves the root, recording the
// first such path. A missing path gives fs.ErrNotExist.
func (c *confinedFS) check(p string) (string, error) {
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(c.s.root, abs)
	}
	real, err := c.s.resolve(abs)
	if errors.Is(err, ErrPathEscapes) {
		e := &Error{File: c.s.rel(filepath.Clean(abs)), Err: ErrPathEscapes}
		if c.violation == nil {
			c.violation = e
		}
		return "", e
	}
	return real, err
}

func (c *confinedFS) Create(string) (filesys.File, error) { return nil, errReadOnly }
func (c *confinedFS) Mkdir(string) error                  { return errReadOnly }
func (c *confinedFS) MkdirAll(string) error               { return errReadOnly }
func (c *confinedFS) RemoveAll(string) error              { return errReadOnly }
func (c *confinedFS) WriteFile(string, []byte) error      { return errReadOnly }

// Open is refused: kustomize builds read with ReadFile, which enforces the
// size limits that a stream would bypass.
func (c *confinedFS) Open(p string) (filesys.File, error) {
	if _, err := c.check(p); err != nil {
		return nil, err
	}
	return nil, errors.New("streaming reads are not supported; use ReadFile")
}

func (c *confinedFS) IsDir(p string) bool {
	real, err := c.check(p)
	return err == nil && c.s.isDir(real)
}

func (c *confinedFS) ReadDir(p string) ([]string, error) {
	real, err := c.check(p)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(c.s.fsys, c.s.name(real))
	if err != nil {
		return nil, plainError(err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

func (c *confinedFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	real, err := c.check(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", "", errors.New(c.s.rel(filepath.Clean(p)) + ": no such file or directory")
		}
		return "", "", err
	}
	// real is free of symlinks: a directory is its own confirmed
	// directory, a file is its directory and its name.
	if c.s.isDir(real) {
		return filesys.ConfirmedDir(real), "", nil
	}
	dir := filepath.Dir(real)
	if dir == real || !c.s.isDir(dir) {
		return "", "", errors.New(c.s.rel(real) + ": not in a directory")
	}
	return filesys.ConfirmedDir(dir), filepath.Base(real), nil
}

func (c *confinedFS) Exists(p string) bool {
	_, err := c.check(p)
	return err == nil
}

func (c *confinedFS) Glob(pattern string) ([]string, error) {
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(c.s.root, pattern)
	}
	// A base outside the root is refused here, so the clean pattern is
	// inside it and has a name in the snapshot.
	pattern = filepath.Clean(pattern)
	if _, err := c.check(globBase(pattern)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	names, err := fs.Glob(c.s.fsys, c.s.name(pattern))
	if err != nil {
		return nil, err
	}
	matches := make([]string, len(names))
	for i, n := range names {
		matches[i] = filepath.Join(c.s.root, filepath.FromSlash(n))
		if _, err := c.check(matches[i]); err != nil {
			return nil, err
		}
	}
	return matches, nil
}

// globBase is the directory part of pattern before its first wildcard.
func globBase(pattern string) string {
	if i := strings.IndexAny(pattern, "*?["); i >= 0 {
		pattern = pattern[:i]
	}
	return filepath.Dir(pattern + "x")
}

func (c *confinedFS) ReadFile(p string) ([]byte, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, err
	}
	real, err := c.check(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errors.New(c.s.rel(filepath.Clean(p)) + ": no such file or directory")
		}
		return nil, err
	}
	if data, ok := c.overlay[real]; ok {
		return data, nil
	}
	return c.load(real, c.s.rel(real))
}

// load reads a file once per render (the scan and the build both need the
// kustomization files), refusing YAML whose aliases explode.
func (c *confinedFS) load(abs, name string) ([]byte, error) {
	real, err := c.s.resolve(abs)
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	if data, ok := c.cache[real]; ok {
		return data, nil
	}
	data, err := c.s.readFile(real, name)
	if err != nil {
		return nil, err
	}
	if err := checkAliases(data); err != nil {
		e := &Error{File: name, Err: err}
		if c.violation == nil {
			c.violation = e
		}
		return nil, e
	}
	c.cache[real] = data
	return data, nil
}

// Walk walks p like filepath.Walk: symlinks below p are reported, not
// followed; files it reports are read through ReadFile, which checks them.
func (c *confinedFS) Walk(p string, walkFn filepath.WalkFunc) error {
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.s.root, p)
	}
	p = filepath.Clean(p)
	real, err := c.check(p)
	if err != nil {
		return err
	}
	base := c.s.name(real)
	return fs.WalkDir(c.s.fsys, base, func(name string, d fs.DirEntry, err error) error {
		rel := name // below base, reported below p
		if base != "." {
			rel = strings.TrimPrefix(strings.TrimPrefix(name, base), "/")
		}
		at := filepath.Join(p, filepath.FromSlash(rel))
		if err != nil {
			return walkFn(at, nil, plainError(err))
		}
		info, err := d.Info()
		if err != nil {
			return walkFn(at, nil, plainError(err))
		}
		return walkFn(at, info, nil)
	})
}
