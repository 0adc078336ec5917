package source

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

func startServer(t *testing.T) *gitserver.Server {
	t.Helper()
	srv, err := gitserver.Start(gitserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func newCache(t *testing.T) *Cache {
	t.Helper()
	c, err := NewCache(DefaultOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSnapshotOverEveryTransport(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		access gitserver.Access
		url    func(*gitserver.Repo) string
		creds  *Credentials
	}{
		{"anonymous HTTP", gitserver.Anonymous, (*gitserver.Repo).HTTPURL, nil},
		{"HTTP with basic auth", gitserver.BasicAuth, (*gitserver.Repo).HTTPURL, &Credentials{Username: srv.Username(), Password: srv.Password()}},
		{"HTTP with a bearer token", gitserver.BearerToken, (*gitserver.Repo).HTTPURL, &Credentials{BearerToken: srv.Token()}},
		{"HTTP with a token as password", gitserver.BearerToken, (*gitserver.Repo).HTTPURL, &Credentials{Password: srv.Token()}},
		{"SSH with a verified host key", gitserver.Anonymous, (*gitserver.Repo).SSHURL, &Credentials{SSHPrivateKey: srv.ClientPrivateKey(), KnownHosts: srv.KnownHosts()}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo, err := srv.CreateRepo("r"+string(rune('a'+i)), tc.access)
			if err != nil {
				t.Fatal(err)
			}
			sha, err := repo.CommitAs(gitserver.Author{Name: "Ada", Email: "ada@example.test"}, "main",
				map[string]string{"apps/api/cm.yaml": "kind: ConfigMap\n"}, nil, "add api\n\nbody")
			if err != nil {
				t.Fatal(err)
			}
			c := newCache(t)
			got, err := c.Resolve(ctx, tc.url(repo), "main", tc.creds, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if got != sha {
				t.Fatalf("resolved %s, want %s", got, sha)
			}
			snap, err := c.Snapshot(ctx, tc.url(repo), sha, tc.creds)
			if err != nil {
				t.Fatal(err)
			}
			b, err := fs.ReadFile(snap.FS, "apps/api/cm.yaml")
			if err != nil || string(b) != "kind: ConfigMap\n" {
				t.Fatalf("snapshot file = %q, %v", b, err)
			}
			if snap.Author != "Ada <ada@example.test>" || snap.Subject() != "add api" {
				t.Errorf("metadata = %q / %q", snap.Author, snap.Subject())
			}
		})
	}
}

func TestResolveRevisions(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	repo, err := srv.CreateRepo("revs", gitserver.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	first, err := repo.Commit("main", map[string]string{"a.yaml": "a"}, nil, "first")
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Tag("v1.0.0", first); err != nil {
		t.Fatal(err)
	}
	second, err := repo.Commit("main", map[string]string{"a.yaml": "b"}, nil, "second")
	if err != nil {
		t.Fatal(err)
	}
	other, err := repo.Commit("feature", map[string]string{"b.yaml": "b"}, nil, "feature work")
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(t)
	for rev, want := range map[string]string{
		"":                second,
		"HEAD":            second,
		"main":            second,
		"refs/heads/main": second,
		"feature":         other,
		"v1.0.0":          first,
		first:             first,
		first[:10]:        first,
	} {
		got, err := c.Resolve(ctx, repo.HTTPURL(), rev, nil, time.Minute)
		if err != nil {
			t.Errorf("Resolve(%q): %v", rev, err)
			continue
		}
		if got != want {
			t.Errorf("Resolve(%q) = %s, want %s", rev, got, want)
		}
	}
	if _, err := c.Resolve(ctx, repo.HTTPURL(), "no-such-branch", nil, time.Minute); err == nil || !strings.Contains(err.Error(), `revision "no-such-branch" not found`) {
		t.Errorf("missing branch error = %v", err)
	}
	// An old commit stays reachable for rollback.
	snap, err := c.Snapshot(ctx, repo.HTTPURL(), first, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := fs.ReadFile(snap.FS, "a.yaml"); string(b) != "a" {
		t.Errorf("old snapshot holds %q", b)
	}
}

func TestRefListingIsSharedWithinMaxAge(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	repo, err := srv.CreateRepo("shared", gitserver.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Commit("main", map[string]string{"a": "1"}, nil, "one"); err != nil {
		t.Fatal(err)
	}
	c := newCache(t)
	for i := 0; i < 50; i++ {
		if _, err := c.Resolve(ctx, repo.HTTPURL(), "main", nil, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if ls, _ := c.Stats(); ls != 1 {
		t.Fatalf("50 resolutions made %d ref listings, want 1", ls)
	}
	if got := repo.Requests().InfoRefs; got != 1 {
		t.Fatalf("server saw %d ref advertisements, want 1", got)
	}
	next, err := repo.Commit("main", map[string]string{"a": "2"}, nil, "two")
	if err != nil {
		t.Fatal(err)
	}
	c.Invalidate(repo.HTTPURL())
	got, err := c.Resolve(ctx, repo.HTTPURL(), "main", nil, time.Hour)
	if err != nil || got != next {
		t.Fatalf("after invalidation resolved %s (%v), want %s", got, err, next)
	}
}

func TestAccessErrorsNeverShowCredentials(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	repo, err := srv.CreateRepo("private", gitserver.BasicAuth)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Commit("main", map[string]string{"a": "1"}, nil, "one"); err != nil {
		t.Fatal(err)
	}
	c := newCache(t)
	_, err = c.Resolve(ctx, repo.HTTPURL(), "main", &Credentials{Username: srv.Username(), Password: "wrong-secret-pw"}, 0)
	if err == nil {
		t.Fatal("want an error with a wrong password")
	}
	if strings.Contains(err.Error(), "wrong-secret-pw") || !strings.Contains(err.Error(), repo.HTTPURL()) {
		t.Errorf("error %q must name the repo and hide the password", err)
	}
	withPw := strings.Replace(repo.HTTPURL(), "http://", "http://u:inline-secret@", 1)
	_, err = c.Resolve(ctx, withPw, "main", nil, 0)
	if err == nil || strings.Contains(err.Error(), "inline-secret") {
		t.Errorf("error %v must hide a password in the URL", err)
	}
	_, err = c.Resolve(ctx, "http://127.0.0.1:1/nothing.git", "main", nil, 0)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("unreachable repo error = %v", err)
	}
}

func TestSSHRefusesAnUnknownHostKey(t *testing.T) {
	srv := startServer(t)
	other := startServer(t)
	repo, err := srv.CreateRepo("ssh", gitserver.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Commit("main", map[string]string{"a": "1"}, nil, "one"); err != nil {
		t.Fatal(err)
	}
	c := newCache(t)
	wrongHosts := strings.Replace(string(other.KnownHosts()), other.SSHAddr()[strings.LastIndex(other.SSHAddr(), ":")+1:], srv.SSHAddr()[strings.LastIndex(srv.SSHAddr(), ":")+1:], 1)
	_, err = c.Resolve(context.Background(), repo.SSHURL(), "main", &Credentials{SSHPrivateKey: srv.ClientPrivateKey(), KnownHosts: []byte(wrongHosts)}, 0)
	if err == nil || !strings.Contains(err.Error(), "known_hosts") {
		t.Fatalf("want a host key error, got %v", err)
	}
	_, err = c.Resolve(context.Background(), repo.SSHURL(), "main", &Credentials{SSHPrivateKey: srv.ClientPrivateKey()}, 0)
	if err == nil || !strings.Contains(err.Error(), "known_hosts") {
		t.Fatalf("want a missing known_hosts error, got %v", err)
	}
}

func TestNewCredentialsCauseANewListing(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	repo, err := srv.CreateRepo("creds", gitserver.BasicAuth)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Commit("main", map[string]string{"a": "1"}, nil, "one"); err != nil {
		t.Fatal(err)
	}
	c := newCache(t)
	good := &Credentials{Username: srv.Username(), Password: srv.Password()}
	if _, err := c.Resolve(ctx, repo.HTTPURL(), "main", good, time.Hour); err != nil {
		t.Fatal(err)
	}
	bad := &Credentials{Username: srv.Username(), Password: "changed"}
	if _, err := c.Resolve(ctx, repo.HTTPURL(), "main", bad, time.Hour); err == nil {
		t.Fatal("changed credentials must be used at once, not hidden by a cached listing")
	}
	// The failure is remembered briefly for the same credentials...
	if _, err := c.Resolve(ctx, repo.HTTPURL(), "main", bad, time.Hour); err == nil {
		t.Fatal("a failed listing must be reported again")
	}
	if ls, _ := c.Stats(); ls != 2 {
		t.Fatalf("%d listings, want 2 (the repeated failure is not retried at once)", ls)
	}
	// ...and fixed credentials work at once.
	if _, err := c.Resolve(ctx, repo.HTTPURL(), "main", good, time.Hour); err != nil {
		t.Fatal(err)
	}
}
