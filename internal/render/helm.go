package render

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// renderHelm renders the chart at the application path client-side, like
// `helm template --include-crds`: no cluster is contacted, lookup returns
// nothing.
func (s *snapshot) renderHelm(ctx context.Context, chartAbs, chartRel string, req Request) ([]*unstructured.Unstructured, error) {
	h := req.Source.Helm
	if h == nil {
		h = &v1alpha1.ApplicationSourceHelm{}
	}
	chartYAML := path.Join(chartRel, "Chart.yaml")
	ch, err := s.loadChart(ctx, chartAbs, chartRel)
	if err != nil {
		return nil, err
	}
	vals, err := s.helmValues(chartAbs, h)
	if err != nil {
		return nil, err
	}
	caps, err := s.capabilities(h)
	if err != nil {
		return nil, err
	}
	if c := ch.Metadata.KubeVersion; c != "" && !chartutil.IsCompatibleRange(c, caps.KubeVersion.String()) {
		return nil, &Error{File: chartYAML, Err: fmt.Errorf("chart requires kubeVersion %s, which is incompatible with Kubernetes %s", c, caps.KubeVersion.Version)}
	}
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		return nil, &Error{File: chartYAML, Err: fmt.Errorf("chart dependencies: %w", err)}
	}

	release := common.ReleaseOptions{
		Name:      firstNonEmpty(h.ReleaseName, req.AppName),
		Namespace: firstNonEmpty(h.Namespace, req.Namespace),
		Revision:  1,
		IsInstall: true,
	}
	if release.Name == "" {
		return nil, errNoRelease
	}
	if err := chartutil.ValidateReleaseName(release.Name); err != nil {
		return nil, fmt.Errorf("helm release name %q: %w", release.Name, err)
	}
	top, err := commonutil.ToRenderValuesWithSchemaValidation(ch, vals, release, caps, h.SkipSchemaValidation)
	if err != nil {
		file := chartRel
		if len(ch.Schema) > 0 {
			file = path.Join(chartRel, "values.schema.json")
		}
		return nil, &Error{File: file, Err: err}
	}
	var e engine.Engine
	files, err := e.RenderWithContext(ctx, ch, top)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &Error{File: templateFile(err, chartRel), Err: err}
	}
	return s.helmObjects(ch, chartRel, files, !h.SkipCrds)
}

// capabilities are Helm's defaults with the configured Kubernetes version
// and the extra API versions of the options and the source.
func (s *snapshot) capabilities(h *v1alpha1.ApplicationSourceHelm) (*common.Capabilities, error) {
	caps := common.DefaultCapabilities.Copy()
	kv := firstNonEmpty(h.KubeVersion, s.opts.KubeVersion)
	v, err := common.ParseKubeVersion(kv)
	if err != nil {
		return nil, fmt.Errorf("helm kubeVersion %q: %w", kv, err)
	}
	caps.KubeVersion = *v
	caps.APIVersions = append(caps.APIVersions, s.opts.APIVersions...)
	caps.APIVersions = append(caps.APIVersions, h.APIVersions...)
	return caps, nil
}

// chartPath maps a path Helm reports, which starts with the chart's name
// ("mychart/templates/x.yaml"), to a path relative to the repository root.
func chartPath(chartRel, p string) string {
	if _, rest, ok := strings.Cut(p, "/"); ok {
		return path.Join(chartRel, rest)
	}
	return chartRel
}

// templateFile finds the template a Helm render error is about; the chart
// directory when the message names none.
func templateFile(err error, chartRel string) string {
	msg := err.Error()
	for _, marker := range []string{"/templates/", "/charts/"} {
		i := strings.Index(msg, marker)
		if i < 0 {
			continue
		}
		start := strings.LastIndexAny(msg[:i], " (\"'\n") + 1
		end := i + strings.IndexAny(msg[i:]+" ", " :)\"'\n")
		return chartPath(chartRel, msg[start:end])
	}
	return chartRel
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// errNoRelease reports a chart rendered without any release name.
var errNoRelease = errors.New("helm release name is empty: set helm.releaseName or the application name")
