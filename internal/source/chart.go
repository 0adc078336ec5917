package source

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	yamlv3 "go.yaml.in/yaml/v3"
)

// ChartOptions configure Charts.
type ChartOptions struct {
	// Timeout bounds one remote operation (an index, a tag list or an
	// archive).
	Timeout time.Duration
	// MaxIndexBytes bounds a repository's index.yaml.
	MaxIndexBytes int64
	// MaxArchiveBytes bounds a chart archive as downloaded.
	MaxArchiveBytes int64
	// MaxExpandedBytes and MaxFiles bound a chart once unpacked.
	MaxExpandedBytes int64
	MaxFiles         int
	// KeepBytes is how many unpacked bytes of charts stay in memory; the
	// least recently used chart beyond it is read again when needed.
	KeepBytes int64
	// Dir, when set, keeps chart archives on disk by digest (up to
	// DiskBytes), so a restart does not download them again.
	Dir       string
	DiskBytes int64
}

// DefaultChartOptions: 2-minute timeout, index up to 64 MiB, archive up to
// 20 MiB, unpacked chart up to 100 MiB and 10,000 files, 128 MiB kept in
// memory and (with a Dir) 1 GiB of archives on disk.
func DefaultChartOptions() ChartOptions {
	return ChartOptions{Timeout: 2 * time.Minute, MaxIndexBytes: 64 << 20, MaxArchiveBytes: 20 << 20,
		MaxExpandedBytes: 100 << 20, MaxFiles: 10000, KeepBytes: 128 << 20, DiskBytes: 1 << 30}
}

// Charts fetches Helm charts from chart repositories: HTTP(S) repositories
// with an index.yaml, and OCI registries. Like the Git cache, one listing
// per repository and interval is shared by every app using it, and an
// unpacked chart version is shared by every app rendering it. It is safe
// for concurrent use.
type Charts struct {
	opts ChartOptions

	mu    sync.Mutex
	repos map[string]*chartRepo
	snaps map[string]*chartSnap
	// fetching holds a channel per snapshot being downloaded, closed when
	// done: concurrent apps wait for one download.
	fetching map[string]chan struct{}
	blobs    *blobStore // archives on disk; nil without ChartOptions.Dir
	used     int64      // unpacked bytes in snaps
	clock    int64      // use counter for the least-recently-used eviction
	// counters for tests
	listings, downloads int64
}

// chartRepo is the cached version list of one HTTP repository (all its
// charts) or one OCI chart repository.
type chartRepo struct {
	mu       sync.Mutex // held during a listing, so callers share it
	entries  map[string][]chartVersion
	at       time.Time
	err      error
	key      string // fingerprint of the credentials used
	etag     string
	modified string
}

type chartVersion struct {
	Version string
	URLs    []string
	Digest  string
	Created time.Time
}

type chartSnap struct {
	snap *Snapshot
	size int64
	used int64
}

// NewCharts creates an empty chart cache.
func NewCharts(opts ChartOptions) *Charts {
	def := DefaultChartOptions()
	orDefault(&opts.Timeout, def.Timeout)
	orDefault(&opts.MaxIndexBytes, def.MaxIndexBytes)
	orDefault(&opts.MaxArchiveBytes, def.MaxArchiveBytes)
	orDefault(&opts.MaxExpandedBytes, def.MaxExpandedBytes)
	orDefault(&opts.MaxFiles, def.MaxFiles)
	orDefault(&opts.KeepBytes, def.KeepBytes)
	orDefault(&opts.DiskBytes, def.DiskBytes)
	return &Charts{opts: opts, repos: map[string]*chartRepo{}, snaps: map[string]*chartSnap{}, fetching: map[string]chan struct{}{},
		blobs: newBlobStore(opts.Dir, opts.DiskBytes)}
}

// orDefault sets *v to def when it is zero.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Stats returns how many listings (index.yaml or tag lists) and archive
// downloads the cache has made.
func (c *Charts) Stats() (listings, downloads int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listings, c.downloads
}

