package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/clusters"
	"github.com/tether-gitops/tether/internal/controller"
)

type clusterFlags struct {
	*kubeFlags
	namespace string
	output    string
}

func newClusterCmd(k *kubeFlags) *cobra.Command {
	f := &clusterFlags{kubeFlags: k}
	cmd := &cobra.Command{Use: "cluster", Short: "Register, list and remove destination clusters"}
	cmd.PersistentFlags().StringVarP(&f.namespace, "namespace", "n", "argocd", "tether's namespace, where cluster Secrets live")
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "", "output format: json or yaml (default: a table)")
	cmd.AddCommand(newClusterAddCmd(f), newClusterListCmd(f), newClusterRmCmd(f))
	return cmd
}

func newClusterAddCmd(f *clusterFlags) *cobra.Command {
	var name string
	var labels []string
	var upsert, serviceAccount bool
	cmd := &cobra.Command{
		Use:   "add CONTEXT",
		Short: "Register the cluster of a kubeconfig context as a destination",
		Long: `Register the cluster of a kubeconfig context as a destination.

The context's server and credentials (a bearer token or a client
certificate, read from the kubeconfig or the files it names) are stored in
a Secret labelled argocd.argoproj.io/secret-type=cluster in tether's
namespace of the cluster tether runs against (--context selects that one).
Applications then name the cluster by server or by --name.

With --service-account, tether creates the ServiceAccount tether-manager in
kube-system of the added cluster, binds it to cluster-admin, and stores its
token instead of the context's own credentials: use it when the context
authenticates with an exec plugin or short-lived tokens.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctxName := args[0]
			cfg, err := f.contextConfig(ctxName)
			if err != nil {
				return err
			}
			if name == "" {
				name = ctxName
			}
			if serviceAccount {
				if cfg, err = serviceAccountConfig(cmd.Context(), cfg); err != nil {
					return fmt.Errorf("cluster %s: %w", name, err)
				}
			}
			l := map[string]string{}
			for _, kv := range labels {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return fmt.Errorf("--label %q: want key=value", kv)
				}
				l[k] = v
			}
			s, err := clusters.ToSecret(f.namespace, clusters.SecretName(name), name, cfg, l)
			if err != nil {
				return err
			}
			// Check the credentials before storing them.
			if _, err := serverVersion(cmd.Context(), cfg); err != nil {
				return fmt.Errorf("cluster %s (%s): %s", name, cfg.Host, controller.DescribeClusterError(err))
			}
			c, entries, err := f.registered(cmd.Context(), nil)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if e.Cluster == nil || e.Secret.Name == s.Name {
					continue
				}
				if e.Name == name || e.Server == strings.TrimSuffix(cfg.Host, "/") {
					return fmt.Errorf("cluster %s (%s) is already registered by Secret %s/%s", e.Name, e.Server, e.Secret.Namespace, e.Secret.Name)
				}
			}
			err = c.Create(cmd.Context(), s)
			if apierrors.IsAlreadyExists(err) {
				if !upsert {
					return fmt.Errorf("cluster Secret %s/%s already exists; use --upsert to replace it", s.Namespace, s.Name)
				}
				old := &corev1.Secret{}
				if err = c.Get(cmd.Context(), client.ObjectKeyFromObject(s), old); err == nil {
					old.Labels, old.Data = s.Labels, s.Data
					err = c.Update(cmd.Context(), old)
				}
			}
			if err != nil {
				return fmt.Errorf("cluster Secret %s/%s: %w", s.Namespace, s.Name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s (%s) registered in Secret %s/%s\n", name, cfg.Host, s.Namespace, s.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the cluster's name for destination.name (default: the context name)")
	cmd.Flags().StringArrayVar(&labels, "label", nil, "label key=value on the cluster Secret, for ApplicationSet cluster selectors (repeatable)")
	cmd.Flags().BoolVar(&upsert, "upsert", false, "replace the Secret if the cluster is registered already")
	cmd.Flags().BoolVar(&serviceAccount, "service-account", false, "store the token of a tether-manager ServiceAccount (cluster-admin) created in the cluster, not the context's credentials")
	return cmd
}

// contextConfig loads the REST config of a named kubeconfig context, with
// every credential read into memory.
func (f *clusterFlags) contextConfig(name string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.kubeconfig != "" {
		rules.ExplicitPath = f.kubeconfig
	}
	raw, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	if _, ok := raw.Contexts[name]; !ok {
		names := make([]string, 0, len(raw.Contexts))
		for n := range raw.Contexts {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("context %q is not in the kubeconfig (it has: %s)", name, strings.Join(names, ", "))
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, name, &clientcmd.ConfigOverrides{}, rules).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("context %s: %w", name, err)
	}
	if err := rest.LoadTLSFiles(cfg); err != nil {
		return nil, fmt.Errorf("context %s: %w", name, err)
	}
	if cfg.BearerTokenFile != "" {
		b, err := os.ReadFile(cfg.BearerTokenFile)
		if err != nil {
			return nil, fmt.Errorf("context %s: token file: %w", name, err)
		}
		cfg.BearerToken, cfg.BearerTokenFile = strings.TrimSpace(string(b)), ""
	}
	return cfg, nil
}

// clusterRow is one line of `tether cluster list`.
type clusterRow struct {
	Name    string `json:"name"`
	Server  string `json:"server"`
	Version string `json:"version,omitempty"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	Secret  string `json:"secret,omitempty"`
	Project string `json:"project,omitempty"`
}

func newClusterListCmd(f *clusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List destination clusters with their connection status and version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			local, err := f.restConfig()
			if err != nil {
				return err
			}
			_, entries, err := f.registered(cmd.Context(), local)
			if err != nil {
				return err
			}
			rows := make([]clusterRow, len(entries))
			var wg sync.WaitGroup
			for i, e := range entries {
				rows[i] = clusterRow{Name: e.Name, Server: e.Server, Project: e.Project}
				if e.Secret.Name != "" {
					rows[i].Secret = e.Secret.String()
				}
				if e.Err != nil {
					rows[i].Status, rows[i].Message = "Invalid", e.Err.Error()
					continue
				}
				cfg := e.Config
				if e.Server == v1alpha1.InClusterServer {
					cfg = local
				}
				wg.Add(1)
				go func(row *clusterRow, cfg *rest.Config) {
					defer wg.Done()
					v, err := serverVersion(cmd.Context(), cfg)
					if err != nil {
						row.Status, row.Message = "Failed", controller.DescribeClusterError(err)
						return
					}
					row.Status, row.Version = "Successful", v
				}(&rows[i], cfg)
			}
			wg.Wait()
			if f.output != "" {
				return printObject(cmd.OutOrStdout(), f.output, rows)
			}
			lines := [][]string{}
			for _, r := range rows {
				lines = append(lines, []string{r.Name, r.Server, orDash(r.Version), r.Status, orDash(r.Message)})
			}
			return table(cmd.OutOrStdout(), []string{"NAME", "SERVER", "VERSION", "STATUS", "MESSAGE"}, lines)
		},
	}
}

