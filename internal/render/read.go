package render

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// readFile reads the file at abs (named name in errors) after checking that
// it stays inside the root, is a regular file, and fits the size limits. The
// size is checked before reading, so an oversized file is never loaded.
func (s *snapshot) readFile(abs, name string) ([]byte, error) {
	real, err := s.resolve(abs)
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	fi, err := s.stat(real)
	if err != nil {
		return nil, &Error{File: name, Err: plainError(err)}
	}
	if !fi.Mode().IsRegular() {
		return nil, &Error{File: name, Err: errors.New("not a regular file")}
	}
	if err := s.charge(name, fi.Size()); err != nil {
		return nil, err
	}
	f, err := s.fsys.Open(s.name(real))
	if err != nil {
		return nil, &Error{File: name, Err: plainError(err)}
	}
	defer f.Close()
	// The limit also guards against a file that grew since Stat.
	data, err := io.ReadAll(io.LimitReader(f, s.opts.MaxFileBytes+1))
	if err != nil {
		return nil, &Error{File: name, Err: plainError(err)}
	}
	if n := int64(len(data)); n > fi.Size() {
		s.read -= fi.Size()
		if err := s.charge(name, n); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// charge counts size bytes against the per-file and per-render limits.
func (s *snapshot) charge(name string, size int64) error {
	if size > s.opts.MaxFileBytes {
		return &Error{File: name, Err: fmt.Errorf("file is larger than the %d-byte limit", s.opts.MaxFileBytes)}
	}
	if s.read+size > s.opts.MaxTotalBytes {
		return &Error{File: name, Err: fmt.Errorf("reading it would exceed the %d-byte limit for one render", s.opts.MaxTotalBytes)}
	}
	s.read += size
	return nil
}

// exists reports whether abs exists, refusing paths that escape the root.
func (s *snapshot) exists(abs string) (bool, error) {
	_, err := s.resolve(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// countObjects counts n more objects against Options.MaxObjects.
func (s *snapshot) countObjects(n int) error {
	s.objects += n
	if s.objects > s.opts.MaxObjects {
		return fmt.Errorf("render produced more than %d objects", s.opts.MaxObjects)
	}
	return nil
}
