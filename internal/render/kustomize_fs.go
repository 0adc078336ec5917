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

// confinedFS is the filesystem kustomize sees: the snapshot on disk, read
// only, where every path must resolve inside the root, plus an overlay of
// edited files (the kustomization carrying the Application's overrides).
type confinedFS struct {
	ctx     context.Context
	s       *snapshot
	disk    filesys.FileSystem
	overlay map[string][]byte // real absolute path -> edited content
	cache   map[string][]byte // real absolute path -> content already read
	// violation is the first file refused for escaping the root or for
	// its YAML aliases. Kustomize may swallow or bury the error (an Exists
	// that says false), so Render reports it even when the build succeeded.
	violation error
}

var _ filesys.FileSystem = (*confinedFS)(nil)

func newConfinedFS(ctx context.Context, s *snapshot) *confinedFS {
	return &confinedFS{ctx: ctx, s: s, disk: filesys.MakeFsOnDisk(), overlay: map[string][]byte{}, cache: map[string][]byte{}}
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
	return err == nil && c.disk.IsDir(real)
}

func (c *confinedFS) ReadDir(p string) ([]string, error) {
	real, err := c.check(p)
	if err != nil {
		return nil, err
	}
	return c.disk.ReadDir(real)
}

func (c *confinedFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	real, err := c.check(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", "", errors.New(c.s.rel(filepath.Clean(p)) + ": no such file or directory")
		}
		return "", "", err
	}
	return c.disk.CleanedAbs(real)
}

func (c *confinedFS) Exists(p string) bool {
	_, err := c.check(p)
	return err == nil
}

func (c *confinedFS) Glob(pattern string) ([]string, error) {
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(c.s.root, pattern)
	}
	if _, err := c.check(globBase(pattern)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	matches, err := c.disk.Glob(pattern)
	if err != nil {
		return nil, err
	}
	for _, m := range matches {
		if _, err := c.check(m); err != nil {
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

func (c *confinedFS) Walk(p string, walkFn filepath.WalkFunc) error {
	if _, err := c.check(p); err != nil {
		return err
	}
	// filepath.Walk does not follow symlinks; files it reports are read
	// through ReadFile, which checks them.
	return c.disk.Walk(p, walkFn)
}
