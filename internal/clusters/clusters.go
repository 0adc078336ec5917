// Package clusters reads the destination clusters tether deploys to from
// Secrets labelled argocd.argoproj.io/secret-type: cluster, in the format
// Argo CD users already have, plus the cluster tether itself runs against.
package clusters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// Secret label and value that mark a cluster Secret.
const (
	SecretTypeLabel   = "argocd.argoproj.io/secret-type"
	SecretTypeCluster = "cluster"
)

// RequestTimeout bounds each request to a registered cluster, so an
// unreachable cluster fails its apps quickly instead of holding workers.
const RequestTimeout = 15 * time.Second

// Cluster is one destination.
type Cluster struct {
	// Name is data.name (the server URL when empty).
	Name string
	// Server is the API server URL, data.server.
	Server string
	// Namespaces, when set, limit tether to these namespaces of the cluster
	// (data.namespaces, comma separated).
	Namespaces []string
	// ClusterResources allows cluster-scoped objects when Namespaces is set.
	ClusterResources bool
	// Project is data.project: the cluster belongs to one project.
	Project string
	// Labels and Annotations are the Secret's, for the clusters generator.
	Labels, Annotations map[string]string
	// Secret is where the cluster was read from; empty for in-cluster.
	Secret types.NamespacedName
	// Config connects to the cluster.
	Config *rest.Config
}

// InCluster is the cluster tether runs against.
func InCluster(cfg *rest.Config) *Cluster {
	return &Cluster{Name: v1alpha1.InClusterName, Server: v1alpha1.InClusterServer, Config: cfg}
}

// IsInCluster tells whether c is the cluster tether runs against.
func (c *Cluster) IsInCluster() bool {
	return c.Secret.Name == "" && c.Server == v1alpha1.InClusterServer
}

// config is the JSON of data.config.
type config struct {
	Username        string          `json:"username,omitempty"`
	Password        string          `json:"password,omitempty"`
	BearerToken     string          `json:"bearerToken,omitempty"`
	TLSClientConfig tlsClientConfig `json:"tlsClientConfig"`
	// Kinds of authentication tether does not run, reported by name.
	ExecProviderConfig json.RawMessage `json:"execProviderConfig,omitempty"`
	AWSAuthConfig      json.RawMessage `json:"awsAuthConfig,omitempty"`
}

type tlsClientConfig struct {
	Insecure   bool   `json:"insecure,omitempty"`
	ServerName string `json:"serverName,omitempty"`
	CAData     []byte `json:"caData,omitempty"`
	CertData   []byte `json:"certData,omitempty"`
	KeyData    []byte `json:"keyData,omitempty"`
}

// FromSecret reads a cluster Secret. The error names the Secret and the
// field; it never contains credentials.
func FromSecret(s *corev1.Secret) (*Cluster, error) {
	where := fmt.Sprintf("cluster Secret %s/%s", s.Namespace, s.Name)
	c := &Cluster{
		Name:        strings.TrimSpace(string(s.Data["name"])),
		Server:      strings.TrimSuffix(strings.TrimSpace(string(s.Data["server"])), "/"),
		Project:     string(s.Data["project"]),
		Labels:      s.Labels,
		Annotations: s.Annotations,
		Secret:      types.NamespacedName{Namespace: s.Namespace, Name: s.Name},
	}
	if c.Server == "" {
		return c, fmt.Errorf("%s: data.server is empty", where)
	}
	u, err := url.Parse(c.Server)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return c, fmt.Errorf("%s: data.server %q is not an http(s) URL", where, c.Server)
	}
	if c.Name == "" {
		c.Name = c.Server
	}
	for _, ns := range strings.Split(string(s.Data["namespaces"]), ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			c.Namespaces = append(c.Namespaces, ns)
		}
	}
	sort.Strings(c.Namespaces)
	c.ClusterResources = string(s.Data["clusterResources"]) == "true"
	if c.Server == v1alpha1.InClusterServer {
		// The Secret only renames or labels the local cluster; the
		// connection is tether's own.
		return c, nil
	}
	var cfg config
	if raw := s.Data["config"]; len(raw) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return c, fmt.Errorf("%s: data.config is not valid: %s", where, describeJSONError(err))
		}
	}
	switch {
	case len(cfg.ExecProviderConfig) > 0:
		return c, fmt.Errorf("%s: data.config.execProviderConfig is not supported; use a bearerToken or client certificate", where)
	case len(cfg.AWSAuthConfig) > 0:
		return c, fmt.Errorf("%s: data.config.awsAuthConfig is not supported; use a bearerToken or client certificate", where)
	case len(cfg.TLSClientConfig.CertData) > 0 != (len(cfg.TLSClientConfig.KeyData) > 0):
		return c, fmt.Errorf("%s: data.config.tlsClientConfig needs both certData and keyData", where)
	}
	c.Config = &rest.Config{
		Host:        c.Server,
		Username:    cfg.Username,
		Password:    cfg.Password,
		BearerToken: cfg.BearerToken,
		TLSClientConfig: rest.TLSClientConfig{
			Insecure:   cfg.TLSClientConfig.Insecure,
			ServerName: cfg.TLSClientConfig.ServerName,
			CAData:     cfg.TLSClientConfig.CAData,
			CertData:   cfg.TLSClientConfig.CertData,
			KeyData:    cfg.TLSClientConfig.KeyData,
		},
		Timeout: RequestTimeout,
		QPS:     100,
		Burst:   200,
	}
	return c, nil
}

