package source

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// Snapshot is an immutable view of one commit, or of one chart version
// from a Helm repository.
type Snapshot struct {
	RepoURL string
	// Commit is the commit SHA, or the chart version.
	Commit string
	// Author is "Name <email>".
	Author  string
	Message string
	Time    time.Time
	// FS is the commit's tree, read-only and read lazily from the cached
	// repository. It also implements fs.StatFS, fs.ReadDirFS,
	// fs.ReadFileFS and fs.ReadLinkFS, follows symbolic links only inside
	// the tree (ErrLinkEscapes otherwise) and leaves out submodules. Every
	// entry's ModTime is Time. It is safe for concurrent use.
	FS fs.FS

	// commit is the Git commit object (nil for a chart), for signature
	// checks.
	commit *object.Commit
}

// Subject is the first line of the commit message.
func (s *Snapshot) Subject() string {
	subject, _, _ := strings.Cut(strings.TrimSpace(s.Message), "\n")
	return subject
}

// Describe names the snapshot for events and logs: "abc1234 (Author
// <email>, subject)" for a commit, "Helm chart NAME VERSION" for a chart.
func (s *Snapshot) Describe() string {
	if s.Author == "" && !IsCommitSHA(s.Commit) {
		return s.Subject()
	}
	c := s.Commit
	if len(c) > 7 {
		c = c[:7]
	}
	return fmt.Sprintf("%s (%s, %s)", c, s.Author, s.Subject())
}

// Snapshot returns the snapshot of commit, fetching it the first time.
// Besides a fetch, nothing is written to disk: files are read from the
// cached repository when used. Snapshots are shared: every app at the same
// commit of the same repository reads the same one.
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
	e.mu.Lock()
	_, err = e.tree(cm.TreeHash) // fails early on a broken cache
	e.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("repository %s: commit %s: read tree: %w", RedactURL(url), commit, err)
	}
	s := &Snapshot{
		RepoURL: url,
		Commit:  commit,
		Author:  fmt.Sprintf("%s <%s>", cm.Author.Name, cm.Author.Email),
		Message: cm.Message,
		Time:    cm.Author.When,
		FS:      &treeFS{e: e, root: cm.TreeHash, mtime: cm.Author.When},
		commit:  cm,
	}
	e.snapshot[commit] = s
	return s, nil
}
