package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/webhook"
)

// appFlags are shared by the app commands.
type appFlags struct {
	*kubeFlags
	namespace string
	output    string
}

func newAppCmd(k *kubeFlags) *cobra.Command {
	f := &appFlags{kubeFlags: k}
	cmd := &cobra.Command{Use: "app", Short: "List, inspect, diff and sync Applications"}
	cmd.PersistentFlags().StringVarP(&f.namespace, "namespace", "n", "argocd", "namespace of the Applications")
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "", "output format: json or yaml (default: a table)")
	cmd.AddCommand(newAppListCmd(f), newAppGetCmd(f), newAppDiffCmd(f), newAppSyncCmd(f), newAppHistoryCmd(f), newAppRollbackCmd(f), newAppTerminateCmd(f), newAppConfirmDeletionCmd(f), newAppWaitCmd(f), newAppDeleteCmd(f), newAppManifestsCmd(f))
	return cmd
}

// getApp loads the named Application of the flags' namespace.
func (f *appFlags) getApp(ctx context.Context, name string) (client.WithWatch, *v1alpha1.Application, error) {
	c, err := f.client()
	if err != nil {
		return nil, nil, err
	}
	a := &v1alpha1.Application{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: f.namespace, Name: name}, a); err != nil {
		return nil, nil, fmt.Errorf("application %s/%s: %w", f.namespace, name, err)
	}
	return c, a, nil
}

func newAppListCmd(f *appFlags) *cobra.Command {
	var selector, repo string
	var projects []string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List Applications with their sync and health status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := []client.ListOption{client.InNamespace(f.namespace)}
			if selector != "" {
				sel, err := labels.Parse(selector)
				if err != nil {
					return fmt.Errorf("--selector %q: %w", selector, err)
				}
				opts = append(opts, client.MatchingLabelsSelector{Selector: sel})
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			var list v1alpha1.ApplicationList
			if err := c.List(cmd.Context(), &list, opts...); err != nil {
				return fmt.Errorf("list applications in %s: %w", f.namespace, err)
			}
			items := filterApps(list.Items, projects, repo)
			sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
			if f.output != "" {
				return printObject(cmd.OutOrStdout(), f.output, items)
			}
			rows := make([][]string, 0, len(items))
			for _, a := range items {
				rows = append(rows, []string{a.Name, destServer(a.Spec.Destination), orDash(a.Spec.Destination.Namespace), orDash(a.Spec.Project),
					orDash(a.Status.Sync.Status), orDash(a.Status.Health.Status), syncPolicy(a.Spec.SyncPolicy), revisionOf(a.Status.Sync.Revision, a.Status.Sync.Revisions), conditionTypes(a.Status.Conditions)})
			}
			return table(cmd.OutOrStdout(), []string{"NAME", "CLUSTER", "NAMESPACE", "PROJECT", "STATUS", "HEALTH", "SYNCPOLICY", "REVISION", "CONDITIONS"}, rows)
		},
	}
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "only apps whose labels match this selector (e.g. team=payments,tier!=canary)")
	cmd.Flags().StringSliceVarP(&projects, "project", "p", nil, "only apps of these projects (repeat or comma-separate; empty project is default)")
	cmd.Flags().StringVarP(&repo, "repo", "r", "", "only apps with a source from this repository, in any of its address forms (HTTPS, SSH, web)")
	return cmd
}

// filterApps keeps the apps of projects (all when none; an empty project
// is "default") with a source from repo (all when empty).
func filterApps(apps []v1alpha1.Application, projects []string, repo string) []v1alpha1.Application {
	out := apps[:0:0]
	key := webhook.RepoKey(repo)
	for _, a := range apps {
		if len(projects) > 0 {
			p := a.Spec.Project
			if p == "" {
				p = v1alpha1.DefaultProject
			}
			if !slices.Contains(projects, p) {
				continue
			}
		}
		if repo != "" && !usesRepo(&a, key) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// usesRepo reports whether one of a's sources is from the repository of
// key (a webhook.RepoKey).
func usesRepo(a *v1alpha1.Application, key string) bool {
	if a.Spec.Source != nil && !a.Spec.HasMultipleSources() && webhook.RepoKey(a.Spec.Source.RepoURL) == key {
		return true
	}
	for _, s := range a.Spec.Sources {
		if webhook.RepoKey(s.RepoURL) == key {
			return true
		}
	}
	return false
}

func newAppGetCmd(f *appFlags) *cobra.Command {
	var watch, refresh, hardRefresh bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Show an Application: source, status, conditions and objects",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mode, err := refreshMode(refresh, hardRefresh)
			if err != nil {
				return err
			}
			c, a, err := f.getApp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if mode != "" {
				if a, err = refreshApp(cmd.Context(), c, a, mode, timeout); err != nil {
					return err
				}
			}
			if watch {
				_, err := watchApp(cmd.Context(), c, client.ObjectKeyFromObject(a), cmd.OutOrStdout(), "", nil)
				if errors.Is(err, context.Canceled) {
					return nil
				}
				return err
			}
			if f.output != "" {
				return printObject(cmd.OutOrStdout(), f.output, a)
			}
			return printApp(cmd, a)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "keep printing changes of sync, health and the running operation until interrupted")
	cmd.Flags().BoolVar(&refresh, "refresh", false, "have the controller compare the app with Git now (the refresh annotation) and show the result")
	cmd.Flags().BoolVar(&hardRefresh, "hard-refresh", false, "as --refresh, reading Git and rendering again without the controller's caches")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "how long --refresh and --hard-refresh wait for the controller")
	return cmd
}