// IsOCIChartRepo reports whether a chart's repoURL is an OCI registry:
// "oci://host/path", or a bare "host/path" as Argo CD writes them.
func IsOCIChartRepo(repoURL string) bool {
	return strings.HasPrefix(repoURL, "oci://") || !strings.Contains(repoURL, "://")
}

// ociRepo is the registry repository of chart: "host/path/chart".
func ociRepo(repoURL, chart string) string {
	return strings.TrimSuffix(strings.TrimPrefix(repoURL, "oci://"), "/") + "/" + chart
}

func chartRepoName(repoURL string) string {
	if IsOCIChartRepo(repoURL) && !strings.HasPrefix(repoURL, "oci://") {
		return "oci://" + repoURL
	}
	return RedactURL(repoURL)
}

// ResolveChart turns targetRevision into a version of chart: an exact
// version, or the highest one matching a semantic version constraint
// ("1.2.*", "^1.2", ">=1.0.0 <2.0.0"; empty or "*" is the latest release).
// The repository's listing is reused while younger than maxAge; a
// revision no cached version matches causes one fresh listing.
func (c *Charts) ResolveChart(ctx context.Context, repoURL, chart, revision string, creds *Credentials, maxAge time.Duration) (string, error) {
	if strings.TrimSpace(chart) == "" {
		return "", errors.New("spec.source.chart is empty")
	}
	for {
		versions, err := c.versions(ctx, repoURL, chart, creds, maxAge)
		if err != nil {
			return "", err
		}
		v, err := pickVersion(versions, revision)
		if err != nil {
			return "", fmt.Errorf("chart repository %s: chart %s: %w", chartRepoName(repoURL), chart, err)
		}
		if v != "" {
			return v, nil
		}
		if maxAge > 0 {
			maxAge = 0 // the version may be new
			continue
		}
		if len(versions) == 0 {
			return "", fmt.Errorf("chart repository %s: no chart %q", chartRepoName(repoURL), chart)
		}
		return "", fmt.Errorf("chart repository %s: chart %s has no version matching %q (latest: %s)", chartRepoName(repoURL), chart, revision, latest(versions, 5))
	}
}

// pickVersion returns the version revision names: itself when listed,
// else the highest listed version its constraint allows; "" when none.
func pickVersion(versions []chartVersion, revision string) (string, error) {
	revision = strings.TrimSpace(revision)
	if revision == "" {
		revision = "*"
	}
	for _, v := range versions {
		if v.Version == revision {
			return v.Version, nil
		}
	}
	con, err := semver.NewConstraint(revision)
	if err != nil {
		return "", fmt.Errorf("targetRevision %q is neither a chart version nor a version constraint: %v", revision, err)
	}
	var best *semver.Version
	found := ""
	for _, v := range versions {
		sv, err := semver.NewVersion(v.Version)
		if err != nil || !con.Check(sv) {
			continue
		}
		if best == nil || sv.GreaterThan(best) {
			best, found = sv, v.Version
		}
	}
	return found, nil
}

