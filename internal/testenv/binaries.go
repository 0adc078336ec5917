package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const modulePath = "github.com/tether-gitops/tether"

// Tools lists the programs the control plane needs.
var Tools = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok"}

// BinDir finds the directory holding the control-plane programs: the
// TETHER_BIN_DIR environment variable, else bin/ at the repository root
// found by walking up from the working directory.
func BinDir() (string, error) {
	if d := os.Getenv("TETHER_BIN_DIR"); d != "" {
		return filepath.Abs(d)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin"), nil
}

// RepoRoot walks up from the working directory to the directory whose
// go.mod declares tether's module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isModuleRoot(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root not found: run from inside the tether repository or set TETHER_BIN_DIR")
		}
		dir = parent
	}
}

func isModuleRoot(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module ")) == modulePath
		}
	}
	return false
}

// checkTools returns a clear error naming every missing program.
func checkTools(binDir string) error {
	var missing []string
	for _, t := range Tools {
		if st, err := os.Stat(filepath.Join(binDir, t)); err != nil || st.IsDir() {
			missing = append(missing, t)
		}
	}
	if _, err := os.Stat(filepath.Join(binDir, "kwok-stages")); err != nil {
		missing = append(missing, "kwok-stages/")
	}
	if len(missing) > 0 {
		return fmt.Errorf("control-plane tools missing from %s: %s: run `make tools` to build them", binDir, strings.Join(missing, ", "))
	}
	return nil
}
