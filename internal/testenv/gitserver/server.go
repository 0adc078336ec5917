package gitserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	gliderssh "github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// Access is the way clients must authenticate to read or write a
// repository over HTTP. Over SSH every repository needs an authorized key.
type Access int

const (
	// Anonymous repositories need no credentials.
	Anonymous Access = iota
	// BasicAuth repositories need HTTP basic auth with the server's
	// username and password.
	BasicAuth
	// BearerToken repositories need "Authorization: Bearer <token>" with
	// the server's token, or basic auth whose password is the token.
	BearerToken
)

// String returns the name of the access mode.
func (a Access) String() string {
	switch a {
	case Anonymous:
		return "anonymous"
	case BasicAuth:
		return "basic-auth"
	case BearerToken:
		return "bearer-token"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// Options configure a Server. The zero value is ready to use.
type Options struct {
	// Dir is the root that holds the bare repositories. When empty a
	// temporary directory is used and removed by Close; a given Dir is
	// left in place.
	Dir string
	// Username and Password are the basic-auth credentials of BasicAuth
	// repositories. Random values are generated when empty.
	Username, Password string
	// Token is the bearer token of BearerToken repositories. A random
	// value is generated when empty.
	Token string
}

// Server is a running git server. Its methods are safe for concurrent use.
type Server struct {
	gitPath string // absolute path of the git program
	root    string // holds <name>.git bare repositories
	scratch string // private temp dir: HOME and work clones
	home    string

	username, password, token string

	httpLn  net.Listener
	httpSrv *http.Server
	sshLn   net.Listener
	sshSrv  *gliderssh.Server

	hostKey   gossh.Signer
	clientKey []byte // OpenSSH PEM of the default client key
	clientPub gossh.PublicKey

	ctx    context.Context // cancelled by Close; kills running git programs
	cancel context.CancelFunc
	active sync.WaitGroup // running request handlers and write helpers

	mu         sync.Mutex
	closed     bool
	repos      map[string]*Repo
	authorized []gossh.PublicKey

	closeOnce sync.Once
	closeErr  error
}

// Start starts a git server with HTTP and SSH listeners on 127.0.0.1.
// It fails when git is not installed.
func Start(opts Options) (*Server, error) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return nil, errors.New("git not found in PATH: install git (apt-get install git)")
	}
	if gitPath, err = filepath.Abs(gitPath); err != nil {
		return nil, fmt.Errorf("resolve git path: %w", err)
	}
	s := &Server{
		gitPath:  gitPath,
		username: orRandom(opts.Username, "user-"),
		password: orRandom(opts.Password, "pass-"),
		token:    orRandom(opts.Token, "token-"),
		repos:    map[string]*Repo{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.start(opts.Dir); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(dir string) error {
	var err error
	if s.scratch, err = os.MkdirTemp("", "tether-gitserver-"); err != nil {
		return fmt.Errorf("create scratch dir: %w", err)
	}
	s.home = filepath.Join(s.scratch, "home")
	if err := os.MkdirAll(s.home, 0o700); err != nil {
		return fmt.Errorf("create home dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.home, ".gitconfig"), []byte(gitConfig), 0o600); err != nil {
		return fmt.Errorf("write gitconfig: %w", err)
	}
	if dir == "" {
		s.root = filepath.Join(s.scratch, "repos")
	} else if s.root, err = filepath.Abs(dir); err != nil {
		return fmt.Errorf("resolve repos dir %q: %w", dir, err)
	}
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return fmt.Errorf("create repos dir: %w", err)
	}
	if err := s.startHTTP(); err != nil {
		return err
	}
	return s.startSSH()
}

// gitConfig is the global config of every git process the server runs.
const gitConfig = `[init]
	defaultBranch = main
[user]
	name = Test Author
	email = author@example.test
[safe]
	directory = *
[advice]
	detachedHead = false
[gc]
	auto = 0
`

// Close stops both listeners, ends running git processes, and removes the
// temporary directories (and the repositories too when Options.Dir was
// empty). It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		var errs []error
		if s.httpSrv != nil {
			errs = append(errs, ignoreClosed(s.httpSrv.Close()))
		} else if s.httpLn != nil {
			errs = append(errs, ignoreClosed(s.httpLn.Close()))
		}
		if s.sshSrv != nil {
			errs = append(errs, ignoreClosed(s.sshSrv.Close()))
		} else if s.sshLn != nil {
			errs = append(errs, ignoreClosed(s.sshLn.Close()))
		}
		s.cancel()
		s.active.Wait()
		if s.scratch != "" {
			errs = append(errs, os.RemoveAll(s.scratch))
		}
		s.closeErr = errors.Join(errs...)
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("close git server: %w", s.closeErr)
		}
	})
	return s.closeErr
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) || errors.Is(err, gliderssh.ErrServerClosed) {
		return nil
	}
	return err
}

// track registers a running operation so that Close waits for it. It
// reports false once the server is closing.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.active.Add(1)
	return true
}

var errClosed = errors.New("git server is closed")

// HTTPBaseURL returns the server's HTTP root, http://127.0.0.1:PORT.
func (s *Server) HTTPBaseURL() string { return "http://" + s.httpLn.Addr().String() }

// SSHAddr returns the SSH listener's address, 127.0.0.1:PORT.
func (s *Server) SSHAddr() string { return s.sshLn.Addr().String() }

// Username returns the basic-auth username of BasicAuth repositories.
func (s *Server) Username() string { return s.username }

// Password returns the basic-auth password of BasicAuth repositories.
func (s *Server) Password() string { return s.password }

// Token returns the bearer token of BearerToken repositories.
func (s *Server) Token() string { return s.token }

// Dir returns the directory that holds the bare repositories.
func (s *Server) Dir() string { return s.root }

// gitEnv is the complete environment of git processes: nothing is
// inherited from the host but PATH.
func (s *Server) gitEnv(extra ...string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = filepath.Dir(s.gitPath)
	}
	env := []string{
		"PATH=" + path,
		"HOME=" + s.home,
		"XDG_CONFIG_HOME=" + filepath.Join(s.home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	}
	return append(env, extra...)
}

// runGit runs git in dir and returns its trimmed standard output.
func (s *Server) runGit(dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(s.ctx, s.gitPath, args...)
	cmd.Dir = dir
	cmd.Env = s.gitEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return "", fmt.Errorf("git %s: %w", args[0], err)
		}
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}

func orRandom(v, prefix string) string {
	if v != "" {
		return v
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b)
}
