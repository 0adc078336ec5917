// Package version holds the build's version facts, set by the linker.
package version

import (
	"fmt"
	"runtime"
)

// Set with -ldflags "-X github.com/tether-gitops/tether/internal/version.Version=..."
var (
	Version = "dev"
	Commit  = "unknown"
)

// String returns a one-line description of the build.
func String() string {
	return fmt.Sprintf("tether %s (commit %s, %s %s/%s)", Version, Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
