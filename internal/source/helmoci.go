package source

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types of a Helm chart stored in an OCI registry (as "helm push"
// writes it).
const (
	ociHelmConfigMediaType = "application/vnd.cncf.helm.config.v1+json"
	ociHelmChartMediaType  = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
)

// ociChartVersions lists the versions of the chart at repo
// ("host[:port]/path/chart", no scheme): the repository's tags that parse as
// semantic versions, with Helm's "_" in a tag read back as "+" (OCI tags
// cannot hold "+"). Other tags are left out. Sorted highest first is not
// required.
func ociChartVersions(ctx context.Context, repo string, creds *Credentials) ([]string, error) {
	oe := ociErrors{repo: repo, creds: creds}
	ref, err := ociRepository(repo, creds)
	if err != nil {
		return nil, oe.wrap(err, "invalid repository name (want host[:port]/path/chart)")
	}
	puller, err := ociPuller(ctx, creds)
	if err != nil {
		return nil, oe.wrap(err, "%v", err)
	}
	tags, err := puller.List(ctx, ref)
	if err != nil {
		return nil, oe.remote(err, ociListTags)
	}
	var versions []string
	for _, tag := range tags {
		v := strings.ReplaceAll(tag, "_", "+")
		if _, err := semver.StrictNewVersion(v); err == nil {
			versions = append(versions, v)
		}
	}
	return versions, nil
}

// ociChartArchive downloads the chart archive of repo at version (the tag is
// version with "+" written as "_"): the manifest's one layer of media type
// application/vnd.cncf.helm.chart.content.v1.tar+gzip. It refuses an archive
// larger than max bytes without reading more than max+1 bytes of it, and a
// manifest without such a layer (naming what it found: e.g. a container
// image). The layer's digest is verified. It returns the archive bytes and
// the manifest digest ("sha256:...").
func ociChartArchive(ctx context.Context, repo, version string, creds *Credentials, max int64, blobs *blobStore) ([]byte, string, error) {
	oe := ociErrors{repo: repo, version: version, creds: creds}
	if max <= 0 {
		return nil, "", oe.wrap(nil, "invalid archive size limit %d", max)
	}
	ref, err := ociRepository(repo, creds)
	if err != nil {
		return nil, "", oe.wrap(err, "invalid repository name (want host[:port]/path/chart)")
	}
	if version == "" {
		return nil, "", oe.wrap(nil, "no version given")
	}
	tagStr := strings.ReplaceAll(version, "+", "_")
	tag, err := name.NewTag(ref.Name()+":"+tagStr, ociNameOptions(creds)...)
	if err != nil || tag.TagStr() != tagStr || tag.Context() != ref {
		return nil, "", oe.wrap(err, "not a valid OCI tag")
	}
	puller, err := ociPuller(ctx, creds)
	if err != nil {
		return nil, "", oe.wrap(err, "%v", err)
	}

	desc, err := puller.Get(ctx, tag)
	if err != nil {
		return nil, "", oe.remote(err, ociGetManifest)
	}
	digest := desc.Digest.String()
	layer, err := ociChartLayer(desc)
	if err != nil {
		return nil, "", oe.wrap(nil, "manifest %s: %v", digest, err)
	}
	if layer.Size > max {
		return nil, "", oe.wrap(nil, "chart archive is %d bytes, over the size limit of %d bytes", layer.Size, max)
	}

	if data, ok := blobs.get(layer.Digest.String()); ok {
		return data, digest, nil // the layer the manifest names, kept on disk
	}
	blob, err := puller.Layer(ctx, ref.Digest(layer.Digest.String()))
	if err != nil {
		return nil, "", oe.remote(err, ociGetArchive)
	}
	rc, err := blob.Compressed()
	if err != nil {
		return nil, "", oe.remote(err, ociGetArchive)
	}
	defer rc.Close()
	// Read at most max+1 bytes: one more than allowed tells an archive that is
	// too large (whatever the manifest claimed) without reading all of it.
	data, err := io.ReadAll(io.LimitReader(rc, max+1))
	if int64(len(data)) > max {
		return nil, "", oe.wrap(nil, "chart archive is larger than the size limit of %d bytes", max)
	}
	if err != nil {
		return nil, "", oe.remote(err, ociGetArchive)
	}
	// The library checks the digest when it reaches the end of the blob; check
	// again here so that the guarantee does not hang on its internals.
	if int64(len(data)) != layer.Size {
		return nil, "", oe.wrap(nil, "chart archive is %d bytes, the manifest says %d", len(data), layer.Size)
	}
	hasher, err := v1.Hasher(layer.Digest.Algorithm)
	if err != nil {
		return nil, "", oe.wrap(err, "chart archive digest %s: %v", layer.Digest, err)
	}
	hasher.Write(data)
	if got := hex.EncodeToString(hasher.Sum(nil)); got != layer.Digest.Hex {
		return nil, "", oe.wrap(nil, "chart archive digest mismatch: got %s:%s, the manifest says %s", layer.Digest.Algorithm, got, layer.Digest)
	}
	if layer.Digest.Algorithm == "sha256" {
		blobs.put(data)
	}
	return data, digest, nil
}

// ociChartLayer returns the descriptor of the one chart layer of the
// manifest, or an error saying what the manifest is instead.
func ociChartLayer(desc *remote.Descriptor) (v1.Descriptor, error) {
	var probe struct {
		MediaType types.MediaType   `json:"mediaType"`
		Manifests []json.RawMessage `json:"manifests"`
	}
	_ = json.Unmarshal(desc.Manifest, &probe)
	mediaType := desc.MediaType
	if mediaType == "" {
		mediaType = probe.MediaType
	}
	switch {
	case mediaType.IsIndex() || len(probe.Manifests) > 0:
		return v1.Descriptor{}, errors.New("not a Helm chart: found an image index (a multi-platform image)")
	case mediaType.IsSchema1():
		return v1.Descriptor{}, errors.New("not a Helm chart: found a Docker schema 1 image")
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("not a Helm chart: unreadable manifest of media type %q", mediaType)
	}
	var found []v1.Descriptor
	for _, l := range m.Layers {
		if l.MediaType == ociHelmChartMediaType {
			found = append(found, l)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return v1.Descriptor{}, fmt.Errorf("not a Helm chart: found %s", ociDescribeManifest(m))
	default:
		return v1.Descriptor{}, fmt.Errorf("not a valid Helm chart: %d layers of media type %s, want one", len(found), ociHelmChartMediaType)
	}
}

// ociDescribeManifest names what a manifest without a chart layer holds.
func ociDescribeManifest(m *v1.Manifest) string {
	var what string
	switch {
	case m.Config.MediaType == types.DockerConfigJSON || m.Config.MediaType == types.OCIConfigJSON:
		what = "a container image"
	case m.Config.MediaType == ociHelmConfigMediaType:
		what = "a Helm chart config"
	case m.ArtifactType != "":
		what = fmt.Sprintf("an artifact of type %s", m.ArtifactType)
	case m.Config.MediaType != "":
		what = fmt.Sprintf("an artifact with config of media type %s", m.Config.MediaType)
	default:
		what = "a manifest without config"
	}
	seen := map[types.MediaType]bool{}
	var layers []string
	for _, l := range m.Layers {
		if !seen[l.MediaType] {
			seen[l.MediaType] = true
			layers = append(layers, string(l.MediaType))
		}
	}
	if len(layers) == 0 {
		return what + " (no layers)"
	}
	sort.Strings(layers)
	return fmt.Sprintf("%s (layers: %s)", what, strings.Join(layers, ", "))
}

// ociRepository parses repo ("host[:port]/path/chart"); a leading "oci://"
// is tolerated.
func ociRepository(repo string, creds *Credentials) (name.Repository, error) {
	return name.NewRepository(strings.TrimPrefix(repo, "oci://"), ociNameOptions(creds)...)
}

func ociNameOptions(creds *Credentials) []name.Option {
	if creds != nil && creds.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// ociPuller talks to the registry with the credentials, and their TLS
// settings.
func ociPuller(ctx context.Context, creds *Credentials) (*remote.Puller, error) {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithUserAgent("tether"),
		remote.WithAuth(ociAuth(creds)),
	}
	if creds.hasTLS() {
		t, err := httpTransport(creds)
		if err != nil {
			return nil, err
		}
		opts = append(opts, remote.WithTransport(t))
	}
	return remote.NewPuller(opts...)
}

// ociAuth picks the authenticator; the library does the registry's token
// exchange when the registry asks for one.
func ociAuth(creds *Credentials) authn.Authenticator {
	switch {
	case creds == nil:
		return authn.Anonymous
	case creds.BearerToken != "":
		return &authn.Bearer{Token: creds.BearerToken}
	case creds.Username != "" || creds.Password != "":
		return &authn.Basic{Username: creds.Username, Password: creds.Password}
	}
	return authn.Anonymous
}

// ociErrors formats the errors of one repository (and version) in the form
// "chart repository oci://REPO: [version V: ]...", keeping secrets out.
type ociErrors struct {
	repo, version string
	creds         *Credentials
}

// wrap returns an error with the message format, args (after the version,
// if any); cause (may be nil) is kept for errors.Is / errors.As but not
// shown.
func (o ociErrors) wrap(cause error, format string, args ...any) error {
	tail := fmt.Sprintf(format, args...)
	if o.version != "" {
		tail = "version " + o.version + ": " + tail
	}
	return o.newError(cause, tail)
}

// newError returns the error "chart repository oci://REPO: " + tail.
func (o ociErrors) newError(cause error, tail string) error {
	msg := "chart repository " + RedactURL("oci://"+strings.TrimPrefix(o.repo, "oci://")) + ": " + tail
	if o.creds != nil {
		// The library does not put credentials in its errors; this is a
		// safety net in case a registry echoes them back in a response body.
		for _, secret := range []string{o.creds.Password, o.creds.BearerToken} {
			if len(secret) >= 4 {
				msg = strings.ReplaceAll(msg, secret, "***")
			}
		}
	}
	return &ociError{msg: msg, cause: cause}
}

// remote describes an error of the registry client while doing something:
// authentication and not-found failures get a short message of their own.
func (o ociErrors) remote(err error, doing string) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		codes := map[transport.ErrorCode]bool{}
		for _, d := range terr.Errors {
			codes[d.Code] = true
		}
		switch {
		case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden ||
			codes[transport.UnauthorizedErrorCode] || codes[transport.DeniedErrorCode]:
			hint := "check the repository credentials"
			if o.creds == nil || (o.creds.BearerToken == "" && o.creds.Username == "" && o.creds.Password == "") {
				hint = "no credentials given"
			}
			return o.wrap(err, "%s: authentication failed (HTTP %d): %s", doing, terr.StatusCode, hint)
		case codes[transport.NameUnknownErrorCode]:
			return o.newError(err, "repository not found")
		case terr.StatusCode == http.StatusNotFound || codes[transport.ManifestUnknownErrorCode]:
			if o.version != "" && doing == ociGetManifest {
				return o.newError(err, "version "+o.version+" not found")
			}
			return o.wrap(err, "%s: not found", doing)
		}
	}
	return o.wrap(err, "%s: %v", doing, err)
}

// What ociChartVersions and ociChartArchive are doing when an error happens.
const (
	ociListTags    = "list versions"
	ociGetManifest = "get manifest"
	ociGetArchive  = "download chart archive"
)

type ociError struct {
	msg   string
	cause error
}

func (e *ociError) Error() string { return e.msg }
func (e *ociError) Unwrap() error { return e.cause }