// latest names up to n of the highest versions, for error messages.
func latest(versions []chartVersion, n int) string {
	var vs []*semver.Version
	for _, v := range versions {
		if sv, err := semver.NewVersion(v.Version); err == nil {
			vs = append(vs, sv)
		}
	}
	slices.SortFunc(vs, func(a, b *semver.Version) int { return b.Compare(a) })
	names := make([]string, 0, n)
	for _, v := range vs[:min(n, len(vs))] {
		names = append(names, v.Original())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// versions lists the versions of chart, from a listing at most maxAge old.
func (c *Charts) versions(ctx context.Context, repoURL, chart string, creds *Credentials, maxAge time.Duration) ([]chartVersion, error) {
	oci := IsOCIChartRepo(repoURL)
	key := repoURL
	if oci {
		key = ociRepo(repoURL, chart)
	}
	c.mu.Lock()
	r, ok := c.repos[key]
	if !ok {
		r = &chartRepo{}
		c.repos[key] = r
	}
	c.mu.Unlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	fp := creds.fingerprint()
	if maxAge > 0 && fp == r.key && !r.at.IsZero() {
		age := time.Since(r.at)
		if r.err == nil && age < maxAge {
			return r.entries[chart], nil
		}
		if r.err != nil && age < min(maxAge, errorReuse) {
			return nil, r.err
		}
	}
	if fp != r.key {
		r.etag, r.modified = "", ""
	}
	r.key, r.at = fp, time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	c.mu.Lock()
	c.listings++
	c.mu.Unlock()
	if oci {
		tags, err := ociChartVersions(ctx, key, creds)
		if err != nil {
			r.err = err
			return nil, err
		}
		vs := make([]chartVersion, 0, len(tags))
		for _, t := range tags {
			vs = append(vs, chartVersion{Version: t})
		}
		r.entries, r.err = map[string][]chartVersion{chart: vs}, nil
		return vs, nil
	}
	r.err = c.fetchIndex(ctx, repoURL, r, creds)
	if r.err != nil {
		return nil, r.err
	}
	return r.entries[chart], nil
}

// indexFile is the part of a repository's index.yaml tether reads.
type indexFile struct {
	APIVersion string `yaml:"apiVersion"`
	Entries    map[string][]struct {
		Version string   `yaml:"version"`
		URLs    []string `yaml:"urls"`
		Digest  string   `yaml:"digest"`
		Created string   `yaml:"created"`
	} `yaml:"entries"`
}

// fetchIndex reads repoURL/index.yaml into r, asking only for a changed
// one when the last answer had an ETag or a Last-Modified date.
func (c *Charts) fetchIndex(ctx context.Context, repoURL string, r *chartRepo, creds *Credentials) error {
	name := chartRepoName(repoURL)
	u, err := url.Parse(strings.TrimSuffix(repoURL, "/") + "/index.yaml")
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("chart repository %s: not an http(s) URL nor an OCI registry", name)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("chart repository %s: %w", name, err)
	}
	authorize(req, creds)
	if r.etag != "" {
		req.Header.Set("If-None-Match", r.etag)
	}
	if r.modified != "" {
		req.Header.Set("If-Modified-Since", r.modified)
	}
	resp, err := chartGet(req, creds)
	if err != nil {
		return fmt.Errorf("chart repository %s: get index.yaml: %s", name, redactErr(err, repoURL))
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusNotModified && r.entries != nil {
		return nil
	}
	if err := httpStatusError(resp, "index.yaml"); err != nil {
		return fmt.Errorf("chart repository %s: %w", name, err)
	}
	body, err := readLimited(resp.Body, c.opts.MaxIndexBytes, "index.yaml")
	if err != nil {
		return fmt.Errorf("chart repository %s: %w", name, err)
	}
	var idx indexFile
	if err := yamlv3.Unmarshal(body, &idx); err != nil {
		return fmt.Errorf("chart repository %s: index.yaml is not a chart index: %v", name, err)
	}
	if idx.APIVersion == "" && idx.Entries == nil {
		return fmt.Errorf("chart repository %s: index.yaml is not a chart index (no apiVersion, no entries)", name)
	}
	entries := make(map[string][]chartVersion, len(idx.Entries))
	for chart, list := range idx.Entries {
		vs := make([]chartVersion, 0, len(list))
		for _, e := range list {
			created, _ := time.Parse(time.RFC3339Nano, e.Created)
			vs = append(vs, chartVersion{Version: e.Version, URLs: e.URLs, Digest: e.Digest, Created: created})
		}
		entries[chart] = vs
	}
	r.entries = entries
	r.etag, r.modified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	return nil
}

// ChartSnapshot returns chart at version unpacked: its files at the root
// (the archive's top directory removed). The archive's digest is checked
// against the index (HTTP) or the registry (OCI). Commit is the version.
func (c *Charts) ChartSnapshot(ctx context.Context, repoURL, chart, version string, creds *Credentials) (*Snapshot, error) {
	key := repoURL + "\x00" + chart + "\x00" + version + "\x00" + creds.fingerprint()
	for {
		c.mu.Lock()
		if s, ok := c.snaps[key]; ok {
			c.clock++
			s.used = c.clock
			c.mu.Unlock()
			return s.snap, nil
		}
		wait, busy := c.fetching[key]
		if !busy {
			done := make(chan struct{})
			c.fetching[key] = done
			c.mu.Unlock()
			defer func() {
				c.mu.Lock()
				delete(c.fetching, key)
				c.mu.Unlock()
				close(done)
			}()
			break
		}
		c.mu.Unlock()
		// Another app is downloading this version: share its result
		// (or try again when it failed).
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	name := chartRepoName(repoURL)
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var archive []byte
	var created time.Time
	var err error
	if IsOCIChartRepo(repoURL) {
		archive, _, err = ociChartArchive(ctx, ociRepo(repoURL, chart), version, creds, c.opts.MaxArchiveBytes, c.blobs)
		if err != nil {
			return nil, err
		}
	} else {
		v, err := c.findVersion(ctx, repoURL, chart, version, creds)
		if err != nil {
			return nil, err
		}
		created = v.Created
		if archive, err = c.download(ctx, repoURL, chart, v, creds); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	c.downloads++
	c.mu.Unlock()
	if created.IsZero() {
		created = time.Now()
	}
	files, err := expandChart(archive, c.opts, created)
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: chart %s %s: %w", name, chart, version, err)
	}
	snap := &Snapshot{RepoURL: repoURL, Commit: version, Message: fmt.Sprintf("Helm chart %s %s", chart, version), Time: created, FS: files}
	c.keep(key, snap, files.size)
	return snap, nil
}

// keep stores a snapshot, evicting the least recently used ones beyond
// KeepBytes (never the new one).
func (c *Charts) keep(key string, snap *Snapshot, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.snaps[key]; ok {
		return
	}
	c.clock++
	c.snaps[key] = &chartSnap{snap: snap, size: size, used: c.clock}
	c.used += size
	for c.used > c.opts.KeepBytes && len(c.snaps) > 1 {
		oldest := ""
		for k, s := range c.snaps {
			if k != key && (oldest == "" || s.used < c.snaps[oldest].used) {
				oldest = k
			}
		}
		c.used -= c.snaps[oldest].size
		delete(c.snaps, oldest)
	}
}

// findVersion returns the index entry of chart at version, listing the
// repository again once when the cached index lacks it.
func (c *Charts) findVersion(ctx context.Context, repoURL, chart, version string, creds *Credentials) (chartVersion, error) {
	for _, maxAge := range []time.Duration{time.Hour, 0} {
		vs, err := c.versions(ctx, repoURL, chart, creds, maxAge)
		if err != nil {
			return chartVersion{}, err
		}
		for _, v := range vs {
			if v.Version == version {
				return v, nil
			}
		}
	}
	return chartVersion{}, fmt.Errorf("chart repository %s: chart %s version %s not found", chartRepoName(repoURL), chart, version)
}

// download fetches the archive of v and checks its digest. Credentials go
// only to the repository's own scheme and host, as Helm does by default,
// unless creds.PassToOtherHosts.
func (c *Charts) download(ctx context.Context, repoURL, chart string, v chartVersion, creds *Credentials) ([]byte, error) {
	if data, ok := c.blobs.get(v.Digest); ok {
		return data, nil // the very archive the index names, kept on disk
	}
	name := chartRepoName(repoURL)
	what := fmt.Sprintf("chart %s %s", chart, v.Version)
	if len(v.URLs) == 0 {
		return nil, fmt.Errorf("chart repository %s: %s: the index lists no URL", name, what)
	}
	base, err := url.Parse(strings.TrimSuffix(repoURL, "/") + "/")
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %w", name, err)
	}
	ref, err := url.Parse(v.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %s: invalid URL in the index: %v", name, what, err)
	}
	u := base.ResolveReference(ref)
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("chart repository %s: %s: the index's URL is not http(s) (scheme %q)", name, what, u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %s: %w", name, what, err)
	}
	if (u.Scheme == base.Scheme && u.Host == base.Host) || (creds != nil && creds.PassToOtherHosts) {
		authorize(req, creds)
	}
	resp, err := chartGet(req, creds)
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %s: %s", name, what, redactErr(err, u.String()))
	}
	defer func() { _ = resp.Body.Close() }()
	if err := httpStatusError(resp, "the archive "+RedactURL(u.String())); err != nil {
		return nil, fmt.Errorf("chart repository %s: %s: %w", name, what, err)
	}
	data, err := readLimited(resp.Body, c.opts.MaxArchiveBytes, "the archive")
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %s: %w", name, what, err)
	}
	if want := strings.TrimPrefix(strings.ToLower(v.Digest), "sha256:"); want != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want {
			return nil, fmt.Errorf("chart repository %s: %s: the archive's digest sha256:%s is not the index's sha256:%s", name, what, got, want)
		}
		c.blobs.put(data) // found again by the index's digest only
	}
	return data, nil
}

