package source

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
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
				if entry, ok := e.findEntry(root, p); ok {
					h = entry.String()
				} else {
					h = "missing"
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

// maxCachedTreeEntries bounds the decoded trees kept per repository, counted
// in tree entries.
const maxCachedTreeEntries = 200000

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
	return e.tree(cm.TreeHash)
}

// tree returns a decoded tree, from the cache of decoded trees when it was
// read before: the paths of many apps share their parent directories (a
// thousand apps under one directory would otherwise decode that directory
// a thousand times). Call with e.mu held.
func (e *repoEntry) tree(h plumbing.Hash) (*object.Tree, error) {
	if t, ok := e.trees[h]; ok {
		return t, nil
	}
	r, err := e.open()
	if err != nil {
		return nil, err
	}
	t, err := r.TreeObject(h)
	if err != nil {
		return nil, err
	}
	if e.trees == nil || e.treeEntries > maxCachedTreeEntries {
		e.trees, e.treeEntries = map[plumbing.Hash]*object.Tree{}, 0
	}
	e.trees[h] = t
	e.treeEntries += len(t.Entries)
	return t, nil
}

// findEntry returns the hash of the entry at path p (slash-separated, no
// leading slash) under root; false when there is none. Call with e.mu held.
func (e *repoEntry) findEntry(root *object.Tree, p string) (plumbing.Hash, bool) {
	t := root
	parts := strings.Split(p, "/")
	for i, name := range parts {
		entry, err := t.FindEntry(name) // one component: a map lookup in t
		if err != nil {
			return plumbing.ZeroHash, false
		}
		if i == len(parts)-1 {
			return entry.Hash, true
		}
		if entry.Mode != filemode.Dir {
			return plumbing.ZeroHash, false
		}
		if t, err = e.tree(entry.Hash); err != nil {
			return plumbing.ZeroHash, false
		}
	}
	return plumbing.ZeroHash, false
}
