package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func newAppSyncCmd(f *appFlags) *cobra.Command {
	var (
		revision string
		prune    bool
		dryRun   bool
		async    bool
		watch    bool
		timeout  time.Duration
		selected []string
		position int
	)
	cmd := &cobra.Command{
		Use:   "sync NAME",
		Short: "Sync an Application now and wait for the result",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resources, err := parseResources(selected)
			if err != nil {
				return err
			}
			c, before, err := f.getApp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			key := client.ObjectKeyFromObject(before)
			if before.Operation != nil {
				return fmt.Errorf("application %s: another operation is already requested", key)
			}
			pin, err := before.Spec.PinRevision(revision, position)
			if err != nil {
				return fmt.Errorf("application %s: %w", key, err)
			}
			pin.Prune, pin.DryRun, pin.Resources = prune, dryRun, resources
			op := v1alpha1.Operation{
				Sync:        &pin,
				InitiatedBy: v1alpha1.OperationInitiator{Username: f.username(), Trigger: "user"},
				Info:        []v1alpha1.Info{{Name: v1alpha1.RequestIDInfo, Value: newRequestID()}},
			}
			if err := requestOperation(cmd.Context(), c, key, op); err != nil {
				return err
			}
			if async {
				fmt.Fprintf(cmd.OutOrStdout(), "sync of %s requested\n", key)
				return nil
			}
			if watch {
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				defer cancel()
				_, err := watchApp(ctx, c, key, cmd.OutOrStdout(), op.RequestID(), func(a *v1alpha1.Application) bool {
					st := a.Status.OperationState
					return st != nil && (st.FinishedAt != nil || st.WaitsForApproval()) && st.Operation.RequestID() == op.RequestID()
				})
				if err != nil {
					return fmt.Errorf("application %s: no result within %s (is `tether controller` running?)", key, timeout)
				}
				fmt.Fprintln(cmd.OutOrStdout())
			}
			st, err := waitOperation(cmd.Context(), c, key, op.RequestID(), timeout)
			if err != nil {
				return err
			}
			return printOperation(cmd, st)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&revision, "revision", "", "sync to this revision instead of the app's targetRevision")
	fl.IntVar(&position, "source-position", 0, "for an app with several sources: the position (from 1) of the source --revision is for")
	fl.BoolVar(&prune, "prune", false, "delete objects that are no longer in Git")
	fl.BoolVar(&dryRun, "dry-run", false, "validate and show what would change, without changing anything")
	fl.BoolVar(&async, "async", false, "do not wait for the result")
	fl.BoolVarP(&watch, "watch", "w", false, "show each wave, hook and object as the sync goes")
	fl.DurationVar(&timeout, "timeout", defaultWait, "how long to wait for the result")
	fl.StringArrayVar(&selected, "resource", nil, "sync only this object, as GROUP:KIND:NAME or GROUP:KIND:NAMESPACE/NAME (empty group for the core kinds, e.g. :ConfigMap:web); repeatable. A selective sync runs no hooks and is not recorded in the history")
	return cmd
}

// parseResources parses --resource values; a malformed one is an error
// naming it and the expected form.
func parseResources(values []string) ([]v1alpha1.SyncOperationResource, error) {
	var out []v1alpha1.SyncOperationResource
	for _, v := range values {
		parts := strings.Split(v, ":")
		if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("--resource %q: want GROUP:KIND:NAME or GROUP:KIND:NAMESPACE/NAME (e.g. apps:Deployment:web, :ConfigMap:prod/web)", v)
		}
		r := v1alpha1.SyncOperationResource{Group: parts[0], Kind: parts[1], Name: parts[2]}
		if ns, name, ok := strings.Cut(parts[2], "/"); ok {
			if ns == "" || name == "" || strings.Contains(name, "/") {
				return nil, fmt.Errorf("--resource %q: want GROUP:KIND:NAMESPACE/NAME", v)
			}
			r.Namespace, r.Name = ns, name
		}
		out = append(out, r)
	}
	return out, nil
}

// defaultWait bounds how long a command waits for an operation's result.
const defaultWait = 5 * time.Minute

// requestOperation asks the controller to run op by setting .operation.
func requestOperation(ctx context.Context, c client.Client, key client.ObjectKey, op v1alpha1.Operation) error {
	b, err := json.Marshal(map[string]any{"operation": op})
	if err != nil {
		return err
	}
	app := &v1alpha1.Application{}
	app.Namespace, app.Name = key.Namespace, key.Name
	if err := c.Patch(ctx, app, client.RawPatch(types.MergePatchType, b)); err != nil {
		return fmt.Errorf("application %s: request sync: %w", key, err)
	}
	return nil
}

// waitOperation waits until the controller has run the requested operation.
func waitOperation(ctx context.Context, c client.Client, key client.ObjectKey, requestID string, timeout time.Duration) (*v1alpha1.OperationState, error) {
	var got *v1alpha1.OperationState
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		var a v1alpha1.Application
		if err := c.Get(ctx, key, &a); err != nil {
			return false, nil
		}
		st := a.Status.OperationState
		if st == nil || (st.FinishedAt == nil && !st.WaitsForApproval()) || st.Operation.RequestID() != requestID {
			return false, nil
		}
		got = st
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("application %s: no result within %s (is `tether controller` running?)", key, timeout)
	}
	return got, nil
}

func printOperation(cmd *cobra.Command, st *v1alpha1.OperationState) error {
	w := cmd.OutOrStdout()
	rows := [][]string{}
	if st.SyncResult != nil {
		for _, r := range st.SyncResult.Resources {
			rows = append(rows, []string{r.Kind, orDash(r.Namespace), r.Name, r.Status, r.Message})
		}
		if len(st.SyncResult.Revisions) > 0 {
			fmt.Fprintf(w, "Revisions: %s\n", strings.Join(st.SyncResult.Revisions, ", "))
		} else {
			fmt.Fprintf(w, "Revision: %s\n", st.SyncResult.Revision)
		}
	}
	fmt.Fprintf(w, "Phase:    %s\nMessage:  %s\n\n", st.Phase, st.Message)
	if err := table(w, []string{"KIND", "NAMESPACE", "NAME", "STATUS", "MESSAGE"}, rows); err != nil {
		return err
	}
	if st.WaitsForApproval() {
		return &ExitError{Code: 1, Err: errors.New("sync waiting for pruning confirmation (tether app confirm-deletion)")}
	}
	if st.Phase != v1alpha1.PhaseSucceeded {
		return &ExitError{Code: 1, Err: errors.New("sync " + st.Phase)}
	}
	return nil
}

// newRequestID returns a random id for one request.
func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
