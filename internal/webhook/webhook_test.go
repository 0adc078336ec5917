package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

const githubPush = `{"ref": "refs/heads/main", "repository": {"html_url": "https://github.com/example/infra",
 "clone_url": "https://github.com/example/infra.git", "ssh_url": "git@github.com:example/infra.git", "default_branch": "main"}}`

func sign(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestParseProviders(t *testing.T) {
	gitlab := `{"ref": "refs/tags/v1.2.0", "project": {"web_url": "https://gitlab.example/team/infra", "git_http_url": "https://gitlab.example/team/infra.git",
	 "git_ssh_url": "ssh://git@gitlab.example:2222/team/infra.git", "default_branch": "main"}}`
	bitbucket := `{"repository": {"full_name": "team/infra", "links": {"html": {"href": "https://bitbucket.org/team/infra"}}, "mainbranch": {"name": "main"}},
	 "push": {"changes": [{"new": {"type": "branch", "name": "release"}}, {"new": null}]}}`
	bbServer := `{"repository": {"links": {"clone": [{"href": "https://bb.example/scm/team/infra.git"}, {"href": "ssh://git@bb.example:7999/team/infra.git"}]}},
	 "changes": [{"ref": {"id": "refs/heads/main"}, "type": "UPDATE"}, {"ref": {"id": "refs/heads/old"}, "type": "DELETE"}]}`
	secrets := map[string][]byte{GitHubSecret: []byte("gh"), GitLabSecret: []byte("gl"), GogsSecret: []byte("gt"), BitbucketUUID: []byte("uuid-1"), BitbucketServerSecret: []byte("bs")}
	cases := []struct {
		name   string
		header http.Header
		body   string
		refs   []string
		urls   int
		deflt  string
	}{
		{"github", hdr("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign("gh", githubPush)), githubPush, []string{"refs/heads/main"}, 3, "main"},
		{"gitea", hdr("X-Gitea-Event", "push", "X-Gitea-Signature", sign("gt", githubPush)), githubPush, []string{"refs/heads/main"}, 3, "main"},
		{"forgejo", hdr("X-Forgejo-Event", "push", "X-Forgejo-Signature", sign("gt", githubPush)), githubPush, []string{"refs/heads/main"}, 3, "main"},
		{"gitlab", hdr("X-Gitlab-Event", "Tag Push Hook", "X-Gitlab-Token", "gl"), gitlab, []string{"refs/tags/v1.2.0"}, 3, "main"},
		{"bitbucket", hdr("X-Event-Key", "repo:push", "X-Hook-UUID", "uuid-1"), bitbucket, []string{"refs/heads/release"}, 3, "main"},
		{"bitbucket server", hdr("X-Event-Key", "repo:refs_changed", "X-Hub-Signature", "sha256="+sign("bs", bbServer)), bbServer, []string{"refs/heads/main"}, 2, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.header, []byte(tc.body), secrets)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Refs, tc.refs) || len(p.URLs) != tc.urls || p.DefaultBranch != tc.deflt {
				t.Errorf("push %+v", p)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	secrets := map[string][]byte{GitHubSecret: []byte("gh"), GitLabSecret: []byte("gl"), BitbucketUUID: []byte("uuid-1")}
	cases := []struct {
		name   string
		header http.Header
		body   string
		status int
		want   string
	}{
		{"unsigned", hdr("X-GitHub-Event", "push"), githubPush, 401, "without the X-Hub-Signature-256 signature, but webhook.github.secret is set"},
		{"wrong signature", hdr("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign("other", githubPush)), githubPush, 401, "does not match webhook.github.secret"},
		{"signature of another body", hdr("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign("gh", githubPush+" ")), githubPush, 401, "does not match"},
		{"malformed signature", hdr("X-GitHub-Event", "push", "X-Hub-Signature-256", "md5=abc"), githubPush, 401, "malformed"},
		{"wrong GitLab token", hdr("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", "nope"), `{}`, 401, "X-Gitlab-Token does not match webhook.gitlab.secret"},
		{"wrong Bitbucket UUID", hdr("X-Event-Key", "repo:push"), `{}`, 401, "X-Hook-UUID does not match"},
		{"no provider", hdr("Content-Type", "application/json"), githubPush, 400, "unknown webhook"},
		{"invalid JSON", hdr("X-Gitea-Event", "push"), `{"ref": `, 400, "gitea push event: invalid JSON"},
		{"no repository", hdr("X-Gitea-Event", "push"), `{"ref": "refs/heads/main"}`, 400, "no repository URL"},
		{"no ref", hdr("X-Gitea-Event", "push"), `{"repository": {"clone_url": "https://g.example/a.git"}}`, 400, "no ref"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.header, []byte(tc.body), secrets)
			var e *Error
			if !errors.As(err, &e) || e.Status != tc.status || !strings.Contains(e.Msg, tc.want) {
				t.Fatalf("error %v, want %d containing %q", err, tc.status, tc.want)
			}
			if strings.Contains(e.Msg, "gh") && strings.Contains(e.Msg, "secret is gh") {
				t.Errorf("the message shows the secret: %s", e.Msg)
			}
		})
	}
	// Events that are not pushes are ignored, once the signature is good.
	for _, h := range []http.Header{
		hdr("X-GitHub-Event", "ping", "X-Hub-Signature-256", "sha256="+sign("gh", `{}`)),
		hdr("X-Gitlab-Event", "Merge Request Hook", "X-Gitlab-Token", "gl"),
		hdr("X-Event-Key", "diagnostics:ping"),
	} {
		if _, err := Parse(h, []byte(`{}`), secrets); !errors.Is(err, ErrIgnored) {
			t.Errorf("%v: %v, want ErrIgnored", h, err)
		}
	}
	// Without a secret, events are accepted unchecked (as in Argo CD).
	if _, err := Parse(hdr("X-GitHub-Event", "push"), []byte(githubPush), nil); err != nil {
		t.Errorf("no secret: %v", err)
	}
}

func TestRepoKeyAndWants(t *testing.T) {
	same := []string{"https://github.com/Example/infra", "https://github.com/example/infra.git", "git@github.com:example/infra.git",
		"ssh://git@github.com:22/example/infra.git", "http://user@github.com/example/infra/"}
	for _, u := range same {
		if got := RepoKey(u); got != "github.com/example/infra" {
			t.Errorf("RepoKey(%q) = %q", u, got)
		}
	}
	if RepoKey("https://github.com/example/infra-old") == RepoKey("https://github.com/example/infra") {
		t.Error("different repositories compare equal")
	}
	p := &Push{URLs: []string{"https://github.com/example/infra"}, Refs: []string{"refs/heads/main"}, DefaultBranch: "main"}
	for rev, want := range map[string]bool{"": true, "HEAD": true, "main": true, "refs/heads/main": true, "dev": false, "v1.0.0": false, "0123456789abcdef0123456789abcdef01234567": false} {
		if got := p.Wants(rev); got != want {
			t.Errorf("push of main: Wants(%q) = %v", rev, got)
		}
	}
	dev := &Push{Refs: []string{"refs/heads/dev"}, DefaultBranch: "main"}
	if dev.Wants("HEAD") || !dev.Wants("dev") {
		t.Error("a push of dev: HEAD follows main only")
	}
	unknownDefault := &Push{Refs: []string{"refs/heads/dev"}}
	if !unknownDefault.Wants("HEAD") {
		t.Error("without the default branch, a branch push refreshes HEAD apps")
	}
	tag := &Push{Refs: []string{"refs/tags/v1.0.0"}, DefaultBranch: "main"}
	if !tag.Wants("v1.0.0") || tag.Wants("HEAD") || tag.Wants("main") {
		t.Error("a tag push")
	}
	if !p.Names("git@github.com:example/infra.git") || p.Names("https://github.com/example/other") {
		t.Error("Names")
	}
}

func TestProvider(t *testing.T) {
	for want, h := range map[string]http.Header{
		"github":          hdr("X-GitHub-Event", "push"),
		"gitea":           hdr("X-Gogs-Event", "push"),
		"gitlab":          hdr("X-Gitlab-Event", "Push Hook"),
		"bitbucket":       hdr("X-Event-Key", "repo:push"),
		"bitbucketserver": hdr("X-Event-Key", "repo:refs_changed"),
		"":                hdr("Content-Type", "application/json"),
	} {
		if got := Provider(h); got != want {
			t.Errorf("Provider(%v) = %q, want %q", h, got, want)
		}
	}
}

func TestAzureDevOps(t *testing.T) {
	body := `{"eventType": "git.push", "resource": {"refUpdates": [{"name": "refs/heads/main", "newObjectId": "abc123"}, {"name": "refs/heads/gone", "newObjectId": "0000000000000000000000000000000000000000"}],
	 "repository": {"remoteUrl": "https://org@dev.azure.com/org/shop/_git/infra", "sshUrl": "git@ssh.dev.azure.com:v3/org/shop/infra", "defaultBranch": "refs/heads/main"}}}`
	secrets := map[string][]byte{AzureDevOpsUsername: []byte("hook"), AzureDevOpsPassword: []byte("pw")}
	h := hdr("X-Vss-Activityid", "1")
	if _, err := Parse(h, []byte(body), secrets); err == nil || !strings.Contains(err.Error(), "basic auth does not match") {
		t.Errorf("without basic auth: %v", err)
	}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("hook:pw")))
	p, err := Parse(h, []byte(body), secrets)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Refs, []string{"refs/heads/main"}) || p.DefaultBranch != "main" || Provider(h) != "azuredevops" {
		t.Errorf("push %+v", p)
	}
	for _, u := range []string{"https://dev.azure.com/org/shop/_git/infra", "git@ssh.dev.azure.com:v3/org/shop/infra"} {
		if !p.Names(u) {
			t.Errorf("%s not named", u)
		}
	}
	if _, err := Parse(h, []byte(`{"eventType": "git.pullrequest.created"}`), secrets); !errors.Is(err, ErrIgnored) {
		t.Errorf("a pull request event: %v", err)
	}
}
