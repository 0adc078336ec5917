// Package chartrepo serves Helm charts to tests: a chart repository over
// HTTP (an index.yaml and chart archives) and an OCI registry that holds
// charts as `helm push` stores them. Both listen on 127.0.0.1.
package chartrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
)

// Entry is one archive entry; Link makes it a symbolic link to Link.
type Entry struct {
	Name, Data, Link string
}

// Archive is a gzipped tar of entries, in order.
func Archive(entries ...Entry) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Mode: 0o644, Size: int64(len(e.Data)), Typeflag: tar.TypeReg}
		if e.Link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.Link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if e.Link == "" {
			if _, err := tw.Write([]byte(e.Data)); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Chart is the archive `helm package` would make of a chart named name at
// version: files (paths relative to the chart) under a top directory name/,
// with a Chart.yaml written unless files has one.
func Chart(name, version string, files map[string]string) ([]byte, error) {
	all := map[string]string{"Chart.yaml": fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version)}
	for p, d := range files {
		all[p] = d
	}
	paths := make([]string, 0, len(all))
	for p := range all {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	entries := make([]Entry, 0, len(paths))
	for _, p := range paths {
		entries = append(entries, Entry{Name: name + "/" + p, Data: all[p]})
	}
	return Archive(entries...)
}

// Server is a Helm chart repository over HTTP.
type Server struct {
	srv      *httptest.Server
	user     string
	password string

	mu       sync.Mutex
	files    map[string][]byte   // path -> archive
	charts   []string            // in publishing order
	entries  map[string][]string // chart -> index list items
	index    string              // overrides the generated index when set
	etag     string              // "" when ETags are off
	gen      int                 // changes of the index, for the ETag
	indexGet int
	notMod   int
	withAuth map[string]bool // path -> the last request carried credentials
	archives int             // archive downloads served
}

// NewServer starts a chart repository; with a user, every request needs
// basic auth with user and password.
func NewServer(user, password string) *Server {
	s := &Server{user: user, password: password, files: map[string][]byte{}, entries: map[string][]string{}, withAuth: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the repository's URL, the repoURL of an Application.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, p, ok := r.BasicAuth()
	s.withAuth[r.URL.Path] = ok
	if s.user != "" && (u != s.user || p != s.password) {
		w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.URL.Path == "/index.yaml" {
		s.indexGet++
		if s.etag != "" && r.Header.Get("If-None-Match") == s.etag {
			s.notMod++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if s.etag != "" {
			w.Header().Set("ETag", s.etag)
		}
		_, _ = w.Write([]byte(s.indexLocked()))
		return
	}
	if a, ok := s.files[r.URL.Path]; ok {
		s.archives++
		_, _ = w.Write(a)
		return
	}
	http.NotFound(w, r)
}

func (s *Server) indexLocked() string {
	if s.index != "" {
		return s.index
	}
	var b strings.Builder
	b.WriteString("apiVersion: v1\nentries:\n")
	for _, c := range s.charts {
		fmt.Fprintf(&b, "  %s:\n%s", c, strings.Join(s.entries[c], ""))
	}
	return b.String()
}

// Publish adds chart at version to the index, served at a relative URL
// with its digest.
func (s *Server) Publish(chart, version string, archive []byte) {
	s.PublishAt(chart, version, archive, "", "")
}

// PublishAt adds chart at version to the index with the given URL (""
// for charts/CHART-VERSION.tgz on this server, which serves the archive
// there) and digest ("" for the archive's own, "-" for none).
func (s *Server) PublishAt(chart, version string, archive []byte, url, digest string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	file := fmt.Sprintf("charts/%s-%s.tgz", chart, version)
	s.files["/"+file] = archive
	if url == "" {
		url = file
	}
	switch digest {
	case "":
		sum := sha256.Sum256(archive)
		digest = hex.EncodeToString(sum[:])
	case "-":
		digest = ""
	}
	if _, ok := s.entries[chart]; !ok {
		s.charts = append(s.charts, chart)
	}
	s.entries[chart] = append(s.entries[chart], fmt.Sprintf("  - version: %q\n    urls: [%q]\n    digest: %q\n    created: \"2026-01-02T03:04:05Z\"\n", version, url, digest))
	s.gen++
	if s.etag != "" {
		s.etag = fmt.Sprintf(`"%d"`, s.gen)
	}
}

// SetIndex serves raw as index.yaml from now on ("" goes back to the
// generated one).
func (s *Server) SetIndex(raw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index = raw
}

// UseETags makes index.yaml answers carry an ETag and honour
// If-None-Match; each Publish changes the ETag.
func (s *Server) UseETags() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.etag = fmt.Sprintf(`"%d"`, s.gen)
}

// IndexRequests returns how many times index.yaml was asked for, and how
// many of those were answered "not modified".
func (s *Server) IndexRequests() (all, notModified int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.indexGet, s.notMod
}

// ArchiveRequests returns how many chart archives were served.
func (s *Server) ArchiveRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.archives
}

// SentCredentials reports whether the last request for path carried basic
// auth.
func (s *Server) SentCredentials(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.withAuth[path]
}
