package source

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tether-gitops/tether/internal/testenv/chartrepo"
)

// ociTestRegistry starts an in-memory registry on 127.0.0.1 (plain HTTP, as
// the library uses for loopback hosts); wrap, if not nil, sees every request
// first. It returns the registry host ("127.0.0.1:port").
func ociTestRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// ociTestChart builds a gzipped chart archive: mychart/Chart.yaml and
// mychart/templates/cm.yaml.
func ociTestChart(t *testing.T, version string) []byte {
	t.Helper()
	b, err := chartrepo.Chart("mychart", version, map[string]string{
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  version: " + version + "\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ociPushManifest uploads the blobs and puts an OCI manifest with config
// and layers (then descs) at tag; it returns the manifest digest.
func ociPushManifest(t *testing.T, ref name.Tag, config v1.Layer, layers []v1.Layer, descs []v1.Descriptor, opts ...remote.Option) string {
	t.Helper()
	digest, err := chartrepo.Put(ref, config, layers, descs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return digest
}

// ociPushChart pushes archive as a Helm chart artifact at repo:tag and
// returns the manifest digest.
func ociPushChart(t *testing.T, repo, tag string, archive []byte, opts ...remote.Option) string {
	t.Helper()
	ref, err := name.NewTag(repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := json.Marshal(map[string]string{"apiVersion": "v2", "name": "mychart", "version": strings.ReplaceAll(tag, "_", "+")})
	if err != nil {
		t.Fatal(err)
	}
	config := static.NewLayer(meta, ociHelmConfigMediaType)
	chart := static.NewLayer(archive, ociHelmChartMediaType)
	return ociPushManifest(t, ref, config, []v1.Layer{chart}, nil, opts...)
}

// ociCheckErr checks that err is an error of repo whose text holds every
// one of want.
func ociCheckErr(t *testing.T, err error, repo string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "chart repository oci://"+repo+": ") {
		t.Errorf("error %q does not start with the repository", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}

func TestOCIChartVersions(t *testing.T) {
	var agents sync.Map
	host := ociTestRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			agents.Store(r.UserAgent(), true)
			h.ServeHTTP(w, r)
		})
	})
	repo := host + "/charts/mychart"
	archive := ociTestChart(t, "1.0.0")
	for _, tag := range []string{"1.0.0", "1.2.0", "2.0.0-rc.1", "1.0.0_build.1", "latest", "v1.3.0", "1.4"} {
		ociPushChart(t, repo, tag, archive)
	}
	agents.Clear() // only the requests of the code under test from here on

	got, err := ociChartVersions(t.Context(), repo, nil)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []string{"1.0.0", "1.0.0+build.1", "1.2.0", "2.0.0-rc.1"}
	if !slices.Equal(got, want) {
		t.Errorf("versions = %q, want %q", got, want)
	}
	n := 0
	agents.Range(func(k, _ any) bool {
		n++
		if ua := k.(string); !strings.HasPrefix(ua, "tether") {
			t.Errorf("User-Agent %q does not start with tether", ua)
		}
		return true
	})
	if n == 0 {
		t.Error("no request seen")
	}

	// A repository with no tags at all is not found.
	_, err = ociChartVersions(t.Context(), host+"/charts/nothing", nil)
	ociCheckErr(t, err, host+"/charts/nothing", "not found")

	_, err = ociChartVersions(t.Context(), "Not A Repo", nil)
	ociCheckErr(t, err, "Not A Repo", "invalid repository name")
}

func TestOCIChartArchive(t *testing.T) {
	host := ociTestRegistry(t, nil)
	repo := host + "/charts/mychart"
	archive := ociTestChart(t, "1.2.3+build.5")
	other := ociTestChart(t, "1.2.3")
	digest := ociPushChart(t, repo, "1.2.3_build.5", archive)
	ociPushChart(t, repo, "1.2.3", other)

	got, gotDigest, err := ociChartArchive(t.Context(), repo, "1.2.3+build.5", nil, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, archive) {
		t.Errorf("archive differs from the one pushed (%d bytes, want %d)", len(got), len(archive))
	}
	if gotDigest != digest {
		t.Errorf("digest = %s, want %s", gotDigest, digest)
	}
	// The archive is the chart: mychart/Chart.yaml with the version.
	zr, err := gzip.NewReader(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
	if want := []string{"mychart/Chart.yaml", "mychart/templates/cm.yaml"}; !slices.Equal(names, want) {
		t.Errorf("archive holds %q, want %q", names, want)
	}

	// Another version is another archive.
	got, gotDigest, err = ociChartArchive(t.Context(), repo, "1.2.3", nil, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, other) || gotDigest == digest {
		t.Error("version 1.2.3 did not give its own archive")
	}
}

func TestOCIChartArchiveMissingVersion(t *testing.T) {
	host := ociTestRegistry(t, nil)
	repo := host + "/charts/mychart"
	ociPushChart(t, repo, "1.0.0", ociTestChart(t, "1.0.0"))

	data, digest, err := ociChartArchive(t.Context(), repo, "9.9.9", nil, 1<<20, nil)
	ociCheckErr(t, err, repo, "version 9.9.9 not found")
	if data != nil || digest != "" {
		t.Errorf("got %d bytes and digest %q with the error", len(data), digest)
	}

	_, _, err = ociChartArchive(t.Context(), host+"/charts/other", "1.0.0", nil, 1<<20, nil)
	ociCheckErr(t, err, host+"/charts/other", "not found")

	_, _, err = ociChartArchive(t.Context(), repo, "1.0.0/../x", nil, 1<<20, nil)
	ociCheckErr(t, err, repo, "version 1.0.0/../x", "not a valid OCI tag")
}

func TestOCIChartArchiveRefusesAnImage(t *testing.T) {
	host := ociTestRegistry(t, nil)
	repo := host + "/apps/web"
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), static.NewLayer([]byte("not really a tar"), types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	ref, err := name.NewTag(repo + ":1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}

	_, _, err = ociChartArchive(t.Context(), repo, "1.0.0", nil, 1<<20, nil)
	ociCheckErr(t, err, repo, "version 1.0.0", "not a Helm chart", "container image", string(types.OCILayer))

	// A Helm config with no chart layer is named as such too.
	meta := static.NewLayer([]byte(`{"name":"mychart","version":"2.0.0"}`), ociHelmConfigMediaType)
	ociPushManifest(t, ref.Context().Tag("2.0.0"), meta, nil, nil)
	_, _, err = ociChartArchive(t.Context(), repo, "2.0.0", nil, 1<<20, nil)
	ociCheckErr(t, err, repo, "not a Helm chart", "Helm chart config", "no layers")

	// Two chart layers are one too many.
	chart := static.NewLayer(ociTestChart(t, "3.0.0"), ociHelmChartMediaType)
	chart2 := static.NewLayer(ociTestChart(t, "3.0.1"), ociHelmChartMediaType)
	ociPushManifest(t, ref.Context().Tag("3.0.0"), meta, []v1.Layer{chart, chart2}, nil)
	_, _, err = ociChartArchive(t.Context(), repo, "3.0.0", nil, 1<<20, nil)
	ociCheckErr(t, err, repo, "2 layers of media type "+ociHelmChartMediaType)
}

func TestOCIChartArchiveSizeLimit(t *testing.T) {
	// The registry serves an endless-looking blob for one digest, counting
	// the bytes it hands out.
	const big = 256 << 20
	fake := static.NewLayer([]byte("small"), ociHelmChartMediaType)
	fakeDigest, err := fake.Digest()
	if err != nil {
		t.Fatal(err)
	}
	archive := ociTestChart(t, "1.0.0")
	archiveDigest, err := static.NewLayer(archive, ociHelmChartMediaType).Digest()
	if err != nil {
		t.Fatal(err)
	}
	var served, archiveGets atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	host := ociTestRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/blobs/"+archiveDigest.String()) && r.Method == http.MethodGet {
				archiveGets.Add(1)
			}
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+fakeDigest.String()) {
				h.ServeHTTP(w, r)
				return
			}
			defer once.Do(func() { close(done) })
			w.Header().Set("Content-Type", "application/octet-stream")
			buf := make([]byte, 32<<10)
			for served.Load() < big {
				n, err := w.Write(buf)
				served.Add(int64(n))
				if err != nil {
					return
				}
			}
		})
	})
	repo := host + "/charts/mychart"
	ociPushChart(t, repo, "1.0.0", archive)

	// The manifest says the archive is too large: refused before download.
	_, _, err = ociChartArchive(t.Context(), repo, "1.0.0", nil, int64(len(archive))-1, nil)
	ociCheckErr(t, err, repo, "version 1.0.0", "size limit")
	if n := archiveGets.Load(); n != 0 {
		t.Errorf("the archive was downloaded %d times, want 0", n)
	}
	// Exactly at the limit is fine.
	if _, _, err := ociChartArchive(t.Context(), repo, "1.0.0", nil, int64(len(archive)), nil); err != nil {
		t.Errorf("archive of exactly max bytes: %v", err)
	}
	// With a store on disk, the layer the manifest names is downloaded once,
	// also across restarts (a new store on the same directory).
	dir := t.TempDir()
	before := archiveGets.Load()
	for range 2 {
		got, _, err := ociChartArchive(t.Context(), repo, "1.0.0", nil, 1<<20, newBlobStore(dir, 1<<20))
		if err != nil || !bytes.Equal(got, archive) {
			t.Fatalf("archive with a store: %v", err)
		}
	}
	if n := archiveGets.Load() - before; n != 1 {
		t.Errorf("layer downloads with a store on disk: %d, want 1", n)
	}

	// The manifest understates the size: the download stops after max+1
	// bytes. The chart layer's declared size (5) is under the limit.
	ref, err := name.NewTag(repo + ":2.0.0")
	if err != nil {
		t.Fatal(err)
	}
	meta := static.NewLayer([]byte(`{"name":"mychart","version":"2.0.0"}`), ociHelmConfigMediaType)
	desc, err := chartrepo.Descriptor(fake)
	if err != nil {
		t.Fatal(err)
	}
	ociPushManifest(t, ref, meta, nil, []v1.Descriptor{desc})
	const max = 1000
	_, _, err = ociChartArchive(t.Context(), repo, "2.0.0", nil, max, nil)
	ociCheckErr(t, err, repo, "version 2.0.0", "larger than the size limit of 1000 bytes")
	<-done // the server stops writing once the client has hung up
	if n := served.Load(); n >= big {
		t.Errorf("the server wrote all %d bytes: the client read on past the limit", n)
	}
}

