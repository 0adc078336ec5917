package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func newAppTerminateCmd(f *appFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "terminate-op NAME",
		Short: "Stop the running sync of an Application before its next wave",
		Long: `terminate-op asks the controller to stop the app's running sync. The sync
stops before its next wave (or before prune): waves already applied stay,
nothing later is applied, and the operation ends Failed with a message
saying where it stopped.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, a, err := f.getApp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			key := client.ObjectKeyFromObject(a)
			st := a.Status.OperationState
			if st == nil || st.Phase != v1alpha1.PhaseRunning {
				return fmt.Errorf("application %s: no sync is running", key)
			}
			orig := a.DeepCopy()
			a.Status.OperationState.Phase = v1alpha1.PhaseTerminating
			if err := c.Status().Patch(cmd.Context(), a, client.MergeFrom(orig)); err != nil {
				return fmt.Errorf("application %s: request termination: %w", key, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "termination of the sync of %s requested\n", key)
			return nil
		},
	}
}