// expandChart unpacks a gzipped chart archive (one top directory, regular
// files only, nothing outside it) into memory, within opts' bounds.
func expandChart(archive []byte, opts ChartOptions, mtime time.Time) (*memFS, error) {
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		return nil, fmt.Errorf("not a gzipped archive: %v", err)
	}
	tr := tar.NewReader(gz)
	m := newMemFS(mtime)
	top := ""
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("archive: %v", err)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return nil, fmt.Errorf("archive entry %q is not a regular file", hdr.Name)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || !fs.ValidPath(path.Clean(name)) {
			return nil, fmt.Errorf("archive entry %q points outside the chart", hdr.Name)
		}
		name = path.Clean(name)
		first, rest, ok := strings.Cut(name, "/")
		if !ok {
			return nil, fmt.Errorf("archive entry %q is outside the chart's directory", hdr.Name)
		}
		if top == "" {
			top = first
		} else if first != top {
			return nil, fmt.Errorf("archive holds more than one chart directory (%s/ and %s/)", top, first)
		}
		if len(m.files) >= opts.MaxFiles {
			return nil, fmt.Errorf("archive holds more than %d files", opts.MaxFiles)
		}
		if hdr.Size < 0 || m.size+hdr.Size > opts.MaxExpandedBytes {
			return nil, fmt.Errorf("chart is larger than %d MiB unpacked (at %s)", opts.MaxExpandedBytes>>20, hdr.Name)
		}
		data := make([]byte, hdr.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			return nil, fmt.Errorf("archive entry %q: %v", hdr.Name, err)
		}
		if !m.add(rest, data) {
			return nil, fmt.Errorf("archive entry %q appears twice", hdr.Name)
		}
	}
	if top == "" {
		return nil, errors.New("archive is empty")
	}
	if _, ok := m.files["Chart.yaml"]; !ok {
		return nil, fmt.Errorf("archive has no %s/Chart.yaml", top)
	}
	return m, nil
}

