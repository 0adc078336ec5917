package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// errorReuse is how long a failed ref listing is reported without retrying.
const errorReuse = 5 * time.Second

// Options configure a Cache.
type Options struct {
	// Dir holds the bare repositories.
	Dir string
	// Timeout bounds one remote operation (ref listing or fetch).
	Timeout time.Duration
}

// DefaultOptions returns options with a 2-minute remote timeout.
func DefaultOptions(dir string) Options {
	return Options{Dir: dir, Timeout: 2 * time.Minute}
}

// Cache is the shared Git cache. It is safe for concurrent use.
type Cache struct {
	opts  Options
	mu    sync.Mutex
	repos map[string]*repoEntry
	// counters for tests and metrics
	lsRemotes, fetches int64
}

// repoEntry serialises work on one repository URL.
type repoEntry struct {
	mu       sync.Mutex // guards fetches and the bare repo
	refsMu   sync.Mutex // guards refs and refsAt; held during a listing so callers share it
	url      string
	dir      string
	refs     map[string]string // ref name -> commit
	head     string            // HEAD target ref name
	refsAt   time.Time         // time of the last listing attempt
	refsErr  error             // its error, if it failed
	refsKey  string            // fingerprint of the credentials it used
	expired  atomic.Bool       // set by Expire: the next listing asks the remote
	snapMu   sync.Mutex
	snapshot map[string]*Snapshot
	repo     *git.Repository   // the open bare repository; guarded by mu
	hashes   map[string]string // commit + path -> tree entry hash; guarded by mu
	// trees holds decoded trees by hash, treeEntries their entry count;
	// guarded by mu.
	trees       map[plumbing.Hash]*object.Tree
	treeEntries int
}

// NewCache creates a cache rooted at opts.Dir.
func NewCache(opts Options) (*Cache, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Minute
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("source cache %s: %w", opts.Dir, err)
	}
	// Earlier versions checked commits out under snapshots/; nothing reads
	// them any more.
	_ = os.RemoveAll(filepath.Join(opts.Dir, "snapshots"))
	return &Cache{opts: opts, repos: map[string]*repoEntry{}}, nil
}

func (c *Cache) entry(url string) *repoEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.repos[url]
	if !ok {
		sum := sha256.Sum256([]byte(url))
		e = &repoEntry{url: url, dir: filepath.Join(c.opts.Dir, "repos", hex.EncodeToString(sum[:8])), snapshot: map[string]*Snapshot{}}
		c.repos[url] = e
	}
	return e
}

// Expire makes the next listing of url's refs ask the remote, whatever
// its age: a webhook announced a push. It does not wait for a listing in
// progress, which may have missed the push; the one after it will not.
func (c *Cache) Expire(url string) {
	c.entry(url).expired.Store(true)
}

// Stats returns how many ref listings and fetches the cache has made.
func (c *Cache) Stats() (lsRemotes, fetches int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lsRemotes, c.fetches
}

// Refs lists the remote refs of url (ref name -> commit, tags peeled) and
// the ref HEAD points to. A listing younger than maxAge is reused, and
// concurrent callers share one listing, so every app using a repository
// costs one ref advertisement per interval.
func (c *Cache) Refs(ctx context.Context, url string, creds *Credentials, maxAge time.Duration) (map[string]string, string, error) {
	e := c.entry(url)
	e.refsMu.Lock()
	defer e.refsMu.Unlock()
	if e.expired.Swap(false) {
		maxAge = 0 // a push was announced since the last listing
	}
	key := creds.fingerprint()
	age := time.Since(e.refsAt)
	if maxAge > 0 && key == e.refsKey && !e.refsAt.IsZero() {
		// A failed listing is reused only briefly, so a fixed problem (a
		// repository back online) is seen soon; new credentials always
		// cause a new listing.
		if e.refsErr == nil && age < maxAge {
			return e.refs, e.head, nil
		}
		if e.refsErr != nil && age < min(maxAge, errorReuse) {
			return nil, "", e.refsErr
		}
	}
	e.refsKey, e.refsAt = key, time.Now()
	auth, err := authFor(url, creds)
	if err != nil {
		return nil, "", fmt.Errorf("repository %s: %w", RedactURL(url), err)
	}
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	lo := &git.ListOptions{Auth: auth, PeelingOption: git.AppendPeeled}
	if creds.hasTLS() {
		if _, err := creds.tlsConfig(); err != nil { // named here, not as a handshake failure
			return nil, "", fmt.Errorf("repository %s: %w", RedactURL(url), err)
		}
		lo.InsecureSkipTLS, lo.CABundle, lo.ClientCert, lo.ClientKey = creds.Insecure, creds.CAData, creds.TLSClientCert, creds.TLSClientKey
	}
	list, err := rem.ListContext(ctx, lo)
	c.mu.Lock()
	c.lsRemotes++
	c.mu.Unlock()
	if err != nil {
		e.refsErr = fmt.Errorf("repository %s: list refs: %w", RedactURL(url), err)
		return nil, "", e.refsErr
	}
	refs := map[string]string{}
	head := ""
	for _, r := range list {
		name := r.Name().String()
		switch r.Type() {
		case plumbing.HashReference:
			if len(name) > 3 && name[len(name)-3:] == "^{}" {
				refs[name[:len(name)-3]] = r.Hash().String() // peeled tag wins
				continue
			}
			if _, peeled := refs[name]; !peeled {
				refs[name] = r.Hash().String()
			}
		case plumbing.SymbolicReference:
			if name == "HEAD" {
				head = r.Target().String()
			}
		}
	}
	if head != "" {
		if h, ok := refs[head]; ok {
			refs["HEAD"] = h
		}
	}
	e.refs, e.head, e.refsErr = refs, head, nil
	return refs, head, nil
}

// Invalidate forgets the cached ref listing of url (a webhook or a hard
// refresh says it moved).
func (c *Cache) Invalidate(url string) {
	e := c.entry(url)
	e.refsMu.Lock()
	e.refsAt = time.Time{}
	e.refsMu.Unlock()
}
