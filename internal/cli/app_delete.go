package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func newAppDeleteCmd(f *appFlags) *cobra.Command {
	var (
		cascade  bool
		policy   string
		waitGone bool
		timeout  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an Application, with its objects (--cascade, the default) or without",
		Long: `delete deletes the Application. With --cascade (the default) it first sets
the resources finalizer, so the controller deletes the app's objects
(foreground, or background with --propagation-policy background) before
the app goes; with --cascade=false it removes that finalizer, and the
objects stay. It waits until the app is gone unless --wait=false.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			finalizer := v1alpha1.ResourcesFinalizer
			switch policy {
			case "foreground":
			case "background":
				finalizer += "/background"
			default:
				return fmt.Errorf("--propagation-policy %q: want foreground or background", policy)
			}
			c, a, err := f.getApp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			key := client.ObjectKeyFromObject(a)
			fs := slices.DeleteFunc(slices.Clone(a.Finalizers), func(s string) bool {
				return s == v1alpha1.ResourcesFinalizer || s == v1alpha1.ResourcesFinalizer+"/background"
			})
			if cascade {
				fs = append(fs, finalizer)
			}
			if !slices.Equal(fs, a.Finalizers) {
				b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": fs, "resourceVersion": a.ResourceVersion}})
				if err := c.Patch(cmd.Context(), a, client.RawPatch(types.MergePatchType, b)); err != nil {
					return fmt.Errorf("application %s: set the finalizers: %w", key, err)
				}
			}
			if err := c.Delete(cmd.Context(), a); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("application %s: delete: %w", key, err)
			}
			out := cmd.OutOrStdout()
			what := "its objects stay"
			if cascade {
				what = "its objects are deleted with it"
			}
			if !waitGone {
				fmt.Fprintf(out, "application %s deleted; %s\n", key, what)
				return nil
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			err = wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
				err := c.Get(ctx, key, &v1alpha1.Application{})
				return apierrors.IsNotFound(err), nil
			})
			if err != nil {
				var now v1alpha1.Application
				msg := ""
				if gerr := c.Get(cmd.Context(), key, &now); gerr == nil {
					for _, cond := range now.Status.Conditions {
						msg += "; " + cond.Type + ": " + cond.Message
					}
				}
				return &ExitError{Code: 1, Err: fmt.Errorf("application %s: still there after %s%s", key, timeout, msg)}
			}
			fmt.Fprintf(out, "application %s deleted; %s\n", key, what)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&cascade, "cascade", true, "delete the app's objects too")
	fl.StringVar(&policy, "propagation-policy", "foreground", "how the objects are deleted with --cascade: foreground or background")
	fl.BoolVar(&waitGone, "wait", true, "wait until the app is gone")
	fl.DurationVar(&timeout, "timeout", defaultWait, "how long to wait")
	return cmd
}