func printApp(cmd *cobra.Command, a *v1alpha1.Application) error {
	w := cmd.OutOrStdout()
	src := v1alpha1.ApplicationSource{}
	if a.Spec.Source != nil {
		src = *a.Spec.Source
	}
	fmt.Fprintf(w, "Name:          %s/%s\n", a.Namespace, a.Name)
	fmt.Fprintf(w, "Project:       %s\n", orDash(a.Spec.Project))
	if a.Spec.HasMultipleSources() {
		for i, s := range a.Spec.Sources {
			what := "path " + orDash(s.Path)
			switch {
			case s.Chart != "":
				what = "chart " + s.Chart
			case s.RefOnly():
				what = "files only"
			}
			if s.Ref != "" {
				what += ", ref $" + s.Ref
			}
			rev := "-"
			if i < len(a.Status.Sync.Revisions) {
				rev = shortSHA(a.Status.Sync.Revisions[i])
			}
			fmt.Fprintf(w, "Source %d:      %s %s (%s) at %s\n", i+1, s.RepoURL, orDash(s.TargetRevision), what, rev)
		}
	} else {
		fmt.Fprintf(w, "Repo:          %s\n", src.RepoURL)
		fmt.Fprintf(w, "Target:        %s\n", orDash(src.TargetRevision))
		if src.Chart != "" {
			fmt.Fprintf(w, "Chart:         %s\n", src.Chart)
		} else {
			fmt.Fprintf(w, "Path:          %s\n", orDash(src.Path))
		}
	}
	fmt.Fprintf(w, "Destination:   %s / %s\n", destServer(a.Spec.Destination), orDash(a.Spec.Destination.Namespace))
	fmt.Fprintf(w, "Sync Policy:   %s\n", syncPolicy(a.Spec.SyncPolicy))
	fmt.Fprintf(w, "Sync Status:   %s to %s\n", orDash(a.Status.Sync.Status), revisionOf(a.Status.Sync.Revision, a.Status.Sync.Revisions))
	fmt.Fprintf(w, "Health Status: %s\n", orDash(a.Status.Health.Status))
	for _, u := range a.Status.Summary.ExternalURLs {
		fmt.Fprintf(w, "URL:           %s\n", u)
	}
	if st := a.Status.OperationState; st != nil {
		fmt.Fprintf(w, "Last Sync:     %s: %s\n", st.Phase, st.Message)
	}
	for _, c := range a.Status.Conditions {
		fmt.Fprintf(w, "Condition:     %s: %s\n", c.Type, c.Message)
	}
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(a.Status.Resources))
	for _, r := range a.Status.Resources {
		h := ""
		if r.Health != nil {
			h = r.Health.Status
		}
		rows = append(rows, []string{r.Group, r.Kind, orDash(r.Namespace), r.Name, r.Status, orDash(h)})
	}
	return table(w, []string{"GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH"}, rows)
}

func destServer(d v1alpha1.ApplicationDestination) string {
	switch {
	case d.Server != "":
		return d.Server
	case d.Name != "":
		return d.Name
	}
	return v1alpha1.InClusterName // neither: the cluster tether runs against
}

func syncPolicy(p *v1alpha1.SyncPolicy) string {
	if p == nil || !p.Automated.IsEnabled() {
		return "Manual"
	}
	s := "Auto"
	if p.Automated.Prune {
		s += "-Prune"
	}
	if p.Automated.SelfHeal {
		s += "-SelfHeal"
	}
	return s
}

func conditionTypes(cs []v1alpha1.ApplicationCondition) string {
	if len(cs) == 0 {
		return "-"
	}
	types := make([]string, 0, len(cs))
	for _, c := range cs {
		types = append(types, c.Type)
	}
	return strings.Join(types, ",")
}
