package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// waitFor is what `tether app wait` waits for.
type waitFor struct {
	sync, health, operation bool
}

// reached reports whether the app is where w asks, or an error when it
// cannot get there by waiting: its last operation failed.
func (w waitFor) reached(a *v1alpha1.Application) (bool, error) {
	st := a.Status.OperationState
	if w.operation && st != nil && st.FinishedAt != nil && (st.Phase == v1alpha1.PhaseFailed || st.Phase == v1alpha1.PhaseError) && a.Operation == nil {
		return false, fmt.Errorf("the last sync %s: %s", strings.ToLower(st.Phase), st.Message)
	}
	var missing []string
	if w.sync && a.Status.Sync.Status != v1alpha1.SyncStatusSynced {
		missing = append(missing, "sync")
	}
	if w.health && a.Status.Health.Status != v1alpha1.HealthHealthy {
		missing = append(missing, "health")
	}
	if w.operation && (a.Operation != nil || (st != nil && st.FinishedAt == nil)) {
		missing = append(missing, "operation")
	}
	return len(missing) == 0, nil
}

func newAppWaitCmd(f *appFlags) *cobra.Command {
	var (
		w       waitFor
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "wait NAME",
		Short: "Wait until an Application is Synced, Healthy and has no sync running",
		Long: `wait returns once the Application is Synced (--sync), Healthy (--health)
and has no requested or running sync (--operation); with none of the three
flags it waits for all of them. It exits 1 when --timeout passes first, or
when the app's last sync failed (with --operation), so CI jobs can use it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !w.sync && !w.health && !w.operation {
				w = waitFor{sync: true, health: true, operation: true}
			}
			c, a, err := f.getApp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			key := client.ObjectKeyFromObject(a)
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			var failed error
			_, err = watchApp(ctx, c, key, cmd.OutOrStdout(), "", func(a *v1alpha1.Application) bool {
				ok, ferr := w.reached(a)
				failed = ferr
				return ok || ferr != nil
			})
			switch {
			case failed != nil:
				return &ExitError{Code: 1, Err: fmt.Errorf("application %s: %w", key, failed)}
			case errors.Is(err, context.DeadlineExceeded):
				return &ExitError{Code: 1, Err: fmt.Errorf("application %s: not there within %s", key, timeout)}
			case err != nil:
				return err
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&w.sync, "sync", false, "wait until the app is Synced")
	fl.BoolVar(&w.health, "health", false, "wait until the app is Healthy")
	fl.BoolVar(&w.operation, "operation", false, "wait until no sync is requested or running (a failed last sync exits 1)")
	fl.DurationVar(&timeout, "timeout", defaultWait, "give up (exit 1) after this long")
	return cmd
}