func TestOCIChartArchiveVerifiesDigest(t *testing.T) {
	archive := ociTestChart(t, "1.0.0")
	chartDigest, err := static.NewLayer(archive, ociHelmChartMediaType).Digest()
	if err != nil {
		t.Fatal(err)
	}
	// The registry flips a byte of the chart blob (same length).
	host := ociTestRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+chartDigest.String()) {
				bad := bytes.Clone(archive)
				bad[len(bad)/2] ^= 0xff
				w.Write(bad)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	repo := host + "/charts/mychart"
	ociPushChart(t, repo, "1.0.0", archive)

	data, _, err := ociChartArchive(t.Context(), repo, "1.0.0", nil, 1<<20, nil)
	ociCheckErr(t, err, repo, "version 1.0.0", "sha256")
	if data != nil {
		t.Error("got the tampered archive")
	}
}

func TestOCIBasicAuth(t *testing.T) {
	const user, password = "alice", "s3cret-Pa55word"
	host := ociTestRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	repo := host + "/private/mychart"
	archive := ociTestChart(t, "1.0.0")
	good := &Credentials{Username: user, Password: password}
	ociPushChart(t, repo, "1.0.0", archive, remote.WithAuth(ociAuth(good)))

	versions, err := ociChartVersions(t.Context(), repo, good)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(versions, []string{"1.0.0"}) {
		t.Errorf("versions = %q, want [1.0.0]", versions)
	}
	got, _, err := ociChartArchive(t.Context(), repo, "1.0.0", good, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, archive) {
		t.Error("archive differs from the one pushed")
	}

	wrongPassword := "Wr0ng-pa55word-xyz"
	for _, tc := range []struct {
		name  string
		creds *Credentials
		want  string
	}{
		{"wrong password", &Credentials{Username: user, Password: wrongPassword}, "check the repository credentials"},
		{"wrong user", &Credentials{Username: "bob", Password: password}, "check the repository credentials"},
		{"anonymous", nil, "no credentials given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ociChartVersions(t.Context(), repo, tc.creds)
			ociCheckErr(t, err, repo, "authentication failed (HTTP 401)", tc.want)
			_, _, err2 := ociChartArchive(t.Context(), repo, "1.0.0", tc.creds, 1<<20, nil)
			ociCheckErr(t, err2, repo, "version 1.0.0", "authentication failed (HTTP 401)", tc.want)
			for _, e := range []error{err, err2} {
				if e == nil {
					continue
				}
				if msg := e.Error(); strings.Contains(msg, password) || strings.Contains(msg, wrongPassword) {
					t.Errorf("error shows a password: %q", msg)
				}
				if strings.Contains(e.Error(), "{") {
					t.Errorf("error dumps the response: %q", e)
				}
			}
		})
	}
}

