package controller

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/cluster"
	"github.com/tether-gitops/tether/internal/project"
	gitsource "github.com/tether-gitops/tether/internal/source"
)

// Scheme returns the scheme of the kinds the controller reads.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1alpha1.AddToScheme(s)
	return s
}

// New builds the controller manager for cfg. Start it with mgr.Start(ctx).
func New(cfg *rest.Config, opts Options) (manager.Manager, *Reconciler, error) {
	if err := opts.Validate(); err != nil {
		return nil, nil, err
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultOptions().PollInterval
	}
	if opts.StatusRefresh <= 0 {
		opts.StatusRefresh = DefaultOptions().StatusRefresh
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultOptions().Workers
	}
	if opts.CacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		opts.CacheDir = filepath.Join(dir, "tether")
	}
	namespaces := map[string]cache.Config{opts.Namespace: {}}
	for _, ns := range opts.AppNamespaces {
		namespaces[ns] = cache.Config{}
	}
	secretSel := labels.NewSelector()
	req, err := labels.NewRequirement(SecretTypeLabel, selection.Exists, nil)
	if err != nil {
		return nil, nil, err
	}
	secretSel = secretSel.Add(*req)
	mgr, err := ctrl.NewManager(cfg, manager.Options{
		Scheme:                 Scheme(),
		Metrics:                metricsserver.Options{BindAddress: opts.MetricsAddr},
		HealthProbeBindAddress: probeAddr(opts.HealthAddr),
		PprofBindAddress:       opts.PprofAddr,
		LeaderElection:         opts.LeaderElect,
		LeaderElectionID:       LeaderElectionID,
		// The Lease lives with tether's Secrets and projects.
		LeaderElectionNamespace: opts.Namespace,
		// A replica that stops hands over at once instead of after the
		// lease expires.
		LeaderElectionReleaseOnCancel: true,
		MapperProvider:                newKeptMapper,
		// Applications are read as unstructured objects (to see fields tether
		// does not know); serve those reads from the informer cache too.
		Client: client.Options{Cache: &client.CacheOptions{Unstructured: true}},
		Cache: cache.Options{
			// Nothing tether reads through this cache (Applications, AppProjects,
			// Secrets, namespace metadata) needs managedFields, which are about
			// half of a cached Application.
			DefaultTransform:  cache.TransformStripManagedFields(),
			DefaultNamespaces: namespaces,
			ByObject:          map[client.Object]cache.ByObject{&corev1.Secret{}: {Label: secretSel}},
		},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("controller manager: %w", err)
	}
	cc, err := cluster.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	sources, err := gitsource.NewCache(gitsource.DefaultOptions(filepath.Join(opts.CacheDir, "git")))
	if err != nil {
		return nil, nil, err
	}
	r := newReconciler(opts, mgr.GetClient(), mgr.GetAPIReader(), cc, sources)
	elected := mgr.Elected()
	r.leading = func() bool {
		select {
		case <-elected:
			return true
		default:
			return false
		}
	}
	r.recorder = mgr.GetEventRecorder("tether")
	r.wake = make(chan event.TypedGenericEvent[client.Object], 1024)
	r.wakeSets = make(chan event.TypedGenericEvent[client.Object], 64)
	if opts.MetricsAddr != "" && opts.MetricsAddr != "0" {
		r.metrics = newMetrics()
		if err := r.metrics.register(ctrlmetrics.Registry, r); err != nil {
			return nil, nil, fmt.Errorf("metrics: %w", err)
		}
	}
	r.targets.local.watcher = cluster.NewWatcher(cc, r.onObjectChange)
	r.targets.watch = func(c *cluster.Client) *cluster.Watcher { return cluster.NewWatcher(c, r.onObjectChange) }
	appObj := &unstructured.Unstructured{}
	appObj.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationKind))
	err = ctrl.NewControllerManagedBy(mgr).
		Named("application").
		For(appObj).
		WatchesRawSource(source.Channel(r.wake, &handler.EnqueueRequestForObject{})).
		Watches(&v1alpha1.AppProject{}, handler.EnqueueRequestsFromMapFunc(r.appsOfProject)).
		WithOptions(controller.Options{MaxConcurrentReconciles: opts.Workers, SkipNameValidation: ptr.To(true)}).
		Complete(r)
	if err != nil {
		return nil, nil, err
	}
	if err := addProbes(mgr, appObj, &v1alpha1.AppProject{}); err != nil {
		return nil, nil, err
	}
	if err := setupAppSets(mgr, r); err != nil {
		return nil, nil, err
	}
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		r.targets.local.watcher.Stop()
		r.targets.stopAll()
		return nil
	})); err != nil {
		return nil, nil, err
	}
	if addr := opts.WebhookAddr; addr != "" && addr != "0" {
		var cert *servingCert
		if opts.WebhookTLSCert != "" {
			if cert, err = newServingCert(opts.WebhookTLSCert, opts.WebhookTLSKey); err != nil {
				return nil, nil, fmt.Errorf("webhook endpoint: %w", err)
			}
		}
		if err := mgr.Add(everyReplica(func(ctx context.Context) error { return r.serveWebhooks(ctx, addr, cert) })); err != nil {
			return nil, nil, err
		}
	}
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		return ensureDefaultProjects(ctx, mgr.GetAPIReader(), mgr.GetClient(), []string{opts.Namespace})
	})); err != nil {
		return nil, nil, err
	}
	return mgr, r, nil
}

// everyReplica is a runnable that runs whether or not its replica leads.
type everyReplica func(ctx context.Context) error

func (f everyReplica) Start(ctx context.Context) error { return f(ctx) }
func (everyReplica) NeedLeaderElection() bool          { return false }

// probeAddr is the manager's health probe address for --health-addr:
// "0" (off) when empty.
func probeAddr(addr string) string {
	if addr == "" {
		return "0"
	}
	return addr
}

// ensureDefaultProjects creates the allow-everything "default" AppProject
// in tether's namespace when it is missing, as users expect. (Projects
// live in tether's namespace; Applications of other namespaces use them
// when the project's sourceNamespaces allow.)
func ensureDefaultProjects(ctx context.Context, rd client.Reader, c client.Client, namespaces []string) error {
	pending := append([]string(nil), namespaces...)
	warned := false
	for len(pending) > 0 {
		var left []string
		for _, ns := range pending {
			if err := ensureDefaultProject(ctx, rd, c, ns); err != nil {
				left = append(left, ns)
				if !warned {
					slog.Warn("the default AppProject cannot be created yet; trying again", "namespace", ns, "err", err)
					warned = true
				}
			}
		}
		pending = left
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second): // the CRD or the namespace may come later
		}
	}
	<-ctx.Done()
	return nil
}

func ensureDefaultProject(ctx context.Context, rd client.Reader, c client.Client, ns string) error {
	var p v1alpha1.AppProject
	err := rd.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.DefaultProject}, &p)
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return err
	}
	if err := c.Create(ctx, project.Default(ns)); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("AppProject %s/default: create: %w", ns, err)
	}
	return nil
}
