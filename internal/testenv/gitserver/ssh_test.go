package gitserver

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

func TestSSHClone(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r, sha := newRepo(t, s, "ops/app", BasicAuth)
	if want := "ssh://git@" + s.SSHAddr() + "/ops/app.git"; r.SSHURL() != want {
		t.Errorf("SSHURL = %q, want %q", r.SSHURL(), want)
	}
	if !regexp.MustCompile(`^\[127\.0\.0\.1\]:\d+ ssh-ed25519 AAAA\S+\n$`).Match(s.KnownHosts()) {
		t.Errorf("KnownHosts = %q", s.KnownHosts())
	}
	keyFile := writeFile(t, "id_ed25519", s.ClientPrivateKey())
	knownHosts := writeFile(t, "known_hosts", s.KnownHosts())

	dir, err := cloneRepo(t, r.SSHURL(), sshEnv(keyFile, knownHosts))
	if err != nil {
		t.Fatalf("clone over ssh: %v", err)
	}
	if head := mustGit(t, dir, nil, "rev-parse", "HEAD"); head != sha {
		t.Errorf("cloned HEAD = %s, want %s", head, sha)
	}

	_, otherHost := newKey(t)
	port := s.SSHAddr()[strings.LastIndex(s.SSHAddr(), ":")+1:]
	wrongHosts := writeFile(t, "wrong_hosts", []byte("[127.0.0.1]:"+port+" "+string(gossh.MarshalAuthorizedKey(otherHost))))
	_, err = cloneRepo(t, r.SSHURL(), sshEnv(keyFile, wrongHosts))
	wantFailure(t, "clone with a different host key in known_hosts", err, "Host key verification failed")

	otherKey, otherPub := newKey(t)
	otherKeyFile := writeFile(t, "other_key", otherKey)
	_, err = cloneRepo(t, r.SSHURL(), sshEnv(otherKeyFile, knownHosts))
	wantFailure(t, "clone with an unauthorized key", err, "Permission denied (publickey)")
	s.AuthorizeKey(otherPub)
	if _, err := cloneRepo(t, r.SSHURL(), sshEnv(otherKeyFile, knownHosts)); err != nil {
		t.Errorf("clone with a newly authorized key: %v", err)
	}
}

func TestSSHCommands(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	newRepo(t, s, "app", Anonymous)
	c := sshClient(t, s)
	run := func(cmd string) (string, error) {
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		sess.Stdin = strings.NewReader("0000") // a flush: no wants
		out, err := sess.Output(cmd)
		return string(out), err
	}
	for _, cmd := range []string{"git-upload-pack '/app.git'", "git-upload-pack app.git", "git-receive-pack 'app.git/'", "git upload-pack 'app'"} {
		out, err := run(cmd)
		if err != nil || !strings.Contains(out, "refs/heads/main") {
			t.Errorf("%s: %v, output %q", cmd, err, out)
		}
	}
	for _, cmd := range []string{"", "ls", "git-upload-pack '../app.git'", "git-upload-pack '/x/../../app.git'", "git-upload-pack '/missing.git'", "git-daemon '/app.git'"} {
		_, err := run(cmd)
		var exitErr *gossh.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitStatus() == 0 {
			t.Errorf("%q: got %v, want a non-zero exit status", cmd, err)
		}
	}
}
