package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/render"
)

func newRenderCmd() *cobra.Command {
	var appFile, path, namespace string
	cmd := &cobra.Command{
		Use:   "render [REPO-DIR]",
		Short: "Render an app from a local checkout, without a cluster",
		Long: `Render prints the objects an Application's source renders to, read from a
local checkout (REPO-DIR, default "."). The source spec comes from an
Application manifest (--app) or from --path; the repository URL and revision
in the manifest are ignored. For an Application whose source is a chart from
a Helm repository (spec.source.chart), REPO-DIR is the chart itself, as
` + "`helm pull --untar`" + ` leaves it.`,
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
				if app.Spec.Source == nil {
					return fmt.Errorf("%s: spec.source is required", appFile)
				}
				req.Source, req.AppName = *app.Spec.Source, app.Name
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
			res, err := render.Render(cmd.Context(), req, render.DefaultOptions())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, o := range res.Objects {
				b, err := yaml.Marshal(o.Object)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "---\n%s", b)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&appFile, "app", "", "Application manifest whose source spec to use")
	cmd.Flags().StringVar(&path, "path", "", "path inside the checkout (overrides the manifest's)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "destination namespace (Helm's .Release.Namespace)")
	return cmd
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
