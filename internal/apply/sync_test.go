package apply

import (
	"errors"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/plan"
)

func item(name string, wave int, action plan.Action, opts ...string) plan.Item {
	o, err := plan.ParseSyncOptions(opts...)
	if err != nil {
		panic(err)
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace("ns")
	u.SetName(name)
	return plan.Item{Key: inventory.KeyOf(u), Desired: u, Wave: wave, Action: action, Options: o}
}

func TestFirstWrite(t *testing.T) {
	hook := item("hook", 0, plan.ActionHook)
	hook.Hook.Phases = []string{plan.HookPreSync}
	syncHook := item("synchook", -1, plan.ActionHook)
	syncHook.Hook.Phases = []string{plan.HookSync}
	cases := []struct {
		name  string
		items []plan.Item
		opts  SyncOptions
		want  int
	}{
		{"the first create", []plan.Item{item("a", 0, plan.ActionCreate), item("b", 0, plan.ActionCreate)}, SyncOptions{}, 0},
		{"unchanged objects are not written", []plan.Item{item("a", 0, plan.ActionUnchanged), item("b", 0, plan.ActionUpdate)}, SyncOptions{}, 1},
		{"the lowest wave", []plan.Item{item("a", -1, plan.ActionUnchanged), item("b", 1, plan.ActionCreate)}, SyncOptions{}, -1},
		{"a dry-run sync writes nothing", []plan.Item{item("a", 0, plan.ActionCreate)}, SyncOptions{DryRun: true}, -1},
		{"a namespace may be created first", []plan.Item{item("a", 0, plan.ActionCreate)}, SyncOptions{CreateNamespace: "ns"}, -1},
		{"PreSync hooks run first", []plan.Item{hook, item("a", 0, plan.ActionCreate)}, SyncOptions{}, -1},
		{"a wave of only Sync hooks runs first", []plan.Item{syncHook, item("a", 0, plan.ActionCreate)}, SyncOptions{}, -1},
		{"Replace=true is not a plain apply", []plan.Item{item("a", 0, plan.ActionCreate, "Replace=true")}, SyncOptions{}, -1},
		{"Force=true is not a plain apply", []plan.Item{item("a", 0, plan.ActionUpdate, "Force=true")}, SyncOptions{}, -1},
		{"prunes are not applied", []plan.Item{item("a", 0, plan.ActionPrune), item("b", 0, plan.ActionCreate)}, SyncOptions{}, 1},
		{"nothing to write", []plan.Item{item("a", 0, plan.ActionUnchanged)}, SyncOptions{}, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := firstWrite(&plan.Plan{Items: tc.items}, tc.opts); got != tc.want {
				t.Errorf("firstWrite = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestRejected(t *testing.T) {
	gr := schema.GroupResource{Resource: "configmaps"}
	missingNS := apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "ns")
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("connection refused"), false},
		{apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "x", nil), true},
		{apierrors.NewBadRequest("bad"), true},
		{apierrors.NewForbidden(gr, "x", errors.New("denied")), true},
		{fmt.Errorf("wrapped: %w", apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "x", nil)), true},
		{apierrors.NewConflict(gr, "x", errors.New("field manager conflict")), false},
		{apierrors.NewTooManyRequests("slow down", 1), false},
		{apierrors.NewTimeoutError("timeout", 1), false},
		{apierrors.NewInternalError(errors.New("etcd")), false},
		{missingNS, false},
	}
	for _, tc := range cases {
		if got := rejected(tc.err); got != tc.want {
			t.Errorf("rejected(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
