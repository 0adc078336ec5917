// Command devenv runs the local control plane and git server for people
// (`make cluster-up`, `make demo`). It stays in the foreground until it gets
// SIGTERM or SIGINT, then stops everything it started; hack/cluster.sh runs
// it in the background.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devenv:", err)
		os.Exit(1)
	}
}

func run() error {
	state := flag.String("state", ".tether", "directory for data, logs and the kubeconfig")
	demo := flag.Bool("demo", false, "also push examples/ to the git server and run tether on them")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	abs, err := filepath.Abs(*state)
	if err != nil {
		return err
	}
	ready := filepath.Join(abs, "ready")
	os.Remove(ready)
	if err := os.RemoveAll(filepath.Join(abs, "cluster")); err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	opts := testenv.DefaultOptions()
	opts.Dir = filepath.Join(abs, "cluster")
	cp, err := testenv.Start(startCtx, opts)
	if err != nil {
		return err
	}
	defer cp.Stop()
	kubeconfig := filepath.Join(abs, "kubeconfig")
	b, err := os.ReadFile(cp.Default().KubeconfigPath())
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, b, 0o600); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(abs, "git")); err != nil {
		return err
	}
	git, err := gitserver.Start(gitserver.Options{Dir: filepath.Join(abs, "git")})
	if err != nil {
		return err
	}
	defer git.Close()

	info := &demoInfo{State: abs, Kubeconfig: kubeconfig, ControlPlane: cp, Git: git}
	if *demo {
		if err := runDemo(ctx, info); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(abs, "env"), []byte(info.envFile()), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(ready, []byte(info.summary()), 0o644); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

type demoInfo struct {
	State        string
	Kubeconfig   string
	ControlPlane *testenv.ControlPlane
	Git          *gitserver.Server
	Report       string
	Webhook      string // the controller's webhook endpoint
}

func (d *demoInfo) envFile() string {
	return fmt.Sprintf("export KUBECONFIG=%s\nexport TETHER_GIT_URL=%s\nexport TETHER_GIT_SSH=%s\n",
		d.Kubeconfig, d.Git.HTTPBaseURL(), d.Git.SSHAddr())
}

func (d *demoInfo) summary() string {
	s := fmt.Sprintf(`Local control plane is up: %s
Git server: %s (HTTP), %s (SSH); logs and data under %s

Point kubectl and tether at it:
  export KUBECONFIG=%s
  bin/kubectl get nodes
`, d.ControlPlane.Default().URL(), d.Git.HTTPBaseURL(), d.Git.SSHAddr(), d.State, d.Kubeconfig)
	if d.Report != "" {
		s += "\n" + d.Report
	}
	return s + "\nStop it with: make cluster-down\n"
}
