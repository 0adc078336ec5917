package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/metadata"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/apply"
	"github.com/tether-gitops/tether/internal/cluster"
	"github.com/tether-gitops/tether/internal/clusters"
)

// target is one destination cluster with its clients and watch cache.
type target struct {
	// cluster is what the registry says of the cluster (the in-cluster
	// entry may be renamed by a Secret, hence atomic).
	cluster atomic.Pointer[clusters.Cluster]
	client  *cluster.Client
	applier *apply.Applier
	watcher *cluster.Watcher // nil without a controller (the CLI)
	// local is the cluster tether runs against: the namespace metadata
	// cache of the manager serves it.
	local bool
	// built is the Secret's resourceVersion this target was made from.
	built string

	mu       sync.Mutex
	probedAt time.Time
	probeErr error

	usersMu sync.Mutex
	users   map[string]*apply.Applier // appliers impersonating a user

	// md is the metadata-only client of orphan scans (metadataClient).
	mdOnce sync.Once
	md     metadata.Interface
	mdErr  error
}

// applierAs returns the applier whose requests act as user; "" is
// tether's own identity.
func (t *target) applierAs(user string) (*apply.Applier, error) {
	if user == "" {
		return t.applier, nil
	}
	t.usersMu.Lock()
	defer t.usersMu.Unlock()
	if a, ok := t.users[user]; ok {
		return a, nil
	}
	c, err := t.client.Impersonating(user)
	if err != nil {
		return nil, err
	}
	a := apply.New(c)
	if t.users == nil {
		t.users = map[string]*apply.Applier{}
	}
	t.users[user] = a
	return a, nil
}

// Probe intervals: a reachable cluster is checked again after upTTL, an
// unreachable one after downTTL (its apps fail fast in between).
const (
	upTTL        = 30 * time.Second
	downTTL      = 5 * time.Second
	probeTimeout = 5 * time.Second
)

// reachable checks, at most once per TTL, that the cluster answers, so an
// unreachable cluster fails its apps at once instead of holding workers
// on timeouts.
func (t *target) reachable(ctx context.Context) error {
	if t.local {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ttl := upTTL
	if t.probeErr != nil {
		ttl = downTTL
	}
	if !t.probedAt.IsZero() && time.Since(t.probedAt) < ttl {
		return t.probeErr
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	_, err := t.client.Discovery.RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	t.probedAt = time.Now()
	t.probeErr = nil
	if err != nil {
		t.probeErr = fmt.Errorf("cluster %s (%s): %s", t.info().Name, t.info().Server, DescribeClusterError(err))
	}
	return t.probeErr
}

// markDown records a failed request so the next reconciles fail fast.
func (t *target) markDown(err error) {
	if t.local || !isConnectionError(err) {
		return
	}
	t.mu.Lock()
	t.probedAt, t.probeErr = time.Now(), fmt.Errorf("cluster %s (%s): %s", t.info().Name, t.info().Server, DescribeClusterError(err))
	t.mu.Unlock()
}

func (t *target) stop() {
	if t.watcher != nil {
		t.watcher.Stop()
	}
}

// DescribeClusterError turns a connection or authentication failure into a
// short reason for a person, without the URL's credentials or a token.
func DescribeClusterError(err error) string {
	var ne net.Error
	var ue *url.Error
	switch {
	case apierrors.IsUnauthorized(err):
		return "the credentials were refused (401 Unauthorized: an expired or revoked token?)"
	case apierrors.IsForbidden(err):
		return "the credentials lack permission (403 Forbidden)"
	case strings.Contains(err.Error(), "connection refused"):
		return "unreachable: connection refused"
	case strings.Contains(err.Error(), "no such host"):
		return "unreachable: unknown host"
	case strings.Contains(err.Error(), "x509:") || strings.Contains(err.Error(), "tls:"):
		return "TLS verification failed: " + lastPart(err.Error())
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "unreachable: timed out"
	case errors.As(err, &ue):
		return "unreachable: " + lastPart(ue.Err.Error())
	}
	return err.Error()
}

func lastPart(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

func isConnectionError(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	s := err.Error()
	return apierrors.IsUnauthorized(err) || errors.As(err, &ne) || strings.Contains(s, "connection refused") ||
		strings.Contains(s, "no such host") || strings.Contains(s, "i/o timeout") || strings.Contains(s, "EOF")
}

// targets holds one target per registered cluster, built on first use and
// rebuilt when the cluster Secret changes.
type targets struct {
	mu     sync.Mutex
	local  *target
	remote map[string]*target // by Secret namespace/name
	// watch makes a watcher for a new remote target (nil: no watch cache).
	watch func(*cluster.Client) *cluster.Watcher
}

func newTargets(local *cluster.Client, watcher *cluster.Watcher) *targets {
	return &targets{
		local:  newTarget(clusters.InCluster(local.Config), local, watcher, true),
		remote: map[string]*target{},
	}
}

func newTarget(info *clusters.Cluster, c *cluster.Client, w *cluster.Watcher, local bool) *target {
	t := &target{client: c, applier: apply.New(c), watcher: w, local: local}
	t.cluster.Store(info)
	return t
}

// info returns the registry's view of the cluster.
func (t *target) info() *clusters.Cluster { return t.cluster.Load() }

// resolve finds the target of an app's destination.
func (r *Reconciler) resolve(ctx context.Context, d v1alpha1.ApplicationDestination) (*target, error) {
	entries, err := clusters.List(ctx, r.client, r.opts.Namespace, r.targets.local.client.Config)
	if err != nil {
		return nil, err
	}
	e, err := clusters.Find(entries, d)
	if err != nil {
		return nil, err
	}
	if e.Err != nil {
		return nil, fmt.Errorf("spec.destination: %w", e.Err)
	}
	ts := r.targets
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.forgetRemoved(entries)
	if e.IsInCluster() || e.Server == v1alpha1.InClusterServer {
		ts.local.cluster.Store(e.Cluster)
		return ts.local, nil
	}
	key := e.Secret.String()
	version := secretVersion(e)
	if t, ok := ts.remote[key]; ok && t.built == version {
		return t, nil
	} else if ok {
		t.stop() // the Secret changed: new credentials or server
		delete(ts.remote, key)
	}
	cc, err := cluster.New(e.Config)
	if err != nil {
		return nil, fmt.Errorf("spec.destination: cluster %s: %w", e.Name, err)
	}
	var w *cluster.Watcher
	if ts.watch != nil {
		w = ts.watch(cc)
	}
	t := newTarget(e.Cluster, cc, w, false)
	t.built = version
	ts.remote[key] = t
	return t, nil
}

// secretVersion identifies the connection settings of a cluster.
func secretVersion(e clusters.Entry) string {
	c := e.Config
	return hashOf([]any{c.Host, c.BearerToken, c.Username, c.Password, c.CAData, c.CertData, c.KeyData, c.Insecure, c.ServerName})
}

// forgetRemoved stops the targets whose cluster Secret is gone, so a
// removed cluster keeps no watch open. Call with ts.mu held.
func (ts *targets) forgetRemoved(entries []clusters.Entry) {
	if len(ts.remote) == 0 {
		return
	}
	present := make(map[string]bool, len(entries))
	for _, e := range entries {
		if e.Cluster != nil {
			present[e.Secret.String()] = true
		}
	}
	for key, t := range ts.remote {
		if !present[key] {
			t.stop()
			delete(ts.remote, key)
		}
	}
}

// stopAll ends the watch caches of remote clusters.
func (ts *targets) stopAll() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, t := range ts.remote {
		t.stop()
	}
}
