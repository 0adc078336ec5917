package source

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Credentials authenticate against a repository. The zero value is
// anonymous access.
type Credentials struct {
	Username      string
	Password      string
	BearerToken   string
	SSHPrivateKey []byte
	// KnownHosts holds known_hosts lines; SSH refuses hosts not listed
	// unless Insecure is set.
	KnownHosts []byte
	// Insecure skips the SSH host key check and TLS verification.
	Insecure bool
	// TLSClientCert and TLSClientKey (PEM) authenticate tether to an
	// HTTPS repository that asks for a client certificate.
	TLSClientCert []byte
	TLSClientKey  []byte
	// CAData (PEM) are certificates trusted for the repository's host
	// besides the system's.
	CAData []byte
	// PassToOtherHosts sends the credentials of a chart repository to the
	// host of a chart archive its index points to, when that is another.
	PassToOtherHosts bool
}

// fingerprint identifies the credentials without revealing them, so a
// change of credentials is noticed.
func (c *Credentials) fingerprint() string {
	if c == nil {
		return ""
	}
	return digest([]byte(c.Username), []byte(c.Password), []byte(c.BearerToken), c.SSHPrivateKey, c.KnownHosts, []byte(fmt.Sprint(c.Insecure)), c.TLSClientCert, c.TLSClientKey, c.CAData)
}

// tlsFingerprint identifies the TLS settings alone.
func (c *Credentials) tlsFingerprint() string {
	return digest([]byte(fmt.Sprint(c.Insecure)), c.TLSClientCert, c.TLSClientKey, c.CAData)
}

func digest(parts ...[]byte) string {
	h := sha256.New()
	for _, part := range parts {
		h.Write(part)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// IsSSH reports whether a repository URL uses SSH.
func IsSSH(repoURL string) bool {
	if strings.HasPrefix(repoURL, "ssh://") {
		return true
	}
	// scp-like: user@host:path
	return !strings.Contains(repoURL, "://") && strings.Contains(repoURL, "@") && strings.Contains(repoURL, ":")
}

// authFor builds go-git auth for url.
func authFor(repoURL string, c *Credentials) (transport.AuthMethod, error) {
	if IsSSH(repoURL) {
		user := "git"
		if u, err := url.Parse(repoURL); err == nil && u.User != nil && u.User.Username() != "" {
			user = u.User.Username()
		} else if i := strings.Index(repoURL, "@"); i > 0 && !strings.Contains(repoURL, "://") {
			user = repoURL[:i]
		}
		if c == nil || len(c.SSHPrivateKey) == 0 {
			return nil, errors.New("ssh repository needs an sshPrivateKey in a repository secret")
		}
		keys, err := gitssh.NewPublicKeys(user, c.SSHPrivateKey, "")
		if err != nil {
			return nil, fmt.Errorf("parse sshPrivateKey: %w", err)
		}
		cb, err := hostKeyCallback(c)
		if err != nil {
			return nil, err
		}
		keys.HostKeyCallback = cb
		return keys, nil
	}
	if c == nil {
		return nil, nil
	}
	switch {
	case c.BearerToken != "":
		return &githttp.TokenAuth{Token: c.BearerToken}, nil
	case c.Username != "" || c.Password != "":
		user := c.Username
		if user == "" {
			user = "git"
		}
		return &githttp.BasicAuth{Username: user, Password: c.Password}, nil
	}
	return nil, nil
}

// hostKeyCallback checks the server key against the known_hosts lines
// (plain or hashed host names).
func hostKeyCallback(c *Credentials) (ssh.HostKeyCallback, error) {
	if c.Insecure {
		return ssh.InsecureIgnoreHostKey(), nil
	}
	if len(strings.TrimSpace(string(c.KnownHosts))) == 0 {
		return nil, errors.New("ssh repository has no known_hosts entry: add the host key to sshKnownHosts (or the argocd-ssh-known-hosts-cm ConfigMap)")
	}
	f, err := os.CreateTemp("", "tether-known-hosts-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(c.KnownHosts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	cb, err := knownhosts.New(f.Name())
	if err != nil {
		return nil, fmt.Errorf("parse known_hosts: %w", err)
	}
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		if err := cb(hostname, remote, key); err != nil {
			return fmt.Errorf("host key of %s (%s) not accepted by known_hosts: %w", hostname, ssh.FingerprintSHA256(key), err)
		}
		return nil
	}, nil
}

// RedactURL removes any password or token from a URL before it is shown.
func RedactURL(repoURL string) string {
	u, err := url.Parse(repoURL)
	if err != nil || u.User == nil {
		return repoURL
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "redacted")
		return strings.Replace(u.String(), ":redacted@", ":***@", 1)
	}
	return u.String()
}
