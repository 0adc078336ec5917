package gitserver

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"time"

	gliderssh "github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func (s *Server) startSSH() error {
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate ssh host key: %w", err)
	}
	if s.hostKey, err = gossh.NewSignerFromKey(hostPriv); err != nil {
		return fmt.Errorf("load ssh host key: %w", err)
	}
	clientPub, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate ssh client key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(clientPriv, "tether-test-client")
	if err != nil {
		return fmt.Errorf("encode ssh client key: %w", err)
	}
	s.clientKey = pem.EncodeToMemory(block)
	if s.clientPub, err = gossh.NewPublicKey(clientPub); err != nil {
		return fmt.Errorf("load ssh client key: %w", err)
	}
	s.AuthorizeKey(s.clientPub)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for ssh: %w", err)
	}
	s.sshLn = ln
	s.sshSrv = &gliderssh.Server{
		Handler:          s.handleSSH,
		HostSigners:      []gliderssh.Signer{s.hostKey},
		PublicKeyHandler: s.keyAuthorized,
		Version:          "tether-gitserver",
	}
	go func() { _ = s.sshSrv.Serve(ln) }()
	return nil
}

// ClientPrivateKey returns the private half of the authorized client key
// the server generated, PEM-encoded in OpenSSH format.
func (s *Server) ClientPrivateKey() []byte { return append([]byte(nil), s.clientKey...) }

// ClientPublicKey returns the public half of the generated client key.
func (s *Server) ClientPublicKey() gossh.PublicKey { return s.clientPub }

// HostPublicKey returns the public key the SSH server identifies with.
func (s *Server) HostPublicKey() gossh.PublicKey { return s.hostKey.PublicKey() }

// KnownHosts returns a known_hosts line for the SSH server, in the form
// "[127.0.0.1]:PORT ssh-ed25519 AAAA...\n".
func (s *Server) KnownHosts() []byte {
	line := knownhosts.Line([]string{knownhosts.Normalize(s.SSHAddr())}, s.HostPublicKey())
	return []byte(line + "\n")
}

// AuthorizeKey adds pub to the client keys the SSH server accepts.
func (s *Server) AuthorizeKey(pub gossh.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authorized = append(s.authorized, pub)
}

func (s *Server) keyAuthorized(_ gliderssh.Context, key gliderssh.PublicKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.authorized {
		if gliderssh.KeysEqual(k, key) {
			return true
		}
	}
	return false
}

// handleSSH serves one session: an exec request for git-upload-pack or
// git-receive-pack on a registered repository.
func (s *Server) handleSSH(sess gliderssh.Session) {
	if !s.track() {
		_ = sess.Exit(1)
		return
	}
	defer s.active.Done()

	service, repo, err := s.parseSSHCommand(sess.RawCommand())
	if err != nil {
		fmt.Fprintf(sess.Stderr(), "fatal: %v\n", err)
		_ = sess.Exit(128)
		return
	}
	if service == "upload-pack" {
		repo.uploadPacks.Add(1)
	} else {
		repo.receivePacks.Add(1)
	}
	repo.sshSessions.Add(1)

	var extra []string
	for _, kv := range sess.Environ() {
		if strings.HasPrefix(kv, "GIT_PROTOCOL=") {
			extra = append(extra, kv)
		}
	}
	cmd := exec.CommandContext(s.ctx, s.gitPath, service, repo.path)
	cmd.Env = s.gitEnv(extra...)
	cmd.Stdout = sess
	cmd.Stderr = sess.Stderr()
	cmd.WaitDelay = 5 * time.Second
	// Feed stdin by hand: the client keeps its side open until it sees the
	// exit status, so exec's own copy would block Wait forever.
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprintf(sess.Stderr(), "fatal: start git %s: %v\n", service, err)
		_ = sess.Exit(128)
		return
	}
	go func() {
		_, _ = io.Copy(stdin, sess)
		_ = stdin.Close()
	}()
	code := 0
	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && exitErr.ExitCode() >= 0 {
			code = exitErr.ExitCode()
		} else {
			code = 128
		}
	}
	_ = sess.Exit(code)
}

// parseSSHCommand accepts "git-upload-pack '<path>'" and
// "git-receive-pack '<path>'" (also "git upload-pack ..."), with path forms
// /name.git, name.git and name, quoted or not.
func (s *Server) parseSSHCommand(raw string) (service string, repo *Repo, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil, errors.New("interactive sessions are not supported: only git-upload-pack and git-receive-pack")
	}
	if rest, ok := strings.CutPrefix(raw, "git "); ok {
		raw = "git-" + strings.TrimSpace(rest)
	}
	verb, arg, _ := strings.Cut(raw, " ")
	switch verb {
	case "git-upload-pack", "git-receive-pack":
		service = strings.TrimPrefix(verb, "git-")
	default:
		return "", nil, fmt.Errorf("command %q is not allowed: only git-upload-pack and git-receive-pack", verb)
	}
	p := strings.TrimSpace(arg)
	if len(p) >= 2 && p[0] == '\'' && p[len(p)-1] == '\'' {
		p = p[1 : len(p)-1]
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", nil, fmt.Errorf("repository path %q escapes the repository root", p)
		}
	}
	name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/"), ".git")
	if err := validateName(name); err != nil {
		return "", nil, fmt.Errorf("repository path %q: %w", p, err)
	}
	if repo = s.Repo(name); repo == nil {
		return "", nil, fmt.Errorf("repository %q not found", name)
	}
	return service, repo, nil
}
