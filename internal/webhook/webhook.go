// Package webhook reads the push events Git servers send (GitHub, GitLab,
// Gitea, Gogs, Forgejo, Bitbucket Cloud, Bitbucket Server and Azure
// DevOps), checks
// their signature or token against the secrets Argo CD keeps in the
// argocd-secret Secret, and says which repository and ref were pushed.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Secret keys of argocd-secret, as Argo CD names them.
const (
	GitHubSecret          = "webhook.github.secret"
	GitLabSecret          = "webhook.gitlab.secret"
	GogsSecret            = "webhook.gogs.secret" // also Gitea and Forgejo
	BitbucketUUID         = "webhook.bitbucket.uuid"
	BitbucketServerSecret = "webhook.bitbucketserver.secret"
	AzureDevOpsUsername   = "webhook.azuredevops.username"
	AzureDevOpsPassword   = "webhook.azuredevops.password"
)

// Push is one pushed ref of a repository.
type Push struct {
	// Provider names the Git server kind ("github", "gitlab", ...).
	Provider string
	// URLs are the repository's addresses the event names (web, HTTPS
	// clone, SSH clone).
	URLs []string
	// Refs are the full names of the refs pushed ("refs/heads/main",
	// "refs/tags/v1").
	Refs []string
	// DefaultBranch is the repository's default branch, when the event
	// says it.
	DefaultBranch string
}

// Error is a request tether refuses, with the HTTP status to answer.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func refuse(status int, format string, args ...any) error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// ErrIgnored is returned for events that are not pushes (a ping, an issue
// comment): they are answered with success and do nothing.
var ErrIgnored = errors.New("not a push event")

// Parse reads one event: header names the provider, body is the payload,
// secrets the keys of argocd-secret. A provider whose secret is set must
// sign (or carry the token or UUID); without a secret, events are
// accepted unchecked, as in Argo CD.
func Parse(header http.Header, body []byte, secrets map[string][]byte) (*Push, error) {
	switch {
	case header.Get("X-GitHub-Event") != "":
		if err := checkHMAC(header.Get("X-Hub-Signature-256"), "sha256=", body, secrets[GitHubSecret], "X-Hub-Signature-256", GitHubSecret); err != nil {
			return nil, err
		}
		if header.Get("X-GitHub-Event") != "push" {
			return nil, ErrIgnored
		}
		return parseGitHubLike("github", body)
	case header.Get("X-Gitea-Event") != "" || header.Get("X-Gogs-Event") != "" || header.Get("X-Forgejo-Event") != "":
		sig := firstNonEmpty(header.Get("X-Gitea-Signature"), header.Get("X-Gogs-Signature"), header.Get("X-Forgejo-Signature"))
		if err := checkHMAC(sig, "", body, secrets[GogsSecret], "X-Gitea-Signature", GogsSecret); err != nil {
			return nil, err
		}
		if firstNonEmpty(header.Get("X-Gitea-Event"), header.Get("X-Gogs-Event"), header.Get("X-Forgejo-Event")) != "push" {
			return nil, ErrIgnored
		}
		return parseGitHubLike("gitea", body)
	case header.Get("X-Gitlab-Event") != "":
		if want := secrets[GitLabSecret]; len(want) > 0 && !equal([]byte(header.Get("X-Gitlab-Token")), want) {
			return nil, refuse(http.StatusUnauthorized, "GitLab event: X-Gitlab-Token does not match %s of argocd-secret", GitLabSecret)
		}
		switch header.Get("X-Gitlab-Event") {
		case "Push Hook", "Tag Push Hook", "System Hook":
		default:
			return nil, ErrIgnored
		}
		return parseGitLab(body)
	case header.Get("X-Event-Key") == "repo:push":
		if want := secrets[BitbucketUUID]; len(want) > 0 && !equal([]byte(header.Get("X-Hook-UUID")), want) {
			return nil, refuse(http.StatusUnauthorized, "Bitbucket event: X-Hook-UUID does not match %s of argocd-secret", BitbucketUUID)
		}
		return parseBitbucketCloud(body)
	case header.Get("X-Event-Key") == "repo:refs_changed":
		if err := checkHMAC(header.Get("X-Hub-Signature"), "sha256=", body, secrets[BitbucketServerSecret], "X-Hub-Signature", BitbucketServerSecret); err != nil {
			return nil, err
		}
		return parseBitbucketServer(body)
	case header.Get("X-Event-Key") != "":
		return nil, ErrIgnored // another Bitbucket event (diagnostics:ping, a pull request)
	case header.Get("X-Vss-Activityid") != "":
		if user, pass := secrets[AzureDevOpsUsername], secrets[AzureDevOpsPassword]; len(user) > 0 || len(pass) > 0 {
			u, p, ok := basicAuth(header)
			if !ok || !equal([]byte(u), user) || !equal([]byte(p), pass) {
				return nil, refuse(http.StatusUnauthorized, "Azure DevOps event: basic auth does not match %s and %s of argocd-secret", AzureDevOpsUsername, AzureDevOpsPassword)
			}
		}
		return parseAzureDevOps(body)
	}
	return nil, refuse(http.StatusBadRequest, "unknown webhook: expected a push event of GitHub, GitLab, Gitea, Gogs, Forgejo, Bitbucket, Bitbucket Server or Azure DevOps (none of their event headers is set)")
}

