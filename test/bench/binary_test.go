package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tether-gitops/tether/internal/testenv"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// tetherBinary is the tether program to run: TETHER_BENCH_TETHER, else
// bin/tether when run by make (whose bench target builds it first), else
// one built from ./cmd/tether for this run.
func tetherBinary(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("TETHER_BENCH_TETHER"); p != "" {
		return p
	}
	if os.Getenv("MAKELEVEL") != "" {
		if dir, err := testenv.BinDir(); err == nil {
			if p := filepath.Join(dir, "tether"); isFile(p) {
				return p
			}
		}
	}
	buildOnce.Do(func() {
		root, err := testenv.RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "tether-bench-bin-")
		if err != nil {
			buildErr = err
			return
		}
		tempDirs = append(tempDirs, dir)
		builtBin = filepath.Join(dir, "tether")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/tether")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/tether: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return builtBin
}

// tempDirs are removed when the package's benchmarks end.
var tempDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
