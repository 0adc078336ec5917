package e2e

import (
	"os"
	"testing"

	"github.com/tether-gitops/tether/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
