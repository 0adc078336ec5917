package gitserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
)

// Repo is a bare repository served by a Server.
type Repo struct {
	s      *Server
	name   string
	access Access
	path   string

	mu      sync.Mutex // serializes the write helpers
	workDir string     // private work clone, made on first write

	infoRefs     atomic.Int64
	uploadPacks  atomic.Int64
	receivePacks atomic.Int64
	sshSessions  atomic.Int64
}

// RequestCounts counts the git requests a repository has served. Requests
// rejected for missing credentials are not counted, and neither are the
// Repo write helpers, which work on the disk directly.
//
// With git's default protocol v2 one ref check (git ls-remote) is one
// InfoRefs plus one UploadPack (the ls-refs command) over HTTP, and one
// UploadPack over SSH; a fetch or clone adds one UploadPack per
// negotiation round over HTTP.
type RequestCounts struct {
	// InfoRefs counts HTTP ref advertisements: GET <name>.git/info/refs.
	InfoRefs int64
	// UploadPack counts upload-pack runs (fetch, clone, and ls-remote over
	// SSH): HTTP POST <name>.git/git-upload-pack requests plus SSH
	// git-upload-pack sessions. Each SSH session starts with a ref
	// advertisement.
	UploadPack int64
	// ReceivePack counts push runs over HTTP and SSH.
	ReceivePack int64
	// SSHSessions counts the git sessions served over SSH.
	SSHSessions int64
}

// segmentRE is one path segment of a repository name.
var segmentRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// validateName checks a repository name without its ".git" suffix: one or
// more "/"-separated segments of letters, digits, '.', '_' and '-' that
// start with a letter or digit, with no ".." and no segment ending in
// ".git".
func validateName(name string) error {
	switch {
	case name == "":
		return errors.New("repository name is empty")
	case len(name) > 200:
		return errors.New("repository name is longer than 200 characters")
	case strings.Contains(name, ".."):
		return fmt.Errorf("repository name %q contains \"..\"", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if !segmentRE.MatchString(seg) || strings.HasSuffix(seg, ".git") {
			return fmt.Errorf("repository name %q is invalid: use letters, digits, '.', '_', '-' and '/' between parts", name)
		}
	}
	return nil
}

// CreateRepo creates an empty bare repository whose default branch is
// main, served at <name>.git with the given access mode. The name may
// carry a ".git" suffix, which is dropped, and may have "/"-separated
// parts ("org/app"). It fails when the name is invalid or the repository
// already exists.
func (s *Server) CreateRepo(name string, access Access) (*Repo, error) {
	name = strings.TrimSuffix(name, ".git")
	if err := validateName(name); err != nil {
		return nil, fmt.Errorf("create repo: %w", err)
	}
	if access < Anonymous || access > BearerToken {
		return nil, fmt.Errorf("create repo %q: unknown access mode %d", name, int(access))
	}
	if !s.track() {
		return nil, fmt.Errorf("create repo %q: %w", name, errClosed)
	}
	defer s.active.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.repos[name]; ok {
		return nil, fmt.Errorf("create repo %q: already exists", name)
	}
	path := filepath.Join(s.root, filepath.FromSlash(name)+".git")
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("create repo %q: %s already exists", name, path)
	}
	if _, err := s.runGit("", nil, "init", "--quiet", "--bare", "--initial-branch=main", path); err != nil {
		return nil, fmt.Errorf("create repo %q: %w", name, err)
	}
	if err := appendFile(filepath.Join(path, "config"), repoConfig); err != nil {
		return nil, fmt.Errorf("create repo %q: configure: %w", name, err)
	}
	r := &Repo{s: s, name: name, access: access, path: path}
	s.repos[name] = r
	return r, nil
}

// repoConfig is added to every bare repository's config: it enables push
// over HTTP (git http-backend refuses it without authentication
// otherwise) and lets clients fetch commits by id and with filters.
const repoConfig = `[http]
	receivepack = true
	uploadpack = true
[uploadpack]
	allowReachableSHA1InWant = true
	allowFilter = true
`

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Repo returns the repository with the given name (".git" suffix
// optional), or nil when the server has none.
func (s *Server) Repo(name string) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repos[strings.TrimSuffix(name, ".git")]
}

// Name returns the repository's name, without ".git".
func (r *Repo) Name() string { return r.name }

// Access returns the repository's HTTP access mode.
func (r *Repo) Access() Access { return r.access }

// HTTPURL returns the clone URL over HTTP: http://127.0.0.1:PORT/<name>.git.
func (r *Repo) HTTPURL() string { return r.s.HTTPBaseURL() + "/" + r.name + ".git" }

// SSHURL returns the clone URL over SSH: ssh://git@127.0.0.1:PORT/<name>.git.
func (r *Repo) SSHURL() string { return "ssh://git@" + r.s.SSHAddr() + "/" + r.name + ".git" }

// Path returns the bare repository's directory on disk.
func (r *Repo) Path() string { return r.path }

// Requests returns the repository's request counters so far.
func (r *Repo) Requests() RequestCounts {
	return RequestCounts{
		InfoRefs:    r.infoRefs.Load(),
		UploadPack:  r.uploadPacks.Load(),
		ReceivePack: r.receivePacks.Load(),
		SSHSessions: r.sshSessions.Load(),
	}
}

// Head returns the commit id that branch points at.
func (r *Repo) Head(branch string) (string, error) {
	if !r.s.track() {
		return "", fmt.Errorf("repo %q: head of %q: %w", r.name, branch, errClosed)
	}
	defer r.s.active.Done()
	sha, err := r.s.runGit(r.path, nil, "rev-parse", "--quiet", "--verify", "refs/heads/"+branch+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("repo %q: branch %q not found: %w", r.name, branch, err)
	}
	return sha, nil
}

// Tag creates the annotated tag name on rev (a branch, tag or commit id;
// "" means main) in the served repository, as a push of the tag would.
// It fails when the tag exists.
func (r *Repo) Tag(name, rev string) error {
	if rev == "" {
		rev = "main"
	}
	if !r.s.track() {
		return fmt.Errorf("repo %q: tag %q: %w", r.name, name, errClosed)
	}
	defer r.s.active.Done()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.s.runGit(r.path, nil, "check-ref-format", "refs/tags/"+name); err != nil {
		return fmt.Errorf("repo %q: invalid tag name %q: %w", r.name, name, err)
	}
	commit, err := r.s.runGit(r.path, nil, "rev-parse", "--quiet", "--verify", rev+"^{commit}")
	if err != nil {
		return fmt.Errorf("repo %q: tag %q: revision %q not found: %w", r.name, name, rev, err)
	}
	if _, err := r.s.runGit(r.path, authorEnv(Author{}), "tag", "--annotate", "--message", name, name, commit); err != nil {
		return fmt.Errorf("repo %q: tag %q: %w", r.name, name, err)
	}
	return nil
}
