package project

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func projectWithAccounts(t *testing.T, list ...v1alpha1.ApplicationDestinationServiceAccount) (*Project, error) {
	t.Helper()
	return New(&v1alpha1.AppProject{
		ObjectMeta: metav1.ObjectMeta{Namespace: "argocd", Name: "team"},
		Spec:       v1alpha1.AppProjectSpec{DestinationServiceAccounts: list},
	})
}

func TestSyncUserTakesTheFirstMatchingEntry(t *testing.T) {
	p, err := projectWithAccounts(t,
		v1alpha1.ApplicationDestinationServiceAccount{Server: "https://kubernetes.default.svc", Namespace: "payments", DefaultServiceAccount: "payments-deployer"},
		v1alpha1.ApplicationDestinationServiceAccount{Server: "https://kubernetes.default.svc", Namespace: "team-*", DefaultServiceAccount: "gitops:team-deployer"},
		v1alpha1.ApplicationDestinationServiceAccount{Server: "*", Namespace: "*", DefaultServiceAccount: "gitops:fallback"},
		v1alpha1.ApplicationDestinationServiceAccount{Server: "https://kubernetes.default.svc", Namespace: "team-a", DefaultServiceAccount: "never-reached"},
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ server, ns, want string }{
		{"https://kubernetes.default.svc", "payments", "system:serviceaccount:payments:payments-deployer"},
		{"https://kubernetes.default.svc", "team-a", "system:serviceaccount:gitops:team-deployer"},
		{"https://prod.example:6443", "team-a", "system:serviceaccount:gitops:fallback"},
	} {
		got, err := p.SyncUser(tc.server, tc.ns)
		if err != nil || got != tc.want {
			t.Errorf("SyncUser(%s, %s) = %q, %v; want %q", tc.server, tc.ns, got, err, tc.want)
		}
	}
}

func TestSyncUserErrorsNameTheProjectAndDestination(t *testing.T) {
	p, err := projectWithAccounts(t,
		v1alpha1.ApplicationDestinationServiceAccount{Server: "https://kubernetes.default.svc", Namespace: "team-*", DefaultServiceAccount: "deployer"},
		v1alpha1.ApplicationDestinationServiceAccount{Server: "https://kubernetes.default.svc", Namespace: "", DefaultServiceAccount: "deployer"},
	)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.SyncUser("https://kubernetes.default.svc", "payments")
	if err == nil || !strings.Contains(err.Error(), "project team") || !strings.Contains(err.Error(), `namespace "payments"`) || !strings.Contains(err.Error(), "spec.destinationServiceAccounts") {
		t.Errorf("no entry: %v", err)
	}
	_, err = p.SyncUser("https://kubernetes.default.svc", "")
	if err == nil || !strings.Contains(err.Error(), "spec.destinationServiceAccounts[1]") || !strings.Contains(err.Error(), "NAMESPACE:deployer") {
		t.Errorf("no namespace to find the account in: %v", err)
	}
	none, err := projectWithAccounts(t)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := none.SyncUser("https://kubernetes.default.svc", "a"); err == nil {
		t.Error("a project without entries gave a user")
	}
}

func TestDestinationServiceAccountsAreValidated(t *testing.T) {
	_, err := projectWithAccounts(t,
		v1alpha1.ApplicationDestinationServiceAccount{Server: "", Namespace: "a", DefaultServiceAccount: "ok"},
		v1alpha1.ApplicationDestinationServiceAccount{Server: "*", Namespace: "!kube-system", DefaultServiceAccount: "ok"},
		v1alpha1.ApplicationDestinationServiceAccount{Server: "*", Namespace: "a", DefaultServiceAccount: ""},
		v1alpha1.ApplicationDestinationServiceAccount{Server: "*", Namespace: "a", DefaultServiceAccount: "Bad_NS:ok"},
		v1alpha1.ApplicationDestinationServiceAccount{Server: "*", Namespace: "a", DefaultServiceAccount: "ns:has space"},
	)
	if err == nil {
		t.Fatal("invalid entries accepted")
	}
	for _, want := range []string{
		`spec.destinationServiceAccounts[0].server "": is required`,
		`spec.destinationServiceAccounts[1].namespace "!kube-system": cannot be negated`,
		`spec.destinationServiceAccounts[2].defaultServiceAccount ""`,
		`spec.destinationServiceAccounts[3].defaultServiceAccount "Bad_NS:ok": namespace "Bad_NS"`,
		`spec.destinationServiceAccounts[4].defaultServiceAccount "ns:has space": service account name "has space"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
