package source

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// open opens (or creates) the bare repository of e. Call with e.mu held.
func (e *repoEntry) open() (*git.Repository, error) {
	if e.repo != nil {
		return e.repo, nil // kept open: its pack index is read once
	}
	// Up to a few pack files stay open: without that, every object read
	// (thousands per rendered commit) opens and closes its pack file again.
	st := filesystem.NewStorageWithOptions(osfs.New(e.dir), cache.NewObjectLRUDefault(), filesystem.Options{MaxOpenDescriptors: 4})
	r, err := git.Open(st, nil)
	if err == nil {
		e.repo = r
		return r, nil
	}
	if !errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, err
	}
	r, err = git.Init(st, nil)
	if err != nil {
		return nil, err
	}
	if _, err = r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{e.url}}); err != nil {
		return nil, err
	}
	e.repo = r
	return r, nil
}

// ensureCommit returns the commit, fetching the repository when it is not
// in the cache yet.
func (c *Cache) ensureCommit(ctx context.Context, e *repoEntry, sha string, creds *Credentials) (*git.Repository, *object.Commit, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.open()
	if err != nil {
		return nil, nil, fmt.Errorf("repository %s: open cache: %w", RedactURL(e.url), err)
	}
	if cm, err := r.CommitObject(plumbing.NewHash(sha)); err == nil {
		return r, cm, nil
	}
	if err := c.fetch(ctx, e, r, creds); err != nil {
		return nil, nil, err
	}
	cm, err := r.CommitObject(plumbing.NewHash(sha))
	if err != nil {
		return nil, nil, fmt.Errorf("repository %s: commit %s not found: it is not reachable from any branch or tag", RedactURL(e.url), sha)
	}
	return r, cm, nil
}

// fetch brings all branches and tags into the bare repository. Call with
// e.mu held.
func (c *Cache) fetch(ctx context.Context, e *repoEntry, r *git.Repository, creds *Credentials) error {
	auth, err := authFor(e.url, creds)
	if err != nil {
		return fmt.Errorf("repository %s: %w", RedactURL(e.url), err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	fo := &git.FetchOptions{
		RemoteName: "origin",
		RemoteURL:  e.url,
		Auth:       auth,
		RefSpecs:   []config.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"},
		Tags:       git.NoTags,
		Force:      true,
	}
	if creds.hasTLS() {
		fo.InsecureSkipTLS, fo.CABundle, fo.ClientCert, fo.ClientKey = creds.Insecure, creds.CAData, creds.TLSClientCert, creds.TLSClientKey
	}
	err = r.FetchContext(ctx, fo)
	c.mu.Lock()
	c.fetches++
	c.mu.Unlock()
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("repository %s: fetch: %w", RedactURL(e.url), err)
	}
	return nil
}

// expandShort finds the full SHA of an abbreviated commit in the cache,
// fetching once when needed.
func (c *Cache) expandShort(ctx context.Context, url, short string, creds *Credentials) (string, error) {
	e := c.entry(url)
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.open()
	if err != nil {
		return "", err
	}
	find := func() string {
		iter, err := r.CommitObjects()
		if err != nil {
			return ""
		}
		defer iter.Close()
		found := ""
		_ = iter.ForEach(func(cm *object.Commit) error {
			if strings.HasPrefix(cm.Hash.String(), short) {
				found = cm.Hash.String()
				return errors.New("stop")
			}
			return nil
		})
		return found
	}
	if h := find(); h != "" {
		return h, nil
	}
	if err := c.fetch(ctx, e, r, creds); err != nil {
		return "", err
	}
	if h := find(); h != "" {
		return h, nil
	}
	return "", fmt.Errorf("commit %s not found", short)
}
