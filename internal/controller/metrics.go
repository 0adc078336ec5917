package controller

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// Metrics of Applications under the names Argo CD's application controller
// uses, so dashboards and alerts made for it work (served at
// --metrics-addr, /metrics).
var (
	appInfoDesc = prometheus.NewDesc("argocd_app_info",
		"Information about an Application: 1 for each app, its sync and health status in the labels.",
		[]string{"namespace", "name", "project", "autosync_enabled", "repo", "dest_server", "dest_namespace", "sync_status", "health_status", "operation"}, nil)
	appConditionDesc = prometheus.NewDesc("argocd_app_condition",
		"The conditions an Application has: 1 for each.",
		[]string{"namespace", "name", "project", "condition"}, nil)
)

// metrics are the counters and histograms tether updates as it works.
type metrics struct {
	syncs      *prometheus.CounterVec
	reconciles *prometheus.HistogramVec
	webhooks   *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "argocd_app_sync_total",
			Help: "Syncs finished, by app and phase (Succeeded, Failed, Error).",
		}, []string{"namespace", "name", "project", "dest_server", "phase"}),
		reconciles: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "argocd_app_reconcile",
			Help:    "Seconds a reconcile of an Application took.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16},
		}, []string{"namespace", "dest_server"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tether_webhook_requests_total",
			Help: "Webhook requests, by provider and result (refreshed, ignored, refused, failed).",
		}, []string{"provider", "result"}),
	}
}

// register adds the metrics and the Application collector to reg.
func (m *metrics) register(reg prometheus.Registerer, r *Reconciler) error {
	for _, c := range []prometheus.Collector{m.syncs, m.reconciles, m.webhooks, &appCollector{r: r}} {
		err := reg.Register(c)
		var dup prometheus.AlreadyRegisteredError
		if errors.As(err, &dup) {
			// An earlier controller of this process (tests start several):
			// the latest one reports.
			reg.Unregister(dup.ExistingCollector)
			err = reg.Register(c)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sync counts a finished sync (nothing while the metrics are off).
func (m *metrics) sync(app *v1alpha1.Application, phase string) {
	if m == nil {
		return
	}
	m.syncs.WithLabelValues(app.Namespace, app.Name, projectOf(app), destServer(app), phase).Inc()
}

// reconciled observes how long a reconcile took.
func (m *metrics) reconciled(app *v1alpha1.Application, took time.Duration) {
	if m == nil {
		return
	}
	m.reconciles.WithLabelValues(app.Namespace, destServer(app)).Observe(took.Seconds())
}

// webhook counts a webhook request.
func (m *metrics) webhook(provider, result string) {
	if m == nil {
		return
	}
	if provider == "" {
		provider = "unknown"
	}
	m.webhooks.WithLabelValues(provider, result).Inc()
}

// appCollector reports every Application of the watched namespaces, read
// from the informer cache at each scrape, so the figures are never stale
// and a deleted app is gone from them.
type appCollector struct{ r *Reconciler }

func (c *appCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- appInfoDesc
	ch <- appConditionDesc
}

func (c *appCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, ns := range c.r.opts.AppNamespaces {
		var list v1alpha1.ApplicationList
		if err := c.r.listApps(ctx, ns, &list); err != nil {
			slog.Warn("metrics: list applications", "namespace", ns, "error", err.Error())
			continue
		}
		for i := range list.Items {
			a := &list.Items[i]
			auto := a.Spec.SyncPolicy != nil && a.Spec.SyncPolicy.Automated.IsEnabled()
			op := ""
			if a.Operation != nil || (a.Status.OperationState != nil && a.Status.OperationState.Phase == v1alpha1.PhaseRunning) {
				op = "sync"
			}
			ch <- prometheus.MustNewConstMetric(appInfoDesc, prometheus.GaugeValue, 1,
				a.Namespace, a.Name, projectOf(a), boolLabel(auto), repoOf(a), destServer(a), a.Spec.Destination.Namespace,
				orUnknown(a.Status.Sync.Status), orUnknown(a.Status.Health.Status), op)
			for _, cond := range a.Status.Conditions {
				ch <- prometheus.MustNewConstMetric(appConditionDesc, prometheus.GaugeValue, 1, a.Namespace, a.Name, projectOf(a), cond.Type)
			}
		}
	}
}

// listApps lists the Applications of a namespace from the cache (read as
// unstructured objects, as the controller reads them); an app that does
// not decode is left out (its own status says why).
func (r *Reconciler) listApps(ctx context.Context, ns string, out *v1alpha1.ApplicationList) error {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationKind + "List"))
	if err := r.client.List(ctx, list, client.InNamespace(ns)); err != nil {
		return err
	}
	out.Items = out.Items[:0]
	for _, item := range list.Items {
		var a v1alpha1.Application
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &a); err == nil {
			out.Items = append(out.Items, a)
		}
	}
	return nil
}

func projectOf(a *v1alpha1.Application) string {
	if a.Spec.Project == "" {
		return v1alpha1.DefaultProject
	}
	return a.Spec.Project
}

func destServer(a *v1alpha1.Application) string {
	if a.Spec.Destination.Server != "" {
		return a.Spec.Destination.Server
	}
	if a.Spec.Destination.Name != "" {
		return a.Spec.Destination.Name
	}
	return v1alpha1.InClusterServer
}

// repoOf is the app's repository; the first one of several sources.
func repoOf(a *v1alpha1.Application) string {
	if srcs := appSources(a); len(srcs) > 0 {
		return srcs[0].src.RepoURL
	}
	return ""
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}
