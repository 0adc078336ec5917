package controller

import (
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// pendingRetry is a failed sync waiting for its next attempt.
type pendingRetry struct {
	op    *v1alpha1.Operation
	count int64
	at    time.Time
}

// retryPolicy returns the retry strategy of an operation: its own, else the
// app's syncPolicy.retry.
func retryPolicy(app *v1alpha1.Application, op *v1alpha1.Operation) *v1alpha1.RetryStrategy {
	if op != nil && op.Retry != nil {
		return op.Retry
	}
	if app.Spec.SyncPolicy != nil {
		return app.Spec.SyncPolicy.Retry
	}
	return nil
}

// retryDelay is the wait before attempt n+1 (n >= 1): duration * factor^(n-1),
// capped at maxDuration; Argo CD's defaults are 5s, 2 and 3m.
func retryDelay(s *v1alpha1.RetryStrategy, n int64) time.Duration {
	base, factor, maxD := 5*time.Second, int64(2), 3*time.Minute
	if b := s.Backoff; b != nil {
		if d, err := time.ParseDuration(b.Duration); err == nil && d > 0 {
			base = d
		}
		if b.Factor != nil && *b.Factor > 0 {
			factor = *b.Factor
		}
		if d, err := time.ParseDuration(b.MaxDuration); err == nil && d > 0 {
			maxD = d
		}
	}
	d := base
	for i := int64(1); i < n && d < maxD; i++ {
		d *= time.Duration(factor)
	}
	return min(d, maxD)
}

// scheduleRetry records a failed sync for another attempt when the retry
// policy allows one; it returns the delay, or 0 when no retry follows.
func (r *Reconciler) scheduleRetry(app *v1alpha1.Application, op *v1alpha1.Operation, count int64) time.Duration {
	s := retryPolicy(app, op)
	if s == nil || (s.Limit >= 0 && count >= s.Limit) {
		r.clearRetry(app)
		return 0
	}
	d := retryDelay(s, count+1)
	r.mu.Lock()
	r.retries[types.NamespacedName{Namespace: app.Namespace, Name: app.Name}] = pendingRetry{op: op.DeepCopy(), count: count + 1, at: time.Now().Add(d)}
	r.mu.Unlock()
	return d
}

// dueRetry returns a pending retry; when it is not due yet, the wait.
func (r *Reconciler) dueRetry(app *v1alpha1.Application) (*pendingRetry, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.retries[types.NamespacedName{Namespace: app.Namespace, Name: app.Name}]
	if !ok {
		return nil, 0
	}
	if wait := time.Until(p.at); wait > 0 {
		return nil, wait
	}
	return &p, 0
}

func (r *Reconciler) clearRetry(app *v1alpha1.Application) {
	r.mu.Lock()
	delete(r.retries, types.NamespacedName{Namespace: app.Namespace, Name: app.Name})
	r.mu.Unlock()
}
