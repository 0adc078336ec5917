package testenv

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"embed"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configure a control plane.
type Options struct {
	// BinDir holds the programs; found with BinDir when empty.
	BinDir string
	// Dir holds data and logs; a temporary directory (removed on Stop)
	// when empty.
	Dir string
	// Detach lets the processes outlive this one (for `make cluster-up`).
	Detach bool
	// StartTimeout bounds the start of each program.
	StartTimeout time.Duration
}

// DefaultOptions returns the options tests use.
func DefaultOptions() Options {
	return Options{StartTimeout: 60 * time.Second}
}

// ControlPlane is one etcd and one or more clusters on top of it.
type ControlPlane struct {
	opts    Options
	dir     string
	ownDir  bool
	token   string
	saKey   string
	etcd    *process
	etcdURL string

	mu       sync.Mutex
	clusters map[string]*Cluster
	order    []string
}

// Start starts etcd and a first cluster named "default".
func Start(ctx context.Context, opts Options) (*ControlPlane, error) {
	if opts.StartTimeout == 0 {
		opts.StartTimeout = DefaultOptions().StartTimeout
	}
	if opts.BinDir == "" {
		d, err := BinDir()
		if err != nil {
			return nil, err
		}
		opts.BinDir = d
	}
	if err := checkTools(opts.BinDir); err != nil {
		return nil, err
	}
	cp := &ControlPlane{opts: opts, clusters: map[string]*Cluster{}}
	if opts.Dir == "" {
		d, err := os.MkdirTemp("", "tether-cp-")
		if err != nil {
			return nil, err
		}
		cp.dir, cp.ownDir = d, true
	} else {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, err
		}
		cp.dir = opts.Dir
	}
	if err := cp.writeSecrets(); err != nil {
		cp.Stop()
		return nil, err
	}
	if err := cp.startEtcd(ctx); err != nil {
		cp.Stop()
		return nil, err
	}
	if _, err := cp.AddCluster(ctx, "default"); err != nil {
		cp.Stop()
		return nil, err
	}
	return cp, nil
}

// Dir is where data, kubeconfigs and logs live.
func (cp *ControlPlane) Dir() string { return cp.dir }

// Token is the static admin bearer token every cluster accepts.
func (cp *ControlPlane) Token() string { return cp.token }

// writeSecrets creates the admin token file and the service-account key.
func (cp *ControlPlane) writeSecrets() error {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	cp.token = hex.EncodeToString(b)
	tokens := fmt.Sprintf("%s,admin,admin,system:masters\n", cp.token)
	if err := os.WriteFile(filepath.Join(cp.dir, "tokens.csv"), []byte(tokens), 0o600); err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	cp.saKey = filepath.Join(cp.dir, "sa.key")
	return os.WriteFile(cp.saKey, pemKey, 0o600)
}

func (cp *ControlPlane) bin(name string) string { return filepath.Join(cp.opts.BinDir, name) }

// startEtcd starts etcd on free ports, retrying when a port was taken.
func (cp *ControlPlane) startEtcd(ctx context.Context) error {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			return err
		}
		client := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
		peer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
		args := []string{
			"--name=tether", "--data-dir=" + filepath.Join(cp.dir, "etcd"),
			"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
			"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
			"--initial-cluster=tether=" + peer, "--unsafe-no-fsync", "--log-level=warn",
		}
		p, err := startProcess("etcd", cp.bin("etcd"), args, cp.dir, cp.opts.Detach)
		if err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, cp.opts.StartTimeout)
		err = waitFor(sctx, p, "health", func(ctx context.Context) error { return httpOK(ctx, client+"/health", "") })
		cancel()
		if err == nil {
			cp.etcd, cp.etcdURL = p, client
			return nil
		}
		p.stop(time.Second)
		lastErr = err
		if !p.addrInUse() {
			break
		}
	}
	return lastErr
}

// Cluster returns a cluster by name, or nil.
func (cp *ControlPlane) Cluster(name string) *Cluster {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.clusters[name]
}

// Default returns the cluster named "default".
func (cp *ControlPlane) Default() *Cluster { return cp.Cluster("default") }

// Clusters lists cluster names in the order they were added.
func (cp *ControlPlane) Clusters() []string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]string(nil), cp.order...)
}

// AddCluster starts another cluster on the shared etcd under its own prefix.
func (cp *ControlPlane) AddCluster(ctx context.Context, name string) (*Cluster, error) {
	cp.mu.Lock()
	if _, ok := cp.clusters[name]; ok {
		cp.mu.Unlock()
		return nil, fmt.Errorf("cluster %q already exists", name)
	}
	cp.mu.Unlock()
	c := &Cluster{cp: cp, name: name, dir: filepath.Join(cp.dir, "clusters", name)}
	if err := c.start(ctx); err != nil {
		c.Stop()
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	cp.mu.Lock()
	cp.clusters[name] = c
	cp.order = append(cp.order, name)
	cp.mu.Unlock()
	return c, nil
}

// Stop stops every cluster and etcd and removes a temporary directory.
func (cp *ControlPlane) Stop() {
	cp.mu.Lock()
	names := append([]string(nil), cp.order...)
	cp.mu.Unlock()
	for i := len(names) - 1; i >= 0; i-- {
		cp.Cluster(names[i]).Stop()
	}
	cp.etcd.stop(5 * time.Second)
	if cp.ownDir {
		os.RemoveAll(cp.dir)
	}
}

// LogTails returns the last lines of every process log, for a failed test.
func (cp *ControlPlane) LogTails(lines int) string {
	var logs []string
	_ = filepath.Walk(cp.dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(path, ".log") {
			logs = append(logs, path)
		}
		return nil
	})
	sort.Strings(logs)
	var b strings.Builder
	for _, l := range logs {
		fmt.Fprintf(&b, "==> %s <==\n%s\n", l, tail(l, lines))
	}
	return b.String()
}

// httpOK checks that url answers 200, with an optional bearer token; TLS is
// the apiserver's self-signed certificate.
func httpOK(ctx context.Context, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := insecureClient.Do(req.WithContext(ctx))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

//go:embed stages/*.yaml
var ownStages embed.FS

// stageFiles lists kwok's stage definitions: kwok's own node and pod
// stages, with its Job pod completion replaced by ours, which lets a test
// make a Job's pods fail with the annotation tether.dev/kwok-fail: "true".
func (cp *ControlPlane) stageFiles() ([]string, error) {
	kwokStages, _ := filepath.Glob(filepath.Join(cp.opts.BinDir, "kwok-stages", "*.yaml"))
	var out []string
	for _, s := range kwokStages {
		if filepath.Base(s) != "pod-complete.yaml" {
			out = append(out, s)
		}
	}
	dir := filepath.Join(cp.dir, "stages")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	names, err := fs.Glob(ownStages, "stages/*.yaml")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		b, err := ownStages.ReadFile(n)
		if err != nil {
			return nil, err
		}
		dst := filepath.Join(dir, filepath.Base(n))
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return nil, err
		}
		out = append(out, dst)
	}
	return out, nil
}
