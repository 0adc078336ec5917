package controller

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/webhook"
)

// WebhookPath is where Git servers post their push events, as for Argo CD.
const WebhookPath = "/api/webhook"

// webhookSecret is the Secret holding the webhook secrets, in tether's
// namespace, under Argo CD's name and keys.
const webhookSecret = "argocd-secret"

// maxWebhookBody bounds a push event (GitHub sends at most 25 MB).
const maxWebhookBody = 25 << 20

// serveWebhooks runs the webhook endpoint on addr until ctx ends, over
// HTTPS when cert is set.
func (r *Reconciler) serveWebhooks(ctx context.Context, addr string, cert *servingCert) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("webhook endpoint %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle(WebhookPath, r.webhookHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	scheme := "http"
	if cert != nil {
		scheme = "https"
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cert.GetCertificate}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	slog.Info("webhook endpoint listening", "addr", ln.Addr().String(), "path", WebhookPath, "scheme", scheme)
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// webhookHandler answers push events: the apps that follow the pushed
// branch or tag of the repository are compared at once, with a fresh
// listing of the repository's refs.
func (r *Reconciler) webhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "webhook: POST a push event", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, maxWebhookBody+1))
		if err != nil {
			http.Error(w, "webhook: read the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		if len(body) > maxWebhookBody {
			http.Error(w, fmt.Sprintf("webhook: the body is larger than %d bytes", maxWebhookBody), http.StatusRequestEntityTooLarge)
			return
		}
		secrets, err := r.webhookSecrets(req.Context())
		if err != nil {
			slog.Warn("webhook: read the secrets", "secret", webhookSecret, "error", err.Error())
			http.Error(w, "webhook: the secrets cannot be read now", http.StatusServiceUnavailable)
			return
		}
		push, err := webhook.Parse(req.Header, body, secrets)
		var refused *webhook.Error
		switch {
		case errors.Is(err, webhook.ErrIgnored):
			r.metrics.webhook(webhook.Provider(req.Header), "ignored")
			_, _ = io.WriteString(w, "ignored: not a push event\n")
			return
		case errors.As(err, &refused):
			r.metrics.webhook(webhook.Provider(req.Header), "refused")
			slog.Warn("webhook refused", "remote", req.RemoteAddr, "reason", refused.Msg)
			http.Error(w, "webhook: "+refused.Msg, refused.Status)
			return
		case err != nil:
			http.Error(w, "webhook: "+err.Error(), http.StatusBadRequest)
			return
		}
		apps, err := r.refreshPushed(req.Context(), push)
		if err != nil {
			r.metrics.webhook(push.Provider, "failed")
			http.Error(w, "webhook: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		r.metrics.webhook(push.Provider, "refreshed")
		slog.Info("webhook push", "provider", push.Provider, "repository", push.URLs[0], "refs", push.Refs, "apps", len(apps))
		_, _ = fmt.Fprintf(w, "refreshed %d applications\n", len(apps))
	})
}

// webhookSecrets reads argocd-secret; none means no checks.
func (r *Reconciler) webhookSecrets(ctx context.Context) (map[string][]byte, error) {
	var s corev1.Secret
	err := r.apiReader.Get(ctx, client.ObjectKey{Namespace: r.opts.Namespace, Name: webhookSecret}, &s)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.Data, nil
}

// refreshPushed compares at once every app with a Git source of the pushed
// repository that follows a pushed ref; each such repository's refs are
// listed anew once, for all its apps.
func (r *Reconciler) refreshPushed(ctx context.Context, push *webhook.Push) ([]types.NamespacedName, error) {
	var apps []types.NamespacedName
	expired := map[string]bool{}
	for _, ns := range r.opts.AppNamespaces {
		var list v1alpha1.ApplicationList
		if err := r.listApps(ctx, ns, &list); err != nil {
			return nil, fmt.Errorf("list applications in %s: %w", ns, err)
		}
		for i := range list.Items {
			a := &list.Items[i]
			hit := false
			for _, f := range appSources(a) {
				if f.src.Chart != "" || !push.Names(f.src.RepoURL) || !push.Wants(f.src.TargetRevision) {
					continue // a chart, or another repository or ref
				}
				hit = true
				if !expired[f.src.RepoURL] {
					r.sources.Expire(f.src.RepoURL)
					expired[f.src.RepoURL] = true
				}
			}
			if hit {
				apps = append(apps, types.NamespacedName{Namespace: a.Namespace, Name: a.Name})
			}
		}
	}
	if r.isLeading() {
		for _, k := range apps {
			r.Wake(k.Namespace, k.Name)
		}
	} else if err := r.askRefresh(ctx, apps); err != nil {
		// A replica that does not reconcile asks the leader through the
		// API server: the refresh annotation, as `tether app get
		// --refresh` sets it.
		return nil, err
	}
	r.refreshPushedSets(ctx, push)
	return apps, nil
}

// annotationPatch is a merge patch setting one annotation (nil removes it).
func annotationPatch(key string, value any) client.Patch {
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{key: value}}})
	return client.RawPatch(types.MergePatchType, b)
}

// isLeading tells whether this replica reconciles.
func (r *Reconciler) isLeading() bool { return r.leading == nil || r.leading() }

// askRefresh sets the refresh annotation on apps, for the leader to see.
func (r *Reconciler) askRefresh(ctx context.Context, apps []types.NamespacedName) error {
	patch := annotationPatch(v1alpha1.RefreshAnnotation, "normal")
	for _, k := range apps {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationKind))
		u.SetNamespace(k.Namespace)
		u.SetName(k.Name)
		if err := r.client.Patch(ctx, u, patch); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("ask the leader to refresh %s: %w", k, err)
		}
	}
	return nil
}

// refreshPushedSets regenerates at once the ApplicationSets whose Git
// generators read the pushed ref of the repository.
func (r *Reconciler) refreshPushedSets(ctx context.Context, push *webhook.Push) {
	if r.wakeSets == nil {
		return
	}
	for _, ns := range r.opts.AppNamespaces {
		var sets v1alpha1.ApplicationSetList
		if err := r.client.List(ctx, &sets, client.InNamespace(ns)); err != nil {
			return // no ApplicationSet CRD, say
		}
		for i := range sets.Items {
			set := &sets.Items[i]
			hit := false
			for _, g := range gitGeneratorsOf(set) {
				if g.repoURL != "" && push.Names(g.repoURL) && push.Wants(g.revision) {
					r.sources.Expire(g.repoURL)
					hit = true
				}
			}
			if !hit {
				continue
			}
			if !r.isLeading() {
				if err := r.client.Patch(ctx, set, annotationPatch(AppSetRefreshAnnotation, "true")); err != nil {
					slog.Warn("webhook: ask the leader to regenerate an ApplicationSet", "set", set.Namespace+"/"+set.Name, "err", err.Error())
				}
				continue
			}
			select {
			case r.wakeSets <- event.TypedGenericEvent[client.Object]{Object: set.DeepCopy()}:
			default: // many already queued; the periodic requeue covers it
			}
		}
	}
}

// gitSource is a repository and the revision read from it.
type gitSource struct{ repoURL, revision string }
