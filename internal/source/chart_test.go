package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tether-gitops/tether/internal/testenv/chartrepo"
)

func chartArchive(t *testing.T, entries ...chartrepo.Entry) []byte {
	t.Helper()
	b, err := chartrepo.Archive(entries...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func simpleChart(t *testing.T, name, version string) []byte {
	t.Helper()
	b, err := chartrepo.Chart(name, version, map[string]string{
		"values.yaml":       "replicas: 1\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newHelmRepo(t *testing.T, user, password string) *chartrepo.Server {
	s := chartrepo.NewServer(user, password)
	t.Cleanup(s.Close)
	return s
}

func TestResolveChartVersions(t *testing.T) {
	repo := newHelmRepo(t, "", "")
	for _, v := range []string{"1.0.0", "1.2.0", "1.2.7", "2.0.0-rc.1", "1.10.1"} {
		repo.Publish("web", v, simpleChart(t, "web", v))
	}
	c := NewCharts(ChartOptions{})
	ctx := context.Background()
	for rev, want := range map[string]string{
		"1.2.0":      "1.2.0",
		"1.2.*":      "1.2.7",
		"^1.2":       "1.10.1",
		"~1.2":       "1.2.7",
		"":           "1.10.1",
		"*":          "1.10.1",
		"<1.2":       "1.0.0",
		">=2.0.0-0":  "2.0.0-rc.1",
		"2.0.0-rc.1": "2.0.0-rc.1",
	} {
		got, err := c.ResolveChart(ctx, repo.URL(), "web", rev, nil, time.Minute)
		if err != nil || got != want {
			t.Errorf("ResolveChart(%q) = %q, %v; want %q", rev, got, err, want)
		}
	}
	if gets, _ := repo.IndexRequests(); gets != 1 {
		t.Errorf("index fetched %d times for 9 resolutions within maxAge; want 1", gets)
	}

	_, err := c.ResolveChart(ctx, repo.URL(), "web", "3.x", nil, time.Minute)
	if err == nil || !strings.Contains(err.Error(), `no version matching "3.x"`) || !strings.Contains(err.Error(), "1.10.1, 1.2.7") {
		t.Errorf("no match: %v", err)
	}
	_, err = c.ResolveChart(ctx, repo.URL(), "nope", "1.0.0", nil, time.Minute)
	if err == nil || !strings.Contains(err.Error(), `no chart "nope"`) {
		t.Errorf("unknown chart: %v", err)
	}
	_, err = c.ResolveChart(ctx, repo.URL(), "web", "not a version!", nil, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "neither a chart version nor a version constraint") {
		t.Errorf("bad constraint: %v", err)
	}
}

func TestResolveChartSeesNewVersionsAndSharesListings(t *testing.T) {
	repo := newHelmRepo(t, "", "")
	repo.UseETags()
	repo.Publish("web", "1.0.0", simpleChart(t, "web", "1.0.0"))
	c := NewCharts(ChartOptions{})
	ctx := context.Background()
	if v, err := c.ResolveChart(ctx, repo.URL(), "web", "1.0.0", nil, time.Hour); err != nil || v != "1.0.0" {
		t.Fatalf("got %q, %v", v, err)
	}
	// Unchanged index, asked again with maxAge 0: a conditional GET.
	if _, err := c.ResolveChart(ctx, repo.URL(), "web", "*", nil, 0); err != nil {
		t.Fatal(err)
	}
	if gets, notMod := repo.IndexRequests(); gets != 2 || notMod != 1 {
		t.Errorf("index gets %d, not-modified %d; want 2, 1", gets, notMod)
	}
	// A version published after the listing is found without waiting
	// for the interval: a miss lists again once.
	repo.Publish("web", "1.1.0", simpleChart(t, "web", "1.1.0"))
	if v, err := c.ResolveChart(ctx, repo.URL(), "web", "1.1.0", nil, time.Hour); err != nil || v != "1.1.0" {
		t.Fatalf("new version: %q, %v", v, err)
	}
	// But a constraint the cached listing satisfies does not list again.
	if v, err := c.ResolveChart(ctx, repo.URL(), "web", "1.0.*", nil, time.Hour); err != nil || v != "1.0.0" {
		t.Fatalf("cached: %q, %v", v, err)
	}
	if gets, _ := repo.IndexRequests(); gets != 3 {
		t.Errorf("index gets %d; want 3", gets)
	}
}

func TestChartSnapshot(t *testing.T) {
	repo := newHelmRepo(t, "", "")
	repo.Publish("web", "1.0.0", simpleChart(t, "web", "1.0.0"))
	c := NewCharts(ChartOptions{})
	ctx := context.Background()
	s, err := c.ChartSnapshot(ctx, repo.URL()+"/", "web", "1.0.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Commit != "1.0.0" || s.Describe() != "Helm chart web 1.0.0" || !s.Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("snapshot %q %q %v", s.Commit, s.Describe(), s.Time)
	}
	b, err := fs.ReadFile(s.FS, "templates/cm.yaml")
	if err != nil || !strings.Contains(string(b), "ConfigMap") {
		t.Errorf("templates/cm.yaml: %q, %v", b, err)
	}
	ents, err := fs.ReadDir(s.FS, ".")
	if err != nil || len(ents) != 3 || ents[0].Name() != "Chart.yaml" || !ents[1].IsDir() || ents[1].Name() != "templates" {
		t.Errorf("root: %v, %v", ents, err)
	}
	if _, err := fs.Stat(s.FS, "web/Chart.yaml"); err == nil {
		t.Error("the archive's top directory should be removed")
	}
	again, err := c.ChartSnapshot(ctx, repo.URL()+"/", "web", "1.0.0", nil)
	if err != nil || again != s {
		t.Errorf("second snapshot not shared: %v", err)
	}
	if _, downloads := c.Stats(); downloads != 1 {
		t.Errorf("downloads = %d; want 1", downloads)
	}
}

func TestChartSnapshotRefusals(t *testing.T) {
	good := simpleChart(t, "web", "1.0.0")
	cases := []struct {
		name    string
		archive []byte
		url     string
		digest  string
		opts    ChartOptions
		want    string
	}{
		{name: "digest", archive: good, digest: strings.Repeat("ab", 32), want: "the archive's digest sha256:"},
		{name: "file URL", archive: good, url: "file:///etc/passwd", want: `not http(s) (scheme "file")`},
		{name: "too large", archive: good, opts: ChartOptions{MaxArchiveBytes: 100}, want: "larger than the limit"},
		{name: "not gzip", archive: []byte("plain text"), want: "not a gzipped archive"},
		{name: "traversal", archive: chartArchive(t, chartrepo.Entry{Name: "web/Chart.yaml", Data: "name: web"}, chartrepo.Entry{Name: "web/../../etc/x", Data: "x"}), want: "points outside the chart"},
		{name: "absolute", archive: chartArchive(t, chartrepo.Entry{Name: "/etc/x", Data: "x"}), want: "points outside the chart"},
		{name: "symlink", archive: chartArchive(t, chartrepo.Entry{Name: "web/Chart.yaml", Data: "name: web"}, chartrepo.Entry{Name: "web/values.yaml", Link: "/etc/passwd"}), want: `"web/values.yaml" is not a regular file`},
		{name: "two charts", archive: chartArchive(t, chartrepo.Entry{Name: "web/Chart.yaml", Data: "name: web"}, chartrepo.Entry{Name: "db/Chart.yaml", Data: "name: db"}), want: "more than one chart directory (web/ and db/)"},
		{name: "top-level file", archive: chartArchive(t, chartrepo.Entry{Name: "Chart.yaml", Data: "name: web"}), want: "outside the chart's directory"},
		{name: "no Chart.yaml", archive: chartArchive(t, chartrepo.Entry{Name: "web/values.yaml", Data: "a: 1"}), want: "no web/Chart.yaml"},
		{name: "unpacked too large", archive: chartArchive(t, chartrepo.Entry{Name: "web/Chart.yaml", Data: strings.Repeat("x", 3<<20)}), opts: ChartOptions{MaxExpandedBytes: 2 << 20}, want: "larger than 2 MiB unpacked"},
		{name: "too many files", archive: good, opts: ChartOptions{MaxFiles: 2}, want: "more than 2 files"},
		{name: "empty", archive: chartArchive(t), want: "archive is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo := newHelmRepo(t, "", "")
			repo.PublishAt("web", "1.0.0", tc.archive, tc.url, tc.digest)
			c := NewCharts(tc.opts)
			_, err := c.ChartSnapshot(context.Background(), repo.URL(), "web", "1.0.0", nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want it to contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "chart repository "+repo.URL()) || !strings.Contains(err.Error(), "web") {
				t.Errorf("error does not name the repository and chart: %v", err)
			}
		})
	}
}

func TestChartCredentials(t *testing.T) {
	repo := newHelmRepo(t, "reader", "s3cret-pass")
	repo.Publish("web", "1.0.0", simpleChart(t, "web", "1.0.0"))
	other := newHelmRepo(t, "", "") // another host serving the archive
	elsewhere := simpleChart(t, "web", "2.0.0")
	other.Publish("web", "2.0.0", elsewhere)
	repo.PublishAt("web", "2.0.0", elsewhere, other.URL()+"/charts/web-2.0.0.tgz", "")
	ctx := context.Background()

	c := NewCharts(ChartOptions{})
	_, err := c.ResolveChart(ctx, repo.URL(), "web", "1.0.0", &Credentials{Username: "reader", Password: "wrong-pass"}, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "authentication failed (HTTP 401)") || strings.Contains(err.Error(), "wrong-pass") {
		t.Fatalf("wrong credentials: %v", err)
	}
	creds := &Credentials{Username: "reader", Password: "s3cret-pass"}
	c = NewCharts(ChartOptions{})
	if _, err := c.ChartSnapshot(ctx, repo.URL(), "web", "1.0.0", creds); err != nil {
		t.Fatalf("right credentials: %v", err)
	}
	if _, err := c.ChartSnapshot(ctx, repo.URL(), "web", "2.0.0", creds); err != nil {
		t.Fatalf("archive on another host: %v", err)
	}
	if other.SentCredentials("/charts/web-2.0.0.tgz") {
		t.Error("credentials were sent to another host")
	}
	pass := *creds
	pass.PassToOtherHosts = true // helm.passCredentials
	if _, err := NewCharts(ChartOptions{}).ChartSnapshot(ctx, repo.URL(), "web", "2.0.0", &pass); err != nil {
		t.Fatal(err)
	}
	if !other.SentCredentials("/charts/web-2.0.0.tgz") {
		t.Error("passCredentials: the other host got no credentials")
	}
}

func TestChartSnapshotsKeptWithinBudget(t *testing.T) {
	repo := newHelmRepo(t, "", "")
	for _, v := range []string{"1.0.0", "2.0.0"} {
		repo.Publish("web", v, chartArchive(t, chartrepo.Entry{Name: "web/Chart.yaml", Data: "name: web\n" + strings.Repeat("#", 600)}))
	}
	c := NewCharts(ChartOptions{KeepBytes: 1000})
	ctx := context.Background()
	for _, v := range []string{"1.0.0", "2.0.0", "2.0.0", "1.0.0"} {
		if _, err := c.ChartSnapshot(ctx, repo.URL(), "web", v, nil); err != nil {
			t.Fatal(err)
		}
	}
	// 1.0.0 was evicted by 2.0.0 (two do not fit in 1000 bytes), so it
	// was downloaded again; 2.0.0 the second time was kept.
	if _, downloads := c.Stats(); downloads != 3 {
		t.Errorf("downloads = %d; want 3", downloads)
	}
}

func TestChartIndexRefusals(t *testing.T) {
	ctx := context.Background()
	repo := newHelmRepo(t, "", "")
	repo.SetIndex("<html>not an index</html>")
	_, err := NewCharts(ChartOptions{}).ResolveChart(ctx, repo.URL(), "web", "1.0.0", nil, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "index.yaml is not a chart index") {
		t.Errorf("not an index: %v", err)
	}
	repo.SetIndex("apiVersion: v1\nentries: {}\n" + strings.Repeat("# padding\n", 200))
	_, err = NewCharts(ChartOptions{MaxIndexBytes: 1000}).ResolveChart(ctx, repo.URL(), "web", "1.0.0", nil, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "index.yaml is larger than the limit") {
		t.Errorf("large index: %v", err)
	}
	_, err = NewCharts(ChartOptions{}).ResolveChart(ctx, repo.URL()+"/missing", "web", "1.0.0", nil, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "not found (HTTP 404)") {
		t.Errorf("no index: %v", err)
	}
	_, err = NewCharts(ChartOptions{}).ResolveChart(ctx, "http://127.0.0.1:1", "web", "1.0.0", &Credentials{Username: "u", Password: "pw-never-shown"}, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "chart repository http://127.0.0.1:1: get index.yaml") || strings.Contains(err.Error(), "pw-never-shown") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestIsOCIChartRepo(t *testing.T) {
	for u, want := range map[string]bool{
		"oci://ghcr.io/org/charts":           true,
		"registry-1.docker.io/bitnamicharts": true,
		"https://charts.example.com":         false,
		"http://127.0.0.1:8080/charts":       false,
	} {
		if got := IsOCIChartRepo(u); got != want {
			t.Errorf("IsOCIChartRepo(%q) = %v", u, got)
		}
	}
	if got := ociRepo("oci://ghcr.io/org/charts/", "web"); got != "ghcr.io/org/charts/web" {
		t.Errorf("ociRepo = %q", got)
	}
}

func TestChartFilesConform(t *testing.T) {
	m, err := expandChart(simpleChart(t, "web", "1.0.0"), DefaultChartOptions(), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(m, "Chart.yaml", "values.yaml", "templates/cm.yaml"); err != nil {
		t.Fatal(err)
	}
}

func TestChartSnapshotDownloadedOnceForConcurrentApps(t *testing.T) {
	repo := newHelmRepo(t, "", "")
	repo.Publish("web", "1.0.0", simpleChart(t, "web", "1.0.0"))
	c := NewCharts(ChartOptions{})
	ctx := context.Background()
	if _, err := c.ResolveChart(ctx, repo.URL(), "web", "1.0.0", nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	snaps := make([]*Snapshot, 20)
	errs := make([]error, 20)
	for i := range snaps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			snaps[i], errs[i] = c.ChartSnapshot(ctx, repo.URL(), "web", "1.0.0", nil)
		}()
	}
	wg.Wait()
	for i := range snaps {
		if errs[i] != nil || snaps[i] != snaps[0] {
			t.Fatalf("app %d: %v (shared snapshot: %v)", i, errs[i], snaps[i] == snaps[0])
		}
	}
	if _, downloads := c.Stats(); downloads != 1 {
		t.Errorf("downloads = %d for 20 concurrent apps; want 1", downloads)
	}
}

func TestChartArchivesKeptOnDiskByDigest(t *testing.T) {
	repo := newHelmRepo(t, "", "")
	repo.Publish("web", "1.0.0", simpleChart(t, "web", "1.0.0"))
	repo.PublishAt("web", "2.0.0", simpleChart(t, "web", "2.0.0"), "", "-") // no digest in the index
	dir := t.TempDir()
	ctx := context.Background()
	snapshot := func(version string) *Snapshot {
		t.Helper()
		c := NewCharts(ChartOptions{Dir: dir}) // a new process, the same disk
		s, err := c.ChartSnapshot(ctx, repo.URL(), "web", version, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	snapshot("1.0.0")
	if n := repo.ArchiveRequests(); n != 1 {
		t.Fatalf("archive downloads %d, want 1", n)
	}
	s := snapshot("1.0.0")
	if n := repo.ArchiveRequests(); n != 1 {
		t.Errorf("after a restart the archive was downloaded again (%d downloads)", n)
	}
	if b, err := fs.ReadFile(s.FS, "Chart.yaml"); err != nil || !strings.Contains(string(b), "1.0.0") {
		t.Errorf("chart from disk: %q, %v", b, err)
	}

	// A damaged file is noticed, removed and replaced by a download.
	files, err := os.ReadDir(dir)
	if err != nil || len(files) != 1 {
		t.Fatalf("store: %v, %v", files, err)
	}
	if err := os.WriteFile(filepath.Join(dir, files[0].Name()), []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	snapshot("1.0.0")
	if n := repo.ArchiveRequests(); n != 2 {
		t.Errorf("a damaged archive on disk was used (%d downloads, want 2)", n)
	}

	// Without a digest in the index there is nothing to check a file
	// against: such archives are always downloaded.
	snapshot("2.0.0")
	snapshot("2.0.0")
	if n := repo.ArchiveRequests(); n != 4 {
		t.Errorf("downloads %d, want 4", n)
	}
}

func TestBlobStoreKeepsTheMostRecentlyUsedWithinItsSize(t *testing.T) {
	b := newBlobStore(t.TempDir(), 25)
	digest := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	b.put([]byte("first blob.")) // 11 bytes
	time.Sleep(10 * time.Millisecond)
	b.put([]byte("second blob")) // 11 bytes
	time.Sleep(10 * time.Millisecond)
	if _, ok := b.get(digest("first blob.")); !ok { // now the most recent
		t.Fatal("first blob missing")
	}
	time.Sleep(10 * time.Millisecond)
	b.put([]byte("third blob.")) // over 25 bytes: the least recently used goes
	if _, ok := b.get(digest("second blob")); ok {
		t.Error("the least recently used blob stayed")
	}
	for _, s := range []string{"first blob.", "third blob."} {
		if data, ok := b.get(digest(s)); !ok || string(data) != s {
			t.Errorf("%q: %q, %v", s, data, ok)
		}
	}
	b.put(make([]byte, 26)) // larger than the store: not kept
	if _, ok := b.get(digest(string(make([]byte, 26)))); ok {
		t.Error("a blob larger than the store was kept")
	}
	if _, ok := b.get("md5:abc"); ok {
		t.Error("a digest that is not sha256 was found")
	}
	var none *blobStore // no directory: nothing is kept
	none.put([]byte("x"))
	if _, ok := none.get(digest("x")); ok {
		t.Error("a nil store answered")
	}
}
