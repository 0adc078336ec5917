package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-gitops/tether/internal/plan"
)

func newAppManifestsCmd(f *appFlags) *cobra.Command {
	var (
		from     string
		revision string
		position int
	)
	cmd := &cobra.Command{
		Use:   "manifests NAME",
		Short: "Print an app's objects as Git renders them (--source git) or as the cluster has them (--source live), Secret values masked",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from != "git" && from != "live" {
				return fmt.Errorf("--source %q: want git or live", from)
			}
			if from == "live" && revision != "" {
				return fmt.Errorf("--revision is for --source git: the live objects have no revision")
			}
			c, err := f.compare(cmd.Context(), args[0], revision, position)
			if c == nil {
				return err
			}
			var objs []*unstructured.Unstructured
			for _, it := range c.Plan.Items {
				var obj *unstructured.Unstructured
				if from == "git" {
					_, obj = plan.MaskSecrets(nil, it.Desired)
				} else {
					obj, _ = plan.MaskSecrets(it.Live, nil)
				}
				if obj != nil {
					unstructured.RemoveNestedField(obj.Object, "metadata", "managedFields")
					objs = append(objs, obj)
				}
			}
			if perr := printYAMLDocs(cmd.OutOrStdout(), objs); perr != nil {
				return perr
			}
			return err
		},
	}
	cmd.Flags().StringVar(&from, "source", "git", "git: the objects rendered from the app's source; live: the objects in the cluster")
	cmd.Flags().StringVar(&revision, "revision", "", "with --source git: render this revision instead of the app's targetRevision")
	cmd.Flags().IntVar(&position, "source-position", 0, "for an app with several sources: the position (from 1) of the source --revision is for")
	return cmd
}