func TestOCIBearerToken(t *testing.T) {
	const token = "tok-3f9a1c77e2"
	host := ociTestRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	repo := host + "/private/mychart"
	archive := ociTestChart(t, "1.0.0")
	good := &Credentials{BearerToken: token}
	ociPushChart(t, repo, "1.0.0", archive, remote.WithAuth(ociAuth(good)))

	got, _, err := ociChartArchive(t.Context(), repo, "1.0.0", good, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, archive) {
		t.Error("archive differs from the one pushed")
	}

	wrong := "tok-0000000000"
	_, err = ociChartVersions(t.Context(), repo, &Credentials{BearerToken: wrong})
	ociCheckErr(t, err, repo, "authentication failed (HTTP 401)")
	if msg := err.Error(); strings.Contains(msg, token) || strings.Contains(msg, wrong) {
		t.Errorf("error shows a token: %q", msg)
	}
}

func TestOCIErrorsNeverShowSecrets(t *testing.T) {
	// A registry that echoes the Authorization header back in its error.
	host := ociTestRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			u, p, _ := r.BasicAuth()
			http.Error(w, "broken for "+u+" with "+p, http.StatusBadRequest) // 5xx would be retried
		})
	})
	repo := host + "/charts/mychart"
	creds := &Credentials{Username: "alice", Password: "echoed-Pa55word"}
	_, err := ociChartVersions(t.Context(), repo, creds)
	ociCheckErr(t, err, repo, "list versions")
	if strings.Contains(err.Error(), creds.Password) {
		t.Errorf("error shows the password: %q", err)
	}
	_, _, err = ociChartArchive(t.Context(), repo, "1.0.0", creds, 1<<20, nil)
	ociCheckErr(t, err, repo, "version 1.0.0", "get manifest")
	if strings.Contains(err.Error(), creds.Password) {
		t.Errorf("error shows the password: %q", err)
	}
}