// describeJSONError keeps the position and field of a JSON error but never
// the content around it, which may be a token.
func describeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case asErr(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case asErr(err, &te):
		return fmt.Sprintf("field %s must be %s, not %s", te.Field, te.Type, te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "invalid JSON"
}

// ToSecret builds the Secret `tether cluster add` creates.
func ToSecret(namespace, secretName, name string, cfg *rest.Config, labels map[string]string) (*corev1.Secret, error) {
	conf := config{
		Username:    cfg.Username,
		Password:    cfg.Password,
		BearerToken: cfg.BearerToken,
		TLSClientConfig: tlsClientConfig{
			Insecure:   cfg.Insecure,
			ServerName: cfg.ServerName,
			CAData:     cfg.CAData,
			CertData:   cfg.CertData,
			KeyData:    cfg.KeyData,
		},
	}
	if cfg.BearerTokenFile != "" || cfg.CAFile != "" || cfg.CertFile != "" || cfg.KeyFile != "" {
		return nil, fmt.Errorf("cluster %s: credentials in files must be loaded first", name)
	}
	if cfg.ExecProvider != nil || cfg.AuthProvider != nil {
		return nil, fmt.Errorf("cluster %s: the kubeconfig uses an exec or auth-provider plugin; tether needs a bearer token or client certificate (tether cluster add --service-account stores a ServiceAccount token instead)", name)
	}
	raw, err := json.Marshal(conf)
	if err != nil {
		return nil, err
	}
	l := map[string]string{SecretTypeLabel: SecretTypeCluster}
	for k, v := range labels {
		l[k] = v
	}
	return &corev1.Secret{
		TypeMeta:   metaSecret,
		ObjectMeta: objectMeta(namespace, secretName, l),
		Type:       corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			"name":   []byte(name),
			"server": []byte(strings.TrimSuffix(cfg.Host, "/")),
			"config": raw,
		},
	}, nil
}

// Matches tells whether d names c (by server, else by name).
func (c *Cluster) Matches(d v1alpha1.ApplicationDestination) bool {
	if d.Server != "" {
		return strings.TrimSuffix(d.Server, "/") == c.Server
	}
	return d.Name == c.Name
}

// PermitsNamespace tells whether the cluster Secret allows objects in ns
// ("" is cluster-scoped).
func (c *Cluster) PermitsNamespace(ns string) error {
	if len(c.Namespaces) == 0 {
		return nil
	}
	if ns == "" {
		if c.ClusterResources {
			return nil
		}
		return fmt.Errorf("cluster %s is limited to namespaces %s and does not allow cluster-scoped objects (data.clusterResources)", c.Name, strings.Join(c.Namespaces, ","))
	}
	for _, n := range c.Namespaces {
		if n == ns {
			return nil
		}
	}
	return fmt.Errorf("cluster %s is limited to namespaces %s, not %s", c.Name, strings.Join(c.Namespaces, ","), ns)
}

var metaSecret = metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}

func objectMeta(namespace, name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

// SecretName is the Secret name `tether cluster add` uses for a cluster:
// "cluster-" and the name, made a valid object name.
func SecretName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.Trim("cluster-"+b.String(), "-.")
	if len(s) > 253 {
		s = s[:253]
	}
	return s
}

// Entry is one registered cluster, or the reason its Secret cannot be used
// (Cluster then holds what could be read: name, server, labels).
type Entry struct {
	*Cluster
	Err error
}

// List reads the cluster Secrets of namespace, the in-cluster entry first.
// A Secret whose server is the in-cluster URL renames and labels the local
// cluster instead of adding one.
func List(ctx context.Context, rd client.Reader, namespace string, local *rest.Config) ([]Entry, error) {
	var secrets corev1.SecretList
	if err := rd.List(ctx, &secrets, client.InNamespace(namespace), client.MatchingLabels{SecretTypeLabel: SecretTypeCluster}); err != nil {
		return nil, fmt.Errorf("list cluster Secrets in %s: %w", namespace, err)
	}
	sort.Slice(secrets.Items, func(i, j int) bool { return secrets.Items[i].Name < secrets.Items[j].Name })
	in := InCluster(local)
	out := []Entry{{Cluster: in}}
	for i := range secrets.Items {
		c, err := FromSecret(&secrets.Items[i])
		if err == nil && c.Server == v1alpha1.InClusterServer {
			in.Name, in.Labels, in.Annotations, in.Project = c.Name, c.Labels, c.Annotations, c.Project
			in.Namespaces, in.ClusterResources, in.Secret = c.Namespaces, c.ClusterResources, c.Secret
			if in.Name == in.Server {
				in.Name = v1alpha1.InClusterName
			}
			continue
		}
		out = append(out, Entry{Cluster: c, Err: err})
	}
	return out, nil
}

// Find picks the cluster a destination names: by server when set, else by
// name, else the in-cluster one. Both set is an error naming the field.
func Find(entries []Entry, d v1alpha1.ApplicationDestination) (Entry, error) {
	switch {
	case d.Server != "" && d.Name != "":
		return Entry{}, fmt.Errorf("spec.destination: set server or name, not both (server %q, name %q)", d.Server, d.Name)
	case d.Server == "" && d.Name == "":
		// Neither: the cluster tether runs against, so manifests that only
		// give a namespace (as many examples do) deploy where tether runs.
		d.Server = v1alpha1.InClusterServer
	}
	for _, e := range entries {
		if e.Cluster != nil && e.Matches(d) {
			return e, nil
		}
	}
	if d.Server != "" {
		return Entry{}, fmt.Errorf("spec.destination.server: cluster %s is not registered (add it with `tether cluster add`)", d.Server)
	}
	return Entry{}, fmt.Errorf("spec.destination.name: cluster %q is not registered (add it with `tether cluster add`)", d.Name)
}
