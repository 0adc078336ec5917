package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// snapshot is one render's view of the repository: its root, the files
// below it, and the budget of bytes and objects left.
type snapshot struct {
	root string // absolute and free of symlinks
	// fsys holds the files: name "." is root. Every name passed to it is
	// free of symlinks (resolve found them), so it is never asked to
	// follow one.
	fsys    fs.FS
	opts    Options
	read    int64
	objects int
	// inputs are the paths, relative to the root, that the render looked
	// at (see note).
	inputs map[string]bool
	// refs are the repositories value files may name as "$ref/path".
	refs map[string]fs.FS
}

// fsRoot is where a repository given as an fs.FS appears to be: paths
// are absolute inside a render (kustomize wants them so), and an absolute
// symlink target outside fsRoot leaves the repository.
const fsRoot = "/repository"

// newSnapshot opens the repository: fsys when it is not nil, else the
// directory root on disk.
func newSnapshot(root string, fsys fs.FS, opts Options) (*snapshot, error) {
	if fsys != nil {
		return &snapshot{root: fsRoot, fsys: fsys, opts: opts.withDefaults()}, nil
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("repository root %s: %w", root, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("repository root %s: %w", root, plainError(err))
	}
	return &snapshot{root: real, fsys: os.DirFS(real), opts: opts.withDefaults()}, nil
}

// name is abs (clean, inside the root) as a name in fsys.
func (s *snapshot) name(abs string) string {
	if abs == s.root {
		return "."
	}
	if s.root == string(filepath.Separator) {
		return filepath.ToSlash(abs[1:])
	}
	return filepath.ToSlash(strings.TrimPrefix(abs, s.root+string(filepath.Separator)))
}

// stat follows symlinks; call it on resolved paths only.
func (s *snapshot) stat(abs string) (fs.FileInfo, error) {
	return fs.Stat(s.fsys, s.name(abs))
}

// isDir reports whether the resolved path abs is a directory.
func (s *snapshot) isDir(abs string) bool {
	fi, err := s.stat(abs)
	return err == nil && fi.IsDir()
}

// within reports whether p is root or below it; both must be clean and
// absolute.
func within(root, p string) bool {
	if root == string(filepath.Separator) {
		return true
	}
	return p == root || strings.HasPrefix(p, root+string(filepath.Separator))
}

// maxSymlinks bounds the links followed while resolving one path.
const maxSymlinks = 255

// resolve follows every symlink in abs (an absolute path), one component at
// a time, and returns the real location. It fails with ErrPathEscapes as
// soon as a component or a link target leaves the root (even a dangling
// link), and with fs.ErrNotExist when the path does not exist.
//
// Every path it looks at is noted as an input of the render (see note).
func (s *snapshot) resolve(abs string) (string, error) {
	abs = filepath.Clean(abs)
	if !within(s.root, abs) {
		return "", ErrPathEscapes
	}
	s.note(abs)
	rest := splitPath(strings.TrimPrefix(abs, s.root))
	cur := s.root
	for links := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			if !within(s.root, cur) {
				return "", ErrPathEscapes
			}
			continue
		}
		next := filepath.Join(cur, c)
		fi, err := fs.Lstat(s.fsys, s.name(next))
		if err != nil {
			s.note(next) // creating it later changes the render
			if errors.Is(err, fs.ErrNotExist) {
				return "", fs.ErrNotExist
			}
			return "", plainError(err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		s.note(next) // retargeting the link changes the render
		if links++; links > maxSymlinks {
			return "", errors.New("too many levels of symbolic links")
		}
		target, err := fs.ReadLink(s.fsys, s.name(next))
		if err != nil {
			return "", plainError(err)
		}
		target = filepath.FromSlash(target)
		if filepath.IsAbs(target) {
			target = filepath.Clean(target)
			if !within(s.root, target) {
				return "", ErrPathEscapes
			}
			target, cur = strings.TrimPrefix(target, s.root), s.root
		}
		rest = append(splitPath(target), rest...)
	}
	s.note(cur)
	return cur, nil
}

func splitPath(p string) []string {
	return strings.Split(p, string(filepath.Separator))
}

// abs turns a slash-separated path relative to the root into an absolute
// one; it does not check confinement.
func (s *snapshot) abs(rel string) string {
	return filepath.Join(s.root, filepath.FromSlash(rel))
}

// rel names abs relative to the root, slash-separated, for messages.
func (s *snapshot) rel(abs string) string {
	r, err := filepath.Rel(s.root, abs)
	if err != nil {
		return abs
	}
	return filepath.ToSlash(r)
}

// appDir checks the application path and returns its absolute location and
// its clean, slash-separated name relative to the root.
func (s *snapshot) appDir(p string) (string, string, error) {
	rel := path.Clean("/" + filepath.ToSlash(p))[1:]
	lexical := path.Clean(filepath.ToSlash(p))
	if lexical == ".." || strings.HasPrefix(lexical, "../") {
		return "", "", &Error{File: p, Err: ErrPathEscapes}
	}
	if rel == "" {
		rel = "."
	}
	abs := s.abs(rel)
	real, err := s.resolve(abs)
	switch {
	case errors.Is(err, ErrPathEscapes):
		return "", "", &Error{File: p, Err: ErrPathEscapes}
	case errors.Is(err, fs.ErrNotExist):
		return "", "", &missingPathError{path: rel}
	case err != nil:
		return "", "", &Error{File: rel, Err: err}
	}
	fi, err := s.stat(real)
	if err != nil {
		return "", "", &Error{File: rel, Err: plainError(err)}
	}
	if !fi.IsDir() {
		return "", "", &Error{File: rel, Err: errors.New("not a directory")}
	}
	return abs, rel, nil
}
