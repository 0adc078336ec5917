package source

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// ContentHash returns one hash of the content of paths (directories or
// files, repository-relative) at commit: equal hashes mean equal content.
// A missing path hashes as missing, so adding it changes the hash. The
// commit must be in the cache (Snapshot fetched it).
func (c *Cache) ContentHash(_ context.Context, url, commit string, paths []string) (string, error) {
	e := c.entry(url)
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.open()
	if err != nil {
		return "", err
	}
	cm, err := r.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return "", fmt.Errorf("repository %s: commit %s: %w", RedactURL(url), commit, err)
	}
	root, err := cm.Tree()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range paths {
		p = strings.Trim(path.Clean("/"+p), "/")
		h := root.Hash.String()
		if p != "" {
			entry, err := root.FindEntry(p)
			if err != nil {
				h = "missing"
			} else {
				h = entry.Hash.String()
			}
		}
		fmt.Fprintf(&b, "%s=%s\n", p, h)
	}
	return b.String(), nil
}
