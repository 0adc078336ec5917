package source

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ContentHash returns one hash of the content of paths (directories or
// files, repository-relative) at commit: equal hashes mean equal content.
// A missing path hashes as missing, so adding it changes the hash. The
// commit must be in the cache (Snapshot fetched it).
func (c *Cache) ContentHash(_ context.Context, url, commit string, paths []string) (string, error) {
	e := c.entry(url)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.hashes == nil || len(e.hashes) > maxCachedHashes {
		e.hashes = map[string]string{}
	}
	var b strings.Builder
	var root *object.Tree
	for _, p := range paths {
		p = strings.Trim(path.Clean("/"+p), "/")
		key := commit + "\x00" + p
		h, ok := e.hashes[key] // a commit's content never changes
		if !ok {
			if root == nil {
				var err error
				if root, err = e.rootTree(commit); err != nil {
					return "", fmt.Errorf("repository %s: commit %s: %w", RedactURL(url), commit, err)
				}
			}
			h = root.Hash.String()
			if p != "" {
				if entry, err := root.FindEntry(p); err != nil {
					h = "missing"
				} else {
					h = entry.Hash.String()
				}
			}
			e.hashes[key] = h
		}
		fmt.Fprintf(&b, "%s=%s\n", p, h)
	}
	return b.String(), nil
}

// maxCachedHashes bounds the path hash cache of one repository.
const maxCachedHashes = 100000

// rootTree returns the root tree of a commit. Call with e.mu held.
func (e *repoEntry) rootTree(commit string) (*object.Tree, error) {
	r, err := e.open()
	if err != nil {
		return nil, err
	}
	cm, err := r.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return nil, err
	}
	return cm.Tree()
}