func newClusterRmCmd(f *clusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME|SERVER",
		Short: "Remove a registered cluster (its Secret); objects in it stay",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, entries, err := f.registered(cmd.Context(), nil)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if e.Cluster == nil || (e.Name != args[0] && e.Server != strings.TrimSuffix(args[0], "/")) {
					continue
				}
				if e.Secret.Name == "" {
					return fmt.Errorf("cluster %s is the cluster tether runs against; it cannot be removed", e.Name)
				}
				s := &corev1.Secret{}
				s.Namespace, s.Name = e.Secret.Namespace, e.Secret.Name
				if err := c.Delete(cmd.Context(), s); err != nil {
					return fmt.Errorf("cluster Secret %s: %w", e.Secret, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "cluster %s (%s) removed (Secret %s deleted)\n", e.Name, e.Server, e.Secret)
				return nil
			}
			return fmt.Errorf("cluster %q is not registered in namespace %s", args[0], f.namespace)
		},
	}
}

// registered lists the clusters of tether's namespace.
func (f *clusterFlags) registered(ctx context.Context, local *rest.Config) (client.WithWatch, []clusters.Entry, error) {
	c, err := f.client()
	if err != nil {
		return nil, nil, err
	}
	entries, err := clusters.List(ctx, c, f.namespace, local)
	return c, entries, err
}

// serverVersion asks a cluster for its version within a few seconds.
func serverVersion(ctx context.Context, cfg *rest.Config) (string, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 5 * time.Second
	d, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return "", err
	}
	raw, err := d.RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return "", err
	}
	var v version.Info
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("read /version: %w", err)
	}
	return v.GitVersion, nil
}
