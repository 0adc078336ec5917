package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/plan"
)

func newAppDiffCmd(f *appFlags) *cobra.Command {
	var (
		revision string
		position int
	)
	cmd := &cobra.Command{
		Use:   "diff NAME",
		Short: "Show how the cluster differs from Git; exits 1 when it does (for CI jobs)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.compare(cmd.Context(), args[0], revision, position)
			if c == nil {
				return err
			}
			w := cmd.OutOrStdout()
			rev := shortSHA(c.Revision)
			if len(c.Revisions) > 0 {
				rev = shortSHAs(c.Revisions)
			}
			fmt.Fprintf(w, "# %s at %s (%s: %s)\n", args[0], rev, c.Author, c.Message)
			for _, it := range c.Plan.Items {
				if it.Action == plan.ActionUnchanged {
					continue
				}
				fmt.Fprintf(w, "\n===== %s (%s) =====\n%s", it.Key, it.Action, it.Diff)
			}
			if err != nil {
				return err
			}
			if c.Plan.OutOfSync() {
				return &ExitError{Code: 1, Err: errors.New("the cluster differs from Git")}
			}
			fmt.Fprintln(w, "no differences")
			return nil
		},
	}
	cmd.Flags().StringVar(&revision, "revision", "", "compare against this revision instead of the app's targetRevision")
	cmd.Flags().IntVar(&position, "source-position", 0, "for an app with several sources: the position (from 1) of the source --revision is for")
	return cmd
}

// compare compares the app with the cluster in-process, at revision of the
// source at position when given (the CLI's own engine: no controller
// needed).
func (f *appFlags) compare(ctx context.Context, name, revision string, position int) (*controller.Comparison, error) {
	cfg, err := f.restConfig()
	if err != nil {
		return nil, err
	}
	opts := controller.DefaultOptions()
	opts.Namespace = f.namespace
	eng, err := controller.NewEngine(cfg, opts)
	if err != nil {
		return nil, err
	}
	return eng.Compare(ctx, types.NamespacedName{Namespace: f.namespace, Name: name}, revision, position)
}
