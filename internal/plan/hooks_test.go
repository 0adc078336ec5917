package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestHookReadsTheAnnotations(t *testing.T) {
	cases := []struct {
		name             string
		annotations      string
		phases, policies []string
		skip, postDelete bool
		err              string
	}{
		{"a regular object", `{}`, nil, nil, false, false, ""},
		{"PreSync, default policy", `{argocd.argoproj.io/hook: PreSync}`, []string{"PreSync"}, []string{"BeforeHookCreation"}, false, false, ""},
		{"PostDelete", `{argocd.argoproj.io/hook: PostDelete, argocd.argoproj.io/hook-delete-policy: HookSucceeded}`, []string{"PostDelete"}, []string{"HookSucceeded"}, false, true, ""},
		{"PostDelete and PostSync", `{argocd.argoproj.io/hook: "PostSync,PostDelete"}`, []string{"PostDelete", "PostSync"}, []string{"BeforeHookCreation"}, false, false, ""},
		{"Helm post-delete", `{helm.sh/hook: post-delete, helm.sh/hook-delete-policy: hook-failed}`, []string{"PostDelete"}, []string{"HookFailed"}, false, true, ""},
		{"Helm test hooks are skipped", `{helm.sh/hook: test}`, nil, nil, true, false, ""},
		{"Helm pre-delete is skipped", `{helm.sh/hook: pre-delete}`, nil, nil, true, false, ""},
		{"an unknown hook type", `{argocd.argoproj.io/hook: PreDelete}`, nil, nil, false, false, `unknown hook type "PreDelete"`},
		{"an unknown policy", `{argocd.argoproj.io/hook: PostDelete, argocd.argoproj.io/hook-delete-policy: Never}`, nil, nil, false, false, `unknown delete policy "Never"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := obj(t, `{apiVersion: batch/v1, kind: Job, metadata: {name: j, namespace: prod, annotations: `+tc.annotations+`}}`)
			h, err := Hook(u)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "Job") {
					t.Fatalf("error %v, want one naming the object and %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.phases, h.Phases); diff != "" {
				t.Errorf("phases (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.policies, h.DeletePolicies); diff != "" {
				t.Errorf("policies (-want +got):\n%s", diff)
			}
			if h.Skip != tc.skip || h.OnlyPostDelete() != tc.postDelete {
				t.Errorf("skip %v, only PostDelete %v; want %v, %v", h.Skip, h.OnlyPostDelete(), tc.skip, tc.postDelete)
			}
		})
	}
}

func TestPostDeleteHooksArePlannedAsHooks(t *testing.T) {
	hook := marked(t, `{apiVersion: batch/v1, kind: Job, metadata: {name: cleanup, namespace: prod, annotations: {argocd.argoproj.io/hook: PostDelete}}}`)
	cm := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: prod}}`)
	p, err := Make(Input{App: testApp, Desired: []*unstructured.Unstructured{hook, cm}})
	if err != nil {
		t.Fatal(err)
	}
	got := p.PostDeleteHooks()
	if len(got) != 1 || got[0].Key.Name != "cleanup" || got[0].Action != ActionHook {
		t.Fatalf("PostDelete hooks: %+v", got)
	}
	if p.Count(ActionCreate) != 1 {
		t.Errorf("the ConfigMap is planned as usual: %v", actions(p))
	}
}