// Provider names the Git server kind of a request by its headers ("" when
// none is known), for metrics.
func Provider(h http.Header) string {
	switch {
	case h.Get("X-GitHub-Event") != "":
		return "github"
	case h.Get("X-Gitea-Event") != "" || h.Get("X-Gogs-Event") != "" || h.Get("X-Forgejo-Event") != "":
		return "gitea"
	case h.Get("X-Gitlab-Event") != "":
		return "gitlab"
	case h.Get("X-Event-Key") == "repo:refs_changed":
		return "bitbucketserver"
	case h.Get("X-Event-Key") != "":
		return "bitbucket"
	case h.Get("X-Vss-Activityid") != "":
		return "azuredevops"
	}
	return ""
}

// checkHMAC verifies an HMAC-SHA256 signature (hex, after prefix) of body
// when a secret is set.
func checkHMAC(sig, prefix string, body, secret []byte, headerName, key string) error {
	if len(secret) == 0 {
		return nil
	}
	if sig == "" {
		return refuse(http.StatusUnauthorized, "webhook without the %s signature, but %s is set in argocd-secret", headerName, key)
	}
	got, err := hex.DecodeString(strings.TrimPrefix(sig, prefix))
	if err != nil || !strings.HasPrefix(sig, prefix) {
		return refuse(http.StatusUnauthorized, "webhook signature %s is malformed", headerName)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return refuse(http.StatusUnauthorized, "webhook signature %s does not match %s of argocd-secret", headerName, key)
	}
	return nil
}

// basicAuth reads the basic auth of a request's headers.
func basicAuth(h http.Header) (string, string, bool) {
	r := http.Request{Header: h}
	return r.BasicAuth()
}

func equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func decode(provider string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return refuse(http.StatusBadRequest, "%s push event: invalid JSON: %v", provider, err)
	}
	return nil
}

// done checks what every push must name.
func done(p *Push) (*Push, error) {
	var urls []string
	for _, u := range p.URLs {
		if u != "" {
			urls = append(urls, u)
		}
	}
	p.URLs = urls
	var refs []string
	for _, r := range p.Refs {
		if r != "" {
			refs = append(refs, r)
		}
	}
	p.Refs = refs
	if len(p.URLs) == 0 {
		return nil, refuse(http.StatusBadRequest, "%s push event: no repository URL in the payload", p.Provider)
	}
	if len(p.Refs) == 0 {
		return nil, refuse(http.StatusBadRequest, "%s push event: no ref in the payload", p.Provider)
	}
	return p, nil
}

