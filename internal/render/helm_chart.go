package render

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartloader "helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/ignore"
	"sigs.k8s.io/yaml"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// loadChart reads the chart directory the way Helm's directory loader does
// (.helmignore honoured, templates/ dotfiles skipped), but every file goes
// through snapshot.readFile, so symlinks cannot leave the root and sizes
// are bounded. Subcharts must already be in charts/.
func (s *snapshot) loadChart(ctx context.Context, chartAbs, chartRel string) (*chart.Chart, error) {
	chartYAML := path.Join(chartRel, "Chart.yaml")
	meta, err := s.readFile(filepath.Join(chartAbs, "Chart.yaml"), chartYAML)
	if err != nil {
		return nil, err
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
	}
	if err := yaml.Unmarshal(meta, &head); err != nil {
		return nil, &Error{File: chartYAML, Err: fmt.Errorf("invalid Chart.yaml: %w", err)}
	}
	switch head.APIVersion {
	case chart.APIVersionV1, chart.APIVersionV2, "":
	default:
		return nil, &Error{File: chartYAML, Err: fmt.Errorf("chart apiVersion %q is not supported", head.APIVersion)}
	}

	rules := ignore.Empty()
	ignoreFile := filepath.Join(chartAbs, ignore.HelmIgnore)
	if ok, err := s.exists(ignoreFile); err != nil {
		return nil, &Error{File: path.Join(chartRel, ignore.HelmIgnore), Err: err}
	} else if ok {
		data, err := s.readFile(ignoreFile, path.Join(chartRel, ignore.HelmIgnore))
		if err != nil {
			return nil, err
		}
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, &Error{File: path.Join(chartRel, ignore.HelmIgnore), Err: err}
		}
	}
	rules.AddDefaults()

	files := []*archive.BufferedFile{{Name: "Chart.yaml", Data: bytes.TrimPrefix(meta, utf8BOM)}}
	err = s.walk(ctx, chartAbs, func(rel, abs string, isDir bool) (bool, error) {
		if rules.Ignore(rel, entryInfo{name: path.Base(rel), dir: isDir}) {
			return false, nil
		}
		if isDir || rel == "Chart.yaml" {
			return isDir, nil
		}
		data, err := s.readFile(abs, path.Join(chartRel, rel))
		if err != nil {
			return false, err
		}
		files = append(files, &archive.BufferedFile{Name: rel, Data: bytes.TrimPrefix(data, utf8BOM)})
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	ch, err := chartloader.LoadFiles(files)
	if err != nil {
		return nil, &Error{File: chartYAML, Err: err}
	}
	if err := checkDependencies(ch); err != nil {
		return nil, &Error{File: chartYAML, Err: err}
	}
	return ch, nil
}

// checkDependencies requires every dependency listed in Chart.yaml to be
// vendored in charts/, as helm install does; nothing is downloaded.
func checkDependencies(ch *chart.Chart) error {
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
	}
	var missing []string
	for _, d := range ch.Metadata.Dependencies {
		if !have[d.Name] {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("dependencies listed in Chart.yaml but missing from charts/: %s (vendor them with helm dependency build)", strings.Join(missing, ", "))
	}
	return nil
}

// entryInfo is the little of fs.FileInfo that .helmignore rules look at.
type entryInfo struct {
	name string
	dir  bool
}

func (e entryInfo) Name() string       { return e.name }
func (e entryInfo) Size() int64        { return 0 }
func (e entryInfo) ModTime() time.Time { return time.Time{} }
func (e entryInfo) IsDir() bool        { return e.dir }
func (e entryInfo) Sys() any           { return nil }

func (e entryInfo) Mode() fs.FileMode {
	if e.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
