package gitserver

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// startServer starts a server that the test's cleanup closes.
func startServer(t *testing.T) *Server {
	t.Helper()
	s, err := Start(Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// newRepo creates a repository with one commit holding app.yaml on main.
func newRepo(t *testing.T, s *Server, name string, access Access) (*Repo, string) {
	t.Helper()
	r, err := s.CreateRepo(name, access)
	if err != nil {
		t.Fatalf("CreateRepo: %v", err)
	}
	sha, err := r.Commit("main", map[string]string{"deploy/app.yaml": "kind: ConfigMap\n"}, nil, "initial")
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return r, sha
}

// runGit runs the git CLI in dir with a clean environment that never
// prompts and ignores the host's configuration.
func runGit(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append([]string{"-c", "credential.helper=", "-c", "init.defaultBranch=main"}, args...)
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
		"GIT_AUTHOR_NAME=Pusher", "GIT_AUTHOR_EMAIL=pusher@example.test",
		"GIT_COMMITTER_NAME=Pusher", "GIT_COMMITTER_EMAIL=pusher@example.test",
	}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// mustGit is runGit that fails the test on error.
func mustGit(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	out, err := runGit(t, dir, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// cloneRepo clones url into a new temp dir and returns the dir.
func cloneRepo(t *testing.T, url string, env []string, args ...string) (string, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	args = append(append([]string{"clone", "--quiet"}, args...), url, dir)
	_, err := runGit(t, "", env, args...)
	return dir, err
}

// withUser returns rawURL with basic-auth credentials in it.
func withUser(t *testing.T, rawURL, user, pass string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, pass)
	return u.String()
}

// writeFile writes a file with 0600 permissions (ssh refuses looser key
// files) and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newKey generates an ed25519 key: its OpenSSH PEM and public key.
func newKey(t *testing.T) ([]byte, gossh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), sshPub
}

// sshEnv returns the GIT_SSH_COMMAND environment for a key file and a
// known_hosts file.
func sshEnv(keyFile, knownHosts string) []string {
	return []string{"GIT_SSH_COMMAND=ssh -F /dev/null -i " + keyFile +
		" -o UserKnownHostsFile=" + knownHosts +
		" -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes" +
		" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=30"}
}

// serverSSHEnv is sshEnv with the server's own client key and host key.
func serverSSHEnv(t *testing.T, s *Server) []string {
	t.Helper()
	return sshEnv(writeFile(t, "id_ed25519", s.ClientPrivateKey()), writeFile(t, "known_hosts", s.KnownHosts()))
}

// sshClient connects to the server with its own client key.
func sshClient(t *testing.T, s *Server) *gossh.Client {
	t.Helper()
	signer, err := gossh.ParsePrivateKey(s.ClientPrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	c, err := gossh.Dial("tcp", s.SSHAddr(), &gossh.ClientConfig{
		User:            "git",
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.FixedHostKey(s.HostPublicKey()),
		Timeout:         30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readFile reads a file that must exist.
func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
