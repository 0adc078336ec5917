package chartrepo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types of a Helm chart in an OCI registry.
const (
	HelmConfigMediaType = "application/vnd.cncf.helm.config.v1+json"
	HelmChartMediaType  = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
)

// Registry is an OCI registry in memory.
type Registry struct {
	srv            *httptest.Server
	user, password string
}

// NewRegistry starts a registry; with a user, every request needs basic
// auth with user and password.
func NewRegistry(user, password string) *Registry {
	r := &Registry{user: user, password: password}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, p, ok := req.BasicAuth(); user != "" && (!ok || u != user || p != password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, req)
	}))
	return r
}

// Host is the registry's host:port; "oci://" + Host + "/PATH" is a chart
// repository URL.
func (r *Registry) Host() string { return strings.TrimPrefix(r.srv.URL, "http://") }

// Close stops the registry.
func (r *Registry) Close() { r.srv.Close() }

// Push stores a chart archive as `helm push` does: repository
// PATH/CHART (path "charts/web"), tag version with "+" written "_".
func (r *Registry) Push(ctx context.Context, repo, version string, archive []byte) error {
	config, err := json.Marshal(map[string]string{"name": repo[strings.LastIndex(repo, "/")+1:], "version": version, "apiVersion": "v2"})
	if err != nil {
		return err
	}
	return r.PushManifest(ctx, repo, strings.ReplaceAll(version, "+", "_"), HelmConfigMediaType, config, HelmChartMediaType, archive)
}

// PushManifest stores one manifest with the given config and one layer,
// for charts and for things that are not charts.
func (r *Registry) PushManifest(ctx context.Context, repo, tag, configType string, config []byte, layerType string, layer []byte) error {
	ref, err := name.NewTag(r.Host()+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		return err
	}
	auth := authn.Anonymous
	if r.user != "" {
		auth = &authn.Basic{Username: r.user, Password: r.password}
	}
	cfg := static.NewLayer(config, types.MediaType(configType))
	content := static.NewLayer(layer, types.MediaType(layerType))
	_, err = Put(ref, cfg, []v1.Layer{content}, nil, remote.WithContext(ctx), remote.WithAuth(auth))
	return err
}

// Put uploads config and layers and puts an OCI manifest naming them, and
// then the descriptors extra (blobs that need not exist), at ref; it returns
// the manifest's digest. Tests use it for manifests no chart has.
func Put(ref name.Tag, config v1.Layer, layers []v1.Layer, extra []v1.Descriptor, opts ...remote.Option) (string, error) {
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	for i, l := range append([]v1.Layer{config}, layers...) {
		if err := remote.WriteLayer(ref.Context(), l, opts...); err != nil {
			return "", fmt.Errorf("push blob: %w", err)
		}
		d, err := Descriptor(l)
		if err != nil {
			return "", err
		}
		if i == 0 {
			m.Config = d
		} else {
			m.Layers = append(m.Layers, d)
		}
	}
	m.Layers = append(m.Layers, extra...)
	raw, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	if err := remote.Put(ref, rawManifest{raw: raw, mt: types.OCIManifestSchema1}, opts...); err != nil {
		return "", err
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// Descriptor describes a layer for a manifest.
func Descriptor(l v1.Layer) (v1.Descriptor, error) {
	d, err := l.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := l.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := l.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Size: size, Digest: d}, nil
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }
