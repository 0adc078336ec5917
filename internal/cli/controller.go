package cli

import (
	"log/slog"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tether-gitops/tether/internal/controller"
)

func newControllerCmd(k *kubeFlags) *cobra.Command {
	opts := controller.DefaultOptions()
	var appNamespaces string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run the GitOps controller against the cluster of the kubeconfig (or in-cluster)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			slog.SetDefault(logger)
			log.SetLogger(logr.FromSlogHandler(logger.Handler()))
			opts.AppNamespaces = splitList(appNamespaces)
			cfg, err := k.restConfig()
			if err != nil {
				return err
			}
			mgr, _, err := controller.New(cfg, opts)
			if err != nil {
				return err
			}
			logger.Info("tether controller starting", "appNamespaces", opts.AppNamespaces, "namespace", opts.Namespace, "pollInterval", opts.PollInterval.String())
			return mgr.Start(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&appNamespaces, "app-namespaces", strings.Join(opts.AppNamespaces, ","), "comma-separated namespaces watched for Applications")
	f.StringVar(&opts.Namespace, "namespace", opts.Namespace, "tether's own namespace, holding repository Secrets")
	f.DurationVar(&opts.PollInterval, "poll-interval", opts.PollInterval, "how often each repository's refs are checked (with jitter)")
	f.StringVar(&opts.CacheDir, "cache-dir", "", "directory of the Git cache (default: the user cache directory)")
	f.DurationVar(&opts.OperationTimeout, "operation-timeout", opts.OperationTimeout, "how long a sync waits for a wave to turn healthy or a hook to finish")
	f.IntVar(&opts.Workers, "workers", opts.Workers, "apps reconciled at once")
	f.StringVar(&opts.MetricsAddr, "metrics-addr", opts.MetricsAddr, "address of the Prometheus metrics endpoint (0 disables)")
	f.StringVar(&opts.PprofAddr, "pprof-addr", "", "address of Go's pprof profiles, for performance work (empty disables)")
	f.BoolVarP(&verbose, "verbose", "v", false, "log every applied object")
	return cmd
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