// authorize adds the credentials to an HTTP request: basic auth, or a
// bearer token.
func authorize(req *http.Request, creds *Credentials) {
	switch {
	case creds == nil:
	case creds.Username != "" || creds.Password != "":
		req.SetBasicAuth(creds.Username, creds.Password)
	case creds.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+creds.BearerToken)
	}
}

// chartGet sends req with the client of the credentials' TLS settings.
func chartGet(req *http.Request, creds *Credentials) (*http.Response, error) {
	cl, err := httpClient(creds)
	if err != nil {
		return nil, err
	}
	return cl.Do(req)
}

// httpStatusError describes a failed answer; nil for 2xx.
func httpStatusError(resp *http.Response, what string) error {
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("get %s: authentication failed (HTTP %d): check the repository's credentials", what, resp.StatusCode)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("get %s: not found (HTTP 404)", what)
	default:
		return fmt.Errorf("get %s: HTTP %d", what, resp.StatusCode)
	}
}

// readLimited reads at most max bytes, failing (without reading further)
// when there are more.
func readLimited(r io.Reader, max int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %v", what, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than the limit of %d MiB", what, max>>20)
	}
	return data, nil
}

// redactErr is err's text with any user information of rawURL removed.
func redactErr(err error, rawURL string) string {
	msg := err.Error()
	if u, perr := url.Parse(rawURL); perr == nil && u.User != nil {
		msg = strings.ReplaceAll(msg, rawURL, RedactURL(rawURL))
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "***")
		}
	}
	return msg
}
