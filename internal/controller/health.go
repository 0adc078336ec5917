package controller

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// addProbes serves /healthz (the process answers) and /readyz (the
// informers of the kinds tether reconciles have listed their objects, so
// an Application created now is reconciled at once) on the manager's
// health probe address.
func addProbes(mgr manager.Manager, kinds ...client.Object) error {
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	var ready atomic.Bool
	if err := mgr.AddReadyzCheck("caches", func(*http.Request) error {
		if !ready.Load() {
			return errors.New("the Application and AppProject caches have not listed their objects yet")
		}
		return nil
	}); err != nil {
		return err
	}
	// Every replica turns ready, leading or not, so a rolling update can
	// start the next one while the leader runs.
	return mgr.Add(everyReplica(func(ctx context.Context) error {
		waitForInformers(ctx, mgr, kinds)
		if ctx.Err() == nil {
			ready.Store(true)
		}
		<-ctx.Done()
		return nil
	}))
}

// waitForInformers returns once the manager's cache holds a synced
// informer for every kind (the same informers the controllers' sources
// use), trying again every 2 s while a kind's CRD is not installed.
func waitForInformers(ctx context.Context, mgr manager.Manager, kinds []client.Object) {
	warned := false
	for _, k := range kinds {
		for {
			_, err := mgr.GetCache().GetInformer(ctx, k) // blocks until its first listing
			if err == nil || ctx.Err() != nil {
				break
			}
			if !warned {
				slog.Warn("not ready: a kind tether reconciles cannot be watched yet; trying again", "err", err)
				warned = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
		}
	}
	mgr.GetCache().WaitForCacheSync(ctx)
}
