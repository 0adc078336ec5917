package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/controller"
)

func newAppConfirmDeletionCmd(f *appFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "confirm-deletion NAME",
		Short: "Approve pruning or deleting the app's objects marked Prune=confirm or Delete=confirm",
		Long: `confirm-deletion sets the annotation ` + v1alpha1.DeletionApprovedAnnotation + ` on the
Application to the current time. A sync waiting to prune objects marked
Prune=confirm then prunes them and finishes; a deleted app waiting to delete
objects marked Delete=confirm deletes them. The approval counts for a sync
that started before it (or an app deleted before it), never for a later one.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, a, err := f.getApp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			key := client.ObjectKeyFromObject(a)
			now := time.Now().UTC().Format(time.RFC3339)
			patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{v1alpha1.DeletionApprovedAnnotation: now}}})
			if err := c.Patch(cmd.Context(), a, client.RawPatch(types.MergePatchType, patch)); err != nil {
				return fmt.Errorf("application %s: approve deletion: %w", key, err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "deletion approved for %s at %s\n", key, now)
			if w := waitingFor(a); w != "" {
				fmt.Fprintf(out, "it was %s\n", w)
			} else {
				fmt.Fprintln(out, "nothing was waiting for approval; the approval counts only for a sync already started")
			}
			return nil
		},
	}
}

// waitingFor describes what of the app waits for a deletion approval, or
// returns "".
func waitingFor(a *v1alpha1.Application) string {
	if st := a.Status.OperationState; st.WaitsForApproval() {
		msg, _, _ := strings.Cut(st.Message, ";")
		return msg
	}
	for _, c := range a.Status.Conditions {
		if c.Type == controller.ConditionDeletionConfirmation {
			msg, _, _ := strings.Cut(c.Message, ";")
			return msg
		}
	}
	return ""
}
