package cluster

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Client is a dynamic client with a REST mapper for one cluster.
type Client struct {
	Config    *rest.Config
	Dynamic   dynamic.Interface
	Discovery discovery.DiscoveryInterface

	// base, when set, is the client this one impersonates a user for: it
	// answers the kind lookups (discovery is the same whoever asks).
	base *Client

	mu     sync.Mutex
	mapper *restmapper.DeferredDiscoveryRESTMapper
	// mappings remembers the answers of mapper until Reset: asking the
	// mapper costs more than the rest of a comparison.
	mappings map[schema.GroupVersionKind]Mapping
}

// New builds a client for cfg.
func New(cfg *rest.Config) (*Client, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	cached := memory.NewMemCacheClient(disc)
	return &Client{Config: cfg, Dynamic: dyn, Discovery: disc, mapper: restmapper.NewDeferredDiscoveryRESTMapper(cached)}, nil
}

// Impersonating returns a client whose requests act as user (Kubernetes
// impersonation: c's identity needs the impersonate verb on it), sharing
// c's discovery.
func (c *Client) Impersonating(user string) (*Client, error) {
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	base := c
	if c.base != nil {
		base = c.base
	}
	return &Client{Config: cfg, Dynamic: dyn, Discovery: c.Discovery, base: base}, nil
}

// Mapping is the resource of a kind and whether it is namespaced.
type Mapping struct {
	GVR        schema.GroupVersionResource
	Namespaced bool
}

// Map finds the resource of gvk, refreshing discovery once when the kind is
// unknown (it may come from a CRD applied a moment ago).
func (c *Client) Map(gvk schema.GroupVersionKind) (Mapping, error) {
	if c.base != nil {
		return c.base.Map(gvk)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.mappings[gvk]; ok {
		return m, nil
	}
	var versions []string
	if gvk.Version != "" {
		versions = []string{gvk.Version}
	}
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), versions...)
	if err != nil && meta.IsNoMatchError(err) {
		c.mapper.Reset()
		c.mappings = nil
		m, err = c.mapper.RESTMapping(gvk.GroupKind(), versions...)
	}
	if err != nil {
		return Mapping{}, fmt.Errorf("kind %s is not served by the cluster: %w", gvk, err)
	}
	out := Mapping{GVR: m.Resource, Namespaced: m.Scope.Name() == meta.RESTScopeNameNamespace}
	if c.mappings == nil {
		c.mappings = map[schema.GroupVersionKind]Mapping{}
	}
	c.mappings[gvk] = out
	return out, nil
}

// Reset forgets discovery, so new kinds are found.
func (c *Client) Reset() {
	if c.base != nil {
		c.base.Reset()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mapper.Reset()
	c.mappings = nil
}

// Resource returns the dynamic client for a mapping and namespace.
func (c *Client) Resource(m Mapping, namespace string) dynamic.ResourceInterface {
	if m.Namespaced {
		return c.Dynamic.Resource(m.GVR).Namespace(namespace)
	}
	return c.Dynamic.Resource(m.GVR)
}

// ServerVersion returns the cluster's version string.
func (c *Client) ServerVersion(_ context.Context) (string, error) {
	v, err := c.Discovery.ServerVersion()
	if err != nil {
		return "", err
	}
	return v.GitVersion, nil
}
