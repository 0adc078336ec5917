package bench

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/tether-gitops/tether/internal/testenv"
)

// workloadScript finds the shared gen-workload.sh; "" when it is absent.
func workloadScript(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TETHER_WORKLOAD_SCRIPT"); p != "" {
		return p
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "..", "shared", "bench", "gen-workload.sh")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// TestGeneratorMatchesScript runs the shared script and the Go generator
// and compares the trees they write, byte for byte.
func TestGeneratorMatchesScript(t *testing.T) {
	script := workloadScript(t)
	if script == "" {
		t.Skip("gen-workload.sh not found (set TETHER_WORKLOAD_SCRIPT or keep ../shared/bench next to the repository): the Go generator cannot be compared with it")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed: cannot run gen-workload.sh")
	}
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command("bash", append([]string{script}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("gen-workload.sh %v: %v\n%s", args, err, out)
		}
	}
	n := 1000 // what W3 runs
	if testing.Short() {
		n = 120
	}
	cases := []struct {
		name   string
		script func(dir string)
		gen    func(dir string) error
	}{
		{"w1", func(d string) { run("w1", d) }, func(d string) error { return WriteFiles(d, W1Files()) }},
		{"w1-bump", func(d string) { run("w1", d); run("w1-bump", d, "bump-07") }, func(d string) error {
			if err := WriteFiles(d, W1Files()); err != nil {
				return err
			}
			_, err := BumpW1(d, "bump-07")
			return err
		}},
		{"w3-nsobj", func(d string) { run("w3", d, strconv.Itoa(n)) }, func(d string) error { return WriteFiles(d, W3Files(n, true)) }},
		{"w3-no-nsobj", func(d string) { run("w3", d, "12", "0") }, func(d string) error { return WriteFiles(d, W3Files(12, false)) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, got := t.TempDir(), t.TempDir()
			c.script(want)
			if err := c.gen(got); err != nil {
				t.Fatal(err)
			}
			compareTrees(t, want, got)
		})
	}
}

func compareTrees(t *testing.T, want, got string) {
	t.Helper()
	w, g := readTree(t, want), readTree(t, got)
	if len(w) == 0 {
		t.Fatal("the script wrote no files")
	}
	for _, name := range sortedKeys(w) {
		gc, ok := g[name]
		switch {
		case !ok:
			t.Errorf("%s: written by the script, not by the Go generator", name)
		case gc != w[name]:
			t.Errorf("%s differs:\nscript: %q\ngo:     %q", name, w[name], gc)
		}
	}
	for _, name := range sortedKeys(g) {
		if _, ok := w[name]; !ok {
			t.Errorf("%s: written by the Go generator, not by the script", name)
		}
	}
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
