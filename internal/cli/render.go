package cli

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/render"
)

func newRenderCmd() *cobra.Command {
	var (
		appFile, path, namespace string
		position                 int
		refs                     []string
	)
	cmd := &cobra.Command{
		Use:   "render [REPO-DIR]",
		Short: "Render an app from a local checkout, without a cluster",
		Long: `Render prints the objects an Application's source renders to, read from a
local checkout (REPO-DIR, default "."). The source spec comes from an
Application manifest (--app) or from --path; the repository URL and revision
in the manifest are ignored. For an Application whose source is a chart from
a Helm repository (spec.source.chart), REPO-DIR is the chart itself, as
` + "`helm pull --untar`" + ` leaves it.

For an Application with several sources (spec.sources), --source-position
picks the one REPO-DIR holds (not needed when only one source renders), and
each --ref NAME=DIR gives the checkout of the source with that ref, whose
files the Helm value files "$NAME/..." read.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := "."
			if len(args) == 1 {
				root = args[0]
			}
			req := render.Request{Root: root, AppName: "app", Namespace: namespace}
			if appFile != "" {
				app, err := readApp(appFile)
				if err != nil {
					return err
				}
				src, err := renderedSource(app, appFile, position)
				if err != nil {
					return err
				}
				req.Source, req.AppName = src, app.Name
				if req.Source.Chart != "" {
					req.Source.Path = "" // the checkout is the chart
				}
				if req.Namespace == "" {
					req.Namespace = app.Spec.Destination.Namespace
				}
			}
			if path != "" {
				req.Source.Path = path
			}
			for _, r := range refs {
				name, dir, ok := strings.Cut(r, "=")
				if !ok || name == "" || dir == "" {
					return fmt.Errorf("--ref %q: want NAME=DIR, the checkout of the source whose ref is NAME", r)
				}
				if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
					return fmt.Errorf("--ref %s: %s is not a directory", name, dir)
				}
				if req.Refs == nil {
					req.Refs = map[string]fs.FS{}
				}
				req.Refs[name] = os.DirFS(dir)
			}
			res, err := render.Render(cmd.Context(), req, render.DefaultOptions())
			if err != nil {
				return err
			}
			return printYAMLDocs(cmd.OutOrStdout(), res.Objects)
		},
	}
	cmd.Flags().StringVar(&appFile, "app", "", "Application manifest whose source spec to use")
	cmd.Flags().StringVar(&path, "path", "", "path inside the checkout (overrides the manifest's)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "destination namespace (Helm's .Release.Namespace)")
	cmd.Flags().IntVar(&position, "source-position", 0, "for an app with several sources: the position (from 1) of the source REPO-DIR holds")
	cmd.Flags().StringArrayVar(&refs, "ref", nil, "for an app with several sources: NAME=DIR, the checkout of the source with ref NAME (repeatable)")
	return cmd
}

// renderedSource is the source of the manifest that REPO-DIR holds: the
// app's one source, or of its several the one at position (1-based), which
// may be left out when only one of them renders.
func renderedSource(app *v1alpha1.Application, file string, position int) (v1alpha1.ApplicationSource, error) {
	if !app.Spec.HasMultipleSources() {
		if app.Spec.Source == nil {
			return v1alpha1.ApplicationSource{}, fmt.Errorf("%s: spec.source (or spec.sources) is required", file)
		}
		if position > 1 {
			return v1alpha1.ApplicationSource{}, fmt.Errorf("--source-position %d: %s has one source (spec.source)", position, file)
		}
		return *app.Spec.Source, nil
	}
	n := len(app.Spec.Sources)
	if position == 0 {
		var rendered []int
		for i, s := range app.Spec.Sources {
			if !s.RefOnly() {
				rendered = append(rendered, i+1)
			}
		}
		if len(rendered) != 1 {
			return v1alpha1.ApplicationSource{}, fmt.Errorf("%s has %d sources (spec.sources) and %d of them render: say which one REPO-DIR holds with --source-position (1 to %d)", file, n, len(rendered), n)
		}
		position = rendered[0]
	}
	if position < 1 || position > n {
		return v1alpha1.ApplicationSource{}, fmt.Errorf("--source-position %d: %s has %d sources (spec.sources), numbered 1 to %d", position, file, n, n)
	}
	src := app.Spec.Sources[position-1]
	if src.RefOnly() {
		return v1alpha1.ApplicationSource{}, fmt.Errorf("--source-position %d: that source of %s only lends its files (ref %q); give its checkout with --ref %s=DIR", position, file, src.Ref, src.Ref)
	}
	return src, nil
}

// printYAMLDocs writes objects as a stream of YAML documents.
func printYAMLDocs(w io.Writer, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "---\n%s", b)
	}
	return nil
}

func readApp(file string) (*v1alpha1.Application, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	app := &v1alpha1.Application{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, app); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if app.Kind != v1alpha1.ApplicationKind {
		return nil, fmt.Errorf("%s: kind is %q, want Application", file, app.Kind)
	}
	return app, nil
}