func parseGitHubLike(provider string, body []byte) (*Push, error) {
	var ev struct {
		Ref        string `json:"ref"`
		Repository struct {
			HTMLURL       string `json:"html_url"`
			CloneURL      string `json:"clone_url"`
			SSHURL        string `json:"ssh_url"`
			DefaultBranch string `json:"default_branch"`
		} `json:"repository"`
	}
	if err := decode(provider, body, &ev); err != nil {
		return nil, err
	}
	r := ev.Repository
	return done(&Push{Provider: provider, URLs: []string{r.HTMLURL, r.CloneURL, r.SSHURL}, Refs: []string{ev.Ref}, DefaultBranch: r.DefaultBranch})
}

func parseGitLab(body []byte) (*Push, error) {
	var ev struct {
		Ref     string `json:"ref"`
		Project struct {
			WebURL        string `json:"web_url"`
			HTTPURL       string `json:"git_http_url"`
			SSHURL        string `json:"git_ssh_url"`
			DefaultBranch string `json:"default_branch"`
		} `json:"project"`
	}
	if err := decode("gitlab", body, &ev); err != nil {
		return nil, err
	}
	p := ev.Project
	return done(&Push{Provider: "gitlab", URLs: []string{p.WebURL, p.HTTPURL, p.SSHURL}, Refs: []string{ev.Ref}, DefaultBranch: p.DefaultBranch})
}

func parseBitbucketCloud(body []byte) (*Push, error) {
	var ev struct {
		Repository struct {
			FullName string `json:"full_name"`
			Links    struct {
				HTML struct {
					Href string `json:"href"`
				} `json:"html"`
			} `json:"links"`
			MainBranch struct {
				Name string `json:"name"`
			} `json:"mainbranch"`
		} `json:"repository"`
		Push struct {
			Changes []struct {
				New *struct {
					Type string `json:"type"`
					Name string `json:"name"`
				} `json:"new"`
			} `json:"changes"`
		} `json:"push"`
	}
	if err := decode("bitbucket", body, &ev); err != nil {
		return nil, err
	}
	p := &Push{Provider: "bitbucket", DefaultBranch: ev.Repository.MainBranch.Name, URLs: []string{ev.Repository.Links.HTML.Href}}
	if ev.Repository.FullName != "" {
		p.URLs = append(p.URLs, "https://bitbucket.org/"+ev.Repository.FullName, "git@bitbucket.org:"+ev.Repository.FullName+".git")
	}
	for _, c := range ev.Push.Changes {
		switch {
		case c.New == nil: // a deleted ref: nothing to deploy
		case c.New.Type == "tag":
			p.Refs = append(p.Refs, "refs/tags/"+c.New.Name)
		default:
			p.Refs = append(p.Refs, "refs/heads/"+c.New.Name)
		}
	}
	if len(p.Refs) == 0 && len(ev.Push.Changes) > 0 {
		return nil, ErrIgnored // only deletions
	}
	return done(p)
}

func parseBitbucketServer(body []byte) (*Push, error) {
	var ev struct {
		Repository struct {
			Links struct {
				Clone []struct {
					Href string `json:"href"`
				} `json:"clone"`
			} `json:"links"`
		} `json:"repository"`
		Changes []struct {
			Ref struct {
				ID string `json:"id"`
			} `json:"ref"`
			Type string `json:"type"`
		} `json:"changes"`
	}
	if err := decode("bitbucketserver", body, &ev); err != nil {
		return nil, err
	}
	p := &Push{Provider: "bitbucketserver"}
	for _, c := range ev.Repository.Links.Clone {
		p.URLs = append(p.URLs, c.Href)
	}
	for _, c := range ev.Changes {
		if c.Type != "DELETE" && c.Ref.ID != "" {
			p.Refs = append(p.Refs, c.Ref.ID)
		}
	}
	if len(p.Refs) == 0 && len(ev.Changes) > 0 {
		return nil, ErrIgnored
	}
	return done(p)
}

