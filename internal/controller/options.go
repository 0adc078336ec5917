package controller

import (
	"errors"
	"time"
)

// Options configure the controller.
type Options struct {
	// AppNamespaces are the namespaces watched for Applications.
	AppNamespaces []string
	// Namespace is tether's own namespace: repository and cluster Secrets.
	Namespace string
	// PollInterval is how often each repository's refs are checked (with
	// up to 10% jitter); also the resync period of every app.
	PollInterval time.Duration
	// CacheDir holds the Git cache.
	CacheDir string
	// Workers is the number of apps reconciled at once.
	Workers int
	// MetricsAddr serves Prometheus metrics ("0" disables).
	MetricsAddr string
	// HealthAddr serves the probes /healthz and /readyz ("" or "0"
	// disables); /readyz answers 200 once the Application and AppProject
	// caches have listed their objects.
	HealthAddr string
	// PprofAddr serves Go's pprof profiles ("" or "0" disables).
	PprofAddr string
	// WebhookAddr serves the Git webhook endpoint /api/webhook ("" or "0"
	// disables).
	WebhookAddr string
	// WebhookTLSCert and WebhookTLSKey are PEM files: when set, the webhook
	// endpoint speaks HTTPS, reading the files again when they change.
	WebhookTLSCert, WebhookTLSKey string
	// OperationTimeout bounds each wait of a sync: a wave turning healthy,
	// a hook finishing.
	OperationTimeout time.Duration
	// LeaderElect makes replicas elect one leader (a Lease named
	// LeaderElectionID in Namespace) that alone reconciles; the others
	// keep their caches warm, answer probes and pass webhooks on.
	LeaderElect bool
	// SyncImpersonation makes every sync and deletion of an app act as the
	// service account its project's spec.destinationServiceAccounts names
	// for the app's destination (a sync without one fails).
	SyncImpersonation bool
	// StatusRefresh is how old status.reconciledAt may grow while nothing
	// else changes: an app in sync costs one status write per period.
	StatusRefresh time.Duration
}

// LeaderElectionID names the Lease replicas elect their leader with.
const LeaderElectionID = "tether-controller"

// DefaultOptions returns the defaults of `tether controller`.
func DefaultOptions() Options {
	return Options{
		AppNamespaces:    []string{"argocd"},
		Namespace:        "argocd",
		PollInterval:     3 * time.Minute,
		Workers:          8,
		MetricsAddr:      "0",
		StatusRefresh:    10 * time.Minute,
		OperationTimeout: 5 * time.Minute,
	}
}

// Validate reports options that cannot work together, naming the flags.
func (o Options) Validate() error {
	webhook := o.WebhookAddr != "" && o.WebhookAddr != "0"
	switch {
	case (o.WebhookTLSCert == "") != (o.WebhookTLSKey == ""):
		return errors.New("--webhook-tls-cert and --webhook-tls-key go together: set both or neither")
	case o.WebhookTLSCert != "" && !webhook:
		return errors.New("--webhook-tls-cert and --webhook-tls-key need --webhook-addr")
	}
	return nil
}
