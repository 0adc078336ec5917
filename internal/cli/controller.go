package cli

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tether-gitops/tether/internal/controller"
)

func newControllerCmd(k *kubeFlags) *cobra.Command {
	opts := controller.DefaultOptions()
	var appNamespaces, memoryLimit string
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
			if err := opts.Validate(); err != nil {
				return err
			}
			limit, from, err := setMemoryLimit(memoryLimit)
			if err != nil {
				return err
			}
			if limit > 0 {
				logger.Info("Go memory limit", "bytes", limit, "from", from)
			}
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
	f.StringVar(&opts.HealthAddr, "health-addr", "", "address of the probes /healthz (the process answers) and /readyz (the Application and AppProject caches have listed their objects), e.g. :8081 (empty disables)")
	f.StringVar(&opts.PprofAddr, "pprof-addr", "", "address of Go's pprof profiles, for performance work (empty disables)")
	f.StringVar(&opts.WebhookAddr, "webhook-addr", "", "address of the Git webhook endpoint "+controller.WebhookPath+", e.g. :8080 (empty disables): a push compares the apps that follow the pushed branch or tag at once")
	f.StringVar(&opts.WebhookTLSCert, "webhook-tls-cert", "", "PEM certificate (chain) file: the webhook endpoint speaks HTTPS; the file and the key are read again when they change")
	f.StringVar(&opts.WebhookTLSKey, "webhook-tls-key", "", "PEM private key file of --webhook-tls-cert")
	f.BoolVar(&opts.LeaderElect, "leader-elect", false, "elect one leader among replicas (Lease "+controller.LeaderElectionID+" in --namespace): only it reconciles; the others stay ready and pass webhooks on to it")
	f.BoolVar(&opts.SyncImpersonation, "sync-impersonation", false, "syncs and deletions of an app act as the service account its AppProject's spec.destinationServiceAccounts names for the app's destination (a sync to a destination without one fails)")
	f.StringVar(&memoryLimit, "memory-limit", "", "soft memory limit of the Go runtime (e.g. 256Mi; 0 for none): the garbage collector works harder as the heap nears it (default: $GOMEMLIMIT when set, else 90% of the container's memory limit when there is one)")
	f.BoolVarP(&verbose, "verbose", "v", false, "log every applied object")
	return cmd
}

// setMemoryLimit applies the --memory-limit flag and returns the limit in
// effect (0 for none) and where it comes from.
func setMemoryLimit(flag string) (int64, string, error) {
	if flag != "" {
		q, err := resource.ParseQuantity(flag)
		if err != nil || q.Sign() < 0 {
			return 0, "", fmt.Errorf("--memory-limit %q: not a memory quantity (e.g. 256Mi)", flag)
		}
		if q.IsZero() {
			debug.SetMemoryLimit(math.MaxInt64)
			return 0, "", nil
		}
		debug.SetMemoryLimit(q.Value())
		return q.Value(), "--memory-limit", nil
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT", nil // set by the runtime already
	}
	if c := containerMemoryLimit(); c > 0 {
		limit := c / 10 * 9
		debug.SetMemoryLimit(limit)
		return limit, "90% of the container's memory limit", nil
	}
	return 0, "", nil
}

// containerMemoryLimit reads the memory limit of the process's cgroup (v2,
// else v1) as a container sees it; 0 when there is none.
func containerMemoryLimit() int64 {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || v <= 0 || v >= 1<<50 { // "max", or v1's "unlimited" (close to MaxInt64)
			return 0
		}
		return v
	}
	return 0
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