func parseAzureDevOps(body []byte) (*Push, error) {
	var ev struct {
		EventType string `json:"eventType"`
		Resource  struct {
			RefUpdates []struct {
				Name        string `json:"name"`
				NewObjectID string `json:"newObjectId"`
			} `json:"refUpdates"`
			Repository struct {
				RemoteURL     string `json:"remoteUrl"`
				SSHURL        string `json:"sshUrl"`
				WebURL        string `json:"webUrl"`
				DefaultBranch string `json:"defaultBranch"`
			} `json:"repository"`
		} `json:"resource"`
	}
	if err := decode("azuredevops", body, &ev); err != nil {
		return nil, err
	}
	if ev.EventType != "git.push" {
		return nil, ErrIgnored
	}
	r := ev.Resource.Repository
	p := &Push{Provider: "azuredevops", URLs: []string{r.RemoteURL, r.SSHURL, r.WebURL}, DefaultBranch: strings.TrimPrefix(r.DefaultBranch, "refs/heads/")}
	for _, u := range ev.Resource.RefUpdates {
		if strings.Trim(u.NewObjectID, "0") != "" { // all zeros: the ref was deleted
			p.Refs = append(p.Refs, u.Name)
		}
	}
	if len(p.Refs) == 0 && len(ev.Resource.RefUpdates) > 0 {
		return nil, ErrIgnored
	}
	return done(p)
}

// RepoKey reduces a repository URL to host/path, lower case, without
// scheme, user, port, a trailing slash or ".git", so the HTTPS, SSH and
// web addresses of one repository compare equal.
func RepoKey(u string) string {
	s := strings.ToLower(strings.TrimSpace(u))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	} else if at := strings.Index(s, "@"); at >= 0 && strings.Contains(s[at:], ":") {
		// scp-like: user@host:path
		s = strings.Replace(s[at+1:], ":", "/", 1)
	}
	if at := strings.LastIndex(strings.SplitN(s, "/", 2)[0], "@"); at >= 0 {
		s = s[at+1:]
	}
	host, path, _ := strings.Cut(s, "/")
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	path = strings.TrimSuffix(strings.TrimSuffix(path, "/"), ".git")
	if host == "ssh.dev.azure.com" && strings.HasPrefix(path, "v3/") {
		// Azure DevOps over SSH: v3/ORG/PROJECT/REPO is ORG/PROJECT/_git/REPO.
		if parts := strings.Split(strings.TrimPrefix(path, "v3/"), "/"); len(parts) == 3 {
			host, path = "dev.azure.com", parts[0]+"/"+parts[1]+"/_git/"+parts[2]
		}
	}
	return host + "/" + path
}

// Wants reports whether an app following targetRevision of a repository
// must be refreshed for the push: it follows a pushed branch or tag, or
// HEAD (or nothing) and the default branch was pushed (any branch when the
// event does not say which is the default).
func (p *Push) Wants(targetRevision string) bool {
	rev := strings.TrimSpace(targetRevision)
	for _, ref := range p.Refs {
		name := strings.TrimPrefix(strings.TrimPrefix(ref, "refs/heads/"), "refs/tags/")
		switch {
		case rev == "" || rev == "HEAD":
			if strings.HasPrefix(ref, "refs/heads/") && (p.DefaultBranch == "" || name == p.DefaultBranch) {
				return true
			}
		case rev == ref || rev == name:
			return true
		}
	}
	return false
}

// Names reports whether the push is of the repository at url.
func (p *Push) Names(url string) bool {
	k := RepoKey(url)
	for _, u := range p.URLs {
		if RepoKey(u) == k {
			return true
		}
	}
	return false
}
