package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/cluster"
	"github.com/tether-gitops/tether/internal/plan"
	gitsource "github.com/tether-gitops/tether/internal/source"
)

// Engine runs the comparison without a running controller, for the CLI
// (`tether app diff`): same source, render and plan code, objects read
// straight from the API server.
type Engine struct {
	r *Reconciler
}

// Comparison is what Engine.Compare found.
type Comparison struct {
	Revision string
	// Revisions and Types are those of an app's several sources.
	Revisions []string
	Types     []string
	Author    string
	Message   string
	Type      string
	Plan      *plan.Plan
}

// NewEngine builds an engine for cfg.
func NewEngine(cfg *rest.Config, opts Options) (*Engine, error) {
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, err
	}
	cc, err := cluster.New(cfg)
	if err != nil {
		return nil, err
	}
	if opts.CacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		opts.CacheDir = filepath.Join(dir, "tether-cli")
	}
	sources, err := gitsource.NewCache(gitsource.DefaultOptions(filepath.Join(opts.CacheDir, "git")))
	if err != nil {
		return nil, err
	}
	r := newReconciler(opts, c, c, cc, sources)
	r.diffs = true
	return &Engine{r: r}, nil
}

// Compare fetches the app and compares it with the cluster at revision
// (the app's targetRevision when empty) of its source at position
// (1-based; 0 for an app with one source).
func (e *Engine) Compare(ctx context.Context, key types.NamespacedName, revision string, position int) (*Comparison, error) {
	raw := &unstructured.Unstructured{}
	raw.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationKind))
	if err := e.r.client.Get(ctx, key, raw); err != nil {
		return nil, fmt.Errorf("application %s: %w", key, err)
	}
	app := &v1alpha1.Application{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw.Object, app); err != nil {
		return nil, fmt.Errorf("application %s: %w", key, err)
	}
	if msgs := e.r.validate(ctx, app, raw); len(msgs) > 0 {
		return nil, fmt.Errorf("application %s: %s", key, msgs[0])
	}
	pin, err := app.Spec.PinRevision(revision, position)
	if err != nil {
		return nil, fmt.Errorf("application %s: %w", key, err)
	}
	pin.Prune = true
	op := &v1alpha1.Operation{Sync: &pin}
	c, err := e.r.compare(ctx, app, op, true)
	if c == nil {
		return nil, err
	}
	out := &Comparison{Revision: c.revisionKey(), Plan: c.plan}
	if c.multi {
		out.Revisions = c.revisions()
		for _, run := range c.runs {
			out.Types = append(out.Types, run.sourceType)
		}
		if s := c.newest(); s != nil {
			out.Author, out.Message = s.Author, s.Subject()
		}
	} else {
		out.Author, out.Message, out.Type = c.snapshot.Author, c.snapshot.Subject(), c.sourceType
	}
	return out, err
}
