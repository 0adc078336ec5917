package gitserver

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// realm is the basic-auth realm in WWW-Authenticate challenges.
const realm = "tether-test"

// maxBufferedBody bounds a chunked request body, which is read into memory
// because CGI programs need a Content-Length.
const maxBufferedBody = 256 << 20

func (s *Server) startHTTP() error {
	execPath, err := s.runGit("", nil, "--exec-path")
	if err != nil {
		return fmt.Errorf("find git exec path: %w", err)
	}
	backend := filepath.Join(execPath, "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		return fmt.Errorf("find git-http-backend: %w", err)
	}
	handler := &cgi.Handler{
		Path: backend,
		Dir:  s.root,
		Env:  s.gitEnv("GIT_PROJECT_ROOT="+s.root, "GIT_HTTP_EXPORT_ALL=1"),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for http: %w", err)
	}
	s.httpLn = ln
	s.httpSrv = &http.Server{
		Handler:           s.httpHandler(handler),
		ReadHeaderTimeout: 30 * time.Second,
	}
	go func() { _ = s.httpSrv.Serve(ln) }()
	return nil
}

// httpHandler finds the repository a request is for, checks its access
// mode, counts the request and hands it to git http-backend.
func (s *Server) httpHandler(backend http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.track() {
			http.Error(w, "server is closing", http.StatusServiceUnavailable)
			return
		}
		defer s.active.Done()

		repo, rest := s.repoForURLPath(r.URL.Path)
		if repo == nil {
			http.NotFound(w, r)
			return
		}
		if !s.allowed(repo.access, r) {
			w.Header().Add("WWW-Authenticate", `Basic realm="`+realm+`"`)
			if repo.access == BearerToken {
				w.Header().Add("WWW-Authenticate", `Bearer realm="`+realm+`"`)
			}
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		switch {
		case rest == "/info/refs":
			repo.infoRefs.Add(1)
		case r.Method == http.MethodPost && rest == "/git-upload-pack":
			repo.uploadPacks.Add(1)
		case r.Method == http.MethodPost && rest == "/git-receive-pack":
			repo.receivePacks.Add(1)
		}
		if len(r.TransferEncoding) > 0 {
			// net/http/cgi refuses chunked bodies, which git sends for
			// large pushes and fetch negotiations: buffer them.
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBufferedBody+1))
			if err != nil {
				http.Error(w, "read request body: "+err.Error(), http.StatusBadRequest)
				return
			}
			if len(body) > maxBufferedBody {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.TransferEncoding = nil
		}
		backend.ServeHTTP(w, r)
	})
}

// repoForURLPath splits "/<name>.git/<rest>" into the registered
// repository and "/<rest>". It returns nil for unknown repositories.
func (s *Server) repoForURLPath(p string) (*Repo, string) {
	p = strings.TrimPrefix(p, "/")
	i := strings.Index(p, ".git/")
	if i < 0 {
		return nil, ""
	}
	name, rest := p[:i], p[i+len(".git"):]
	if validateName(name) != nil {
		return nil, ""
	}
	return s.Repo(name), rest
}

// allowed reports whether r carries the credentials that access needs.
func (s *Server) allowed(access Access, r *http.Request) bool {
	switch access {
	case Anonymous:
		return true
	case BasicAuth:
		user, pass, ok := r.BasicAuth()
		return ok && equal(user, s.username) && equal(pass, s.password)
	case BearerToken:
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if ok && strings.EqualFold(scheme, "Bearer") && equal(strings.TrimSpace(token), s.token) {
			return true
		}
		_, pass, ok := r.BasicAuth()
		return ok && equal(pass, s.token)
	}
	return false
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
