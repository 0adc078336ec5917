package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Snapshot is an immutable checkout of one commit. Dir must not be written.
type Snapshot struct {
	RepoURL string
	Commit  string
	// Author is "Name <email>".
	Author  string
	Message string
	Time    time.Time
	Dir     string
}

// Subject is the first line of the commit message.
func (s *Snapshot) Subject() string {
	subject, _, _ := strings.Cut(strings.TrimSpace(s.Message), "\n")
	return subject
}

// Snapshot returns the checkout of commit, fetching and extracting it the
// first time. Snapshots are shared: every app at the same commit of the same
// repository reads the same directory.
func (c *Cache) Snapshot(ctx context.Context, url, commit string, creds *Credentials) (*Snapshot, error) {
	e := c.entry(url)
	e.snapMu.Lock()
	defer e.snapMu.Unlock()
	if s, ok := e.snapshot[commit]; ok {
		return s, nil
	}
	_, cm, err := c.ensureCommit(ctx, e, commit, creds)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(c.opts.Dir, "snapshots", filepath.Base(e.dir)+"-"+commit)
	if _, err := os.Stat(dir); err != nil {
		if err := extract(cm, dir); err != nil {
			return nil, fmt.Errorf("repository %s: check out %s: %w", RedactURL(url), commit, err)
		}
	}
	s := &Snapshot{
		RepoURL: url,
		Commit:  commit,
		Author:  fmt.Sprintf("%s <%s>", cm.Author.Name, cm.Author.Email),
		Message: cm.Message,
		Time:    cm.Author.When,
		Dir:     dir,
	}
	e.snapshot[commit] = s
	return s, nil
}

// extract writes the tree of cm into dir through a temporary directory
// renamed into place, so a half-written snapshot is never seen.
func extract(cm *object.Commit, dir string) error {
	tree, err := cm.Tree()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	err = tree.Files().ForEach(func(f *object.File) error {
		dst := filepath.Join(tmp, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(dst, tmp+string(filepath.Separator)) {
			return fmt.Errorf("file %s: path escapes the checkout", f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		switch f.Mode {
		case filemode.Symlink:
			target, err := f.Contents()
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case filemode.Submodule:
			return nil
		}
		perm := os.FileMode(0o444)
		if f.Mode == filemode.Executable {
			perm = 0o555
		}
		rd, err := f.Reader()
		if err != nil {
			return err
		}
		defer rd.Close()
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, perm)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, rd); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		return err
	}
	return nil
}
