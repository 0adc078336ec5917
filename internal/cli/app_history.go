package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func newAppHistoryCmd(f *appFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "history NAME",
		Short: "Show what was deployed when, from which commit, by whom",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, a, err := f.getApp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if f.output != "" {
				return printObject(cmd.OutOrStdout(), f.output, a.Status.History)
			}
			rows := make([][]string, 0, len(a.Status.History))
			for i := len(a.Status.History) - 1; i >= 0; i-- {
				h := a.Status.History[i]
				rows = append(rows, []string{strconv.FormatInt(h.ID, 10), h.DeployedAt.UTC().Format("2006-01-02 15:04:05"), revisionOf(h.Revision, h.Revisions),
					orDash(h.Author), orDash(h.Message), h.InitiatedBy.String()})
			}
			return table(cmd.OutOrStdout(), []string{"ID", "DEPLOYED (UTC)", "REVISION", "AUTHOR", "MESSAGE", "INITIATED BY"}, rows)
		},
	}
}

func newAppRollbackCmd(f *appFlags) *cobra.Command {
	var (
		prune   bool
		timeout = defaultWait
	)
	cmd := &cobra.Command{
		Use:   "rollback NAME [ID]",
		Short: "Redeploy the exact revision of a history entry (the previous one by default)",
		Long: `Rollback redeploys what a history entry deployed: the same commit, rendered
with the same source settings. It refuses while automated sync is on, since
tether would sync the branch head again at once; the GitOps way to roll back
is a git revert of the commit, which tether then deploys like any commit.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, a, err := f.getApp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			key := client.ObjectKeyFromObject(a)
			if a.Spec.SyncPolicy != nil && a.Spec.SyncPolicy.Automated.IsEnabled() {
				return fmt.Errorf("application %s: automated sync is on, so a rollback would be undone at once; turn it off first with\n  kubectl -n %s patch application %s --type merge -p '{\"spec\":{\"syncPolicy\":{\"automated\":null}}}'\nor roll back the GitOps way: git revert the commit and push", key, key.Namespace, key.Name)
			}
			entry, err := historyEntry(a.Status.History, args[1:])
			if err != nil {
				return fmt.Errorf("application %s: %w", key, err)
			}
			switch multi := a.Spec.HasMultipleSources(); {
			case multi && len(entry.Sources) == 0:
				return fmt.Errorf("application %s: history entry %d deployed one source (spec.source), and the app now has several (spec.sources); roll back by syncing each source with tether app sync --revision REV --source-position N", key, entry.ID)
			case !multi && len(entry.Sources) > 0:
				return fmt.Errorf("application %s: history entry %d deployed several sources (spec.sources), and the app now has one (spec.source); roll back with tether app sync --revision REV", key, entry.ID)
			}
			sync := &v1alpha1.SyncOperation{Revision: entry.Revision, Prune: prune}
			if len(entry.Sources) > 0 {
				// Every source as deployed then, each at its revision.
				sync.Revision, sync.Revisions = "", entry.Revisions
				sync.Sources = make([]v1alpha1.ApplicationSource, len(entry.Sources))
				for i, src := range entry.Sources {
					if i < len(entry.Revisions) {
						src.TargetRevision = entry.Revisions[i]
					}
					sync.Sources[i] = src
				}
			} else {
				src := entry.Source
				src.TargetRevision = entry.Revision
				sync.Source = &src
			}
			op := v1alpha1.Operation{
				Sync:        sync,
				InitiatedBy: v1alpha1.OperationInitiator{Username: f.username(), Trigger: "rollback"},
				Info:        []v1alpha1.Info{{Name: v1alpha1.RequestIDInfo, Value: newRequestID()}, {Name: "rollback-to", Value: strconv.FormatInt(entry.ID, 10)}},
			}
			if a.Operation != nil {
				return fmt.Errorf("application %s: another operation is already requested", key)
			}
			if err := requestOperation(cmd.Context(), c, key, op); err != nil {
				return err
			}
			st, err := waitOperation(cmd.Context(), c, key, op.RequestID(), timeout)
			if err != nil {
				return err
			}
			return printOperation(cmd, st)
		},
	}
	cmd.Flags().BoolVar(&prune, "prune", false, "delete objects that the older revision does not have")
	cmd.Flags().DurationVar(&timeout, "timeout", defaultWait, "how long to wait for the result")
	return cmd
}

// historyEntry finds the entry with the given ID, or the one before the
// latest when no ID is given.
func historyEntry(h []v1alpha1.RevisionHistory, args []string) (v1alpha1.RevisionHistory, error) {
	if len(args) == 0 {
		if len(h) < 2 {
			return v1alpha1.RevisionHistory{}, errors.New("no earlier deployment in the history to roll back to")
		}
		return h[len(h)-2], nil
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		return v1alpha1.RevisionHistory{}, fmt.Errorf("history ID %q is not a number", args[0])
	}
	ids := make([]string, 0, len(h))
	for _, e := range h {
		if e.ID == id {
			return e, nil
		}
		ids = append(ids, strconv.FormatInt(e.ID, 10))
	}
	return v1alpha1.RevisionHistory{}, fmt.Errorf("history has no entry %d (it has %v)", id, ids)
}
