package render

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"path/filepath"
)

// visitFunc sees one directory entry below the walked directory: rel is its
// slash-separated path relative to that directory. For a directory it
// returns whether to descend into it; files are read by the visitor itself
// (through snapshot.readFile, which checks confinement and size).
type visitFunc func(rel, abs string, isDir bool) (descend bool, err error)

// walk visits the entries below dir in lexical order, like filepath.WalkDir,
// but follows symlinked directories that stay inside the root; each real
// directory is visited once, so symlink loops end.
func (s *snapshot) walk(ctx context.Context, dir string, visit visitFunc) error {
	real, err := s.resolve(dir)
	if err != nil {
		return &Error{File: s.rel(dir), Err: err}
	}
	seen := map[string]bool{real: true}
	return s.walkDir(ctx, dir, real, "", seen, visit)
}

// walkDir lists real, the resolved location of dir.
func (s *snapshot) walkDir(ctx context.Context, dir, real, rel string, seen map[string]bool, visit visitFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := fs.ReadDir(s.fsys, s.name(real))
	if err != nil {
		return &Error{File: s.rel(dir), Err: plainError(err)}
	}
	for _, e := range entries {
		abs := filepath.Join(dir, e.Name())
		entryRel := path.Join(rel, e.Name())
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			// Where the link leads decides whether it is descended into
			// or read; a link leaving the repository is refused here,
			// whatever it points to. A dangling link counts as a file:
			// reading it reports the problem if the visitor wants it.
			target, err := s.resolve(abs)
			switch {
			case err == nil:
				isDir = s.isDir(target)
			case errors.Is(err, ErrPathEscapes):
				return &Error{File: s.rel(abs), Err: err}
			}
		}
		descend, err := visit(entryRel, abs, isDir)
		if err != nil {
			return err
		}
		if !isDir || !descend {
			continue
		}
		realDir, err := s.resolve(abs)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return &Error{File: s.rel(abs), Err: err}
		}
		if seen[realDir] {
			continue
		}
		seen[realDir] = true
		if err := s.walkDir(ctx, abs, realDir, entryRel, seen, visit); err != nil {
			return err
		}
	}
	return nil
}
