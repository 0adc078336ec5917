package render

import (
	"errors"
	"io/fs"
)

// ErrPathEscapes is wrapped by every error about a path, symlink or
// reference that leads outside the repository.
var ErrPathEscapes = errors.New("path escapes the repository")

// Error names the file (relative to the repository root) that caused a
// render failure.
type Error struct {
	File string
	Err  error
}

func (e *Error) Error() string { return e.File + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// missingPathError reports an application path that is not in the snapshot.
type missingPathError struct{ path string }

func (e *missingPathError) Error() string {
	return "path " + e.path + " does not exist in the repository"
}

func (e *missingPathError) Unwrap() error { return fs.ErrNotExist }

// plainError drops the absolute path an *fs.PathError carries, so messages
// never show where the snapshot lives on disk.
func plainError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
