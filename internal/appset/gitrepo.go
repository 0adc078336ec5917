package appset

import (
	"context"
	"io/fs"
	"time"

	"github.com/tether-gitops/tether/internal/source"
)

// SourceRepos reads repositories through the shared source cache: the
// revision is resolved with a ref listing at most MaxAge old and the
// commit's snapshot is read in place.
type SourceRepos struct {
	Cache *source.Cache
	// Credentials returns the credentials of a repository; nil (or a nil
	// result) is anonymous access.
	Credentials func(ctx context.Context, repoURL string) (*source.Credentials, error)
	// MaxAge is how old a cached ref listing may be; 0 lists again.
	MaxAge time.Duration
}

var _ Repos = (*SourceRepos)(nil)

// Open implements Repos.
func (s *SourceRepos) Open(ctx context.Context, repoURL, revision string) (fs.FS, string, error) {
	var creds *source.Credentials
	if s.Credentials != nil {
		c, err := s.Credentials(ctx, repoURL)
		if err != nil {
			return nil, "", err
		}
		creds = c
	}
	commit, err := s.Cache.Resolve(ctx, repoURL, revision, creds, s.MaxAge)
	if err != nil {
		return nil, "", err
	}
	snap, err := s.Cache.Snapshot(ctx, repoURL, commit, creds)
	if err != nil {
		return nil, "", err
	}
	return snap.FS, snap.Commit, nil
}
