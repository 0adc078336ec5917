package source

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// IsCommitSHA reports whether rev is a full commit SHA.
func IsCommitSHA(rev string) bool { return fullSHA.MatchString(rev) }

// Resolve turns a targetRevision (branch, tag, full or short commit SHA, or
// HEAD/empty) into a commit, using a ref listing at most maxAge old.
func (c *Cache) Resolve(ctx context.Context, url, rev string, creds *Credentials, maxAge time.Duration) (string, error) {
	rev = strings.TrimSpace(rev)
	if IsCommitSHA(rev) {
		return rev, nil
	}
	refs, _, err := c.Refs(ctx, url, creds, maxAge)
	if err != nil {
		return "", err
	}
	if h, ok := lookupRef(refs, rev); ok {
		return h, nil
	}
	// A short SHA: it must be in the cache after a fetch.
	if regexp.MustCompile(`^[0-9a-f]{4,39}$`).MatchString(rev) {
		if full, err := c.expandShort(ctx, url, rev, creds); err == nil {
			return full, nil
		}
	}
	if maxAge > 0 {
		// Not in the cached listing: the branch or tag may be new.
		if refs, _, err = c.Refs(ctx, url, creds, 0); err != nil {
			return "", err
		}
		if h, ok := lookupRef(refs, rev); ok {
			return h, nil
		}
	}
	return "", fmt.Errorf("repository %s: revision %q not found (no such branch, tag or commit)", RedactURL(url), rev)
}

// lookupRef finds rev as HEAD, a full ref name, a branch or a tag.
func lookupRef(refs map[string]string, rev string) (string, bool) {
	if rev == "" || rev == "HEAD" {
		h, ok := refs["HEAD"]
		return h, ok
	}
	for _, name := range []string{rev, "refs/heads/" + rev, "refs/tags/" + rev} {
		if h, ok := refs[name]; ok && strings.HasPrefix(name, "refs/") {
			return h, true
		}
	}
	return "", false
}
