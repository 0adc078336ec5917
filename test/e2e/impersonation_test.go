package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// TestSyncImpersonation runs tether with --sync-impersonation: a project's
// destinationServiceAccounts entry makes the syncs to its namespace act as
// a service account that may only manage ConfigMaps there. What the
// account may do is synced; what it may not (a Secret; tether itself could)
// fails naming the account; a destination without an entry fails naming
// the project; a registered cluster's Secret identity impersonates the
// account there; deleting an app deletes its objects as the account.
func TestSyncImpersonation(t *testing.T) {
	e := startTether(t, func(o *controller.Options) { o.SyncImpersonation = true })
	ctx := context.Background()
	dest, other := destNamespace(t), destNamespace(t)
	cs := kube(t)
	configMapDeployer(t, cs, dest)
	_, east, _ := threeClusters(t)
	registerCluster(t, e, "east", east, "")
	eastNS := testenv.NamespaceIn(t, east)
	configMapDeployer(t, east.Clientset(), eastNS)
	e.createProject(t, "team-a", v1alpha1.AppProjectSpec{
		SourceRepos:  []string{"*"},
		Destinations: []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}},
		DestinationServiceAccounts: []v1alpha1.ApplicationDestinationServiceAccount{
			{Server: "https://kubernetes.default.svc", Namespace: dest, DefaultServiceAccount: "deployer"},
			{Server: east.URL(), Namespace: eastNS, DefaultServiceAccount: "deployer"},
		},
	})
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"ok/cm.yaml":         cmYAML("as-deployer", "v1"),
		"secret/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: not-for-deployer}\nstringData: {k: v}\n",
	})
	user := "system:serviceaccount:" + dest + ":deployer"

	e.createProjectApp(t, "allowed", "ok", "server: https://kubernetes.default.svc", repo.HTTPURL(), dest)
	e.waitApp(t, "allowed", "Synced and Healthy as the service account", syncedHealthy(""))
	if configMap(t, dest, "as-deployer") == nil {
		t.Fatal("the ConfigMap was not applied")
	}

	failedWith := func(parts ...string) func(*v1alpha1.Application) bool {
		return func(a *v1alpha1.Application) bool {
			st := a.Status.OperationState
			if st == nil || (st.Phase != v1alpha1.PhaseFailed && st.Phase != v1alpha1.PhaseError) {
				return false
			}
			for _, p := range parts {
				if !strings.Contains(st.Message, p) {
					return false
				}
			}
			return true
		}
	}
	e.createProjectApp(t, "forbidden", "secret", "server: https://kubernetes.default.svc", repo.HTTPURL(), dest)
	a := e.waitApp(t, "forbidden", "the sync refused for the service account, naming it", failedWith(user, "secrets", "forbidden"))
	t.Logf("forbidden: %s", a.Status.OperationState.Message)
	if _, err := cs.CoreV1().Secrets(dest).Get(ctx, "not-for-deployer", metav1.GetOptions{}); err == nil {
		t.Fatal("the Secret was applied although the service account may not")
	}

	e.createProjectApp(t, "no-entry", "ok", "server: https://kubernetes.default.svc", repo.HTTPURL(), other)
	a = e.waitApp(t, "no-entry", "the sync failed naming the project and the destination", failedWith("project team-a", "spec.destinationServiceAccounts", `namespace "`+other+`"`))
	t.Logf("no entry: %s", a.Status.OperationState.Message)
	if configMap(t, other, "as-deployer") != nil {
		t.Fatal("an app without a service account for its destination was synced")
	}

	// On a cluster registered by a Secret, the Secret's identity
	// impersonates the account there.
	e.createProjectApp(t, "east-allowed", "ok", "name: east", repo.HTTPURL(), eastNS)
	e.waitApp(t, "east-allowed", "Synced and Healthy on east as its service account", syncedHealthy(""))
	if _, err := east.Clientset().CoreV1().ConfigMaps(eastNS).Get(ctx, "as-deployer", metav1.GetOptions{}); err != nil {
		t.Fatalf("the ConfigMap on east: %v", err)
	}
	e.createProjectApp(t, "east-forbidden", "secret", "name: east", repo.HTTPURL(), eastNS)
	e.waitApp(t, "east-forbidden", "the sync on east refused for its service account", failedWith("system:serviceaccount:"+eastNS+":deployer", "secrets", "forbidden"))

	// Deletion with the resources finalizer deletes as the account.
	app := e.app(t, "allowed")
	app.Finalizers = append(app.Finalizers, v1alpha1.ResourcesFinalizer)
	if err := e.c.Update(ctx, app); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Delete(ctx, app); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the app and its ConfigMap deleted", func(ctx context.Context) (bool, error) {
		return configMap(t, dest, "as-deployer") == nil, nil
	})
}

// configMapDeployer creates the service account "deployer" in ns, allowed
// to do anything with ConfigMaps there and nothing else.
func configMapDeployer(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	ctx := context.Background()
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "deployer"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "configmaps"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "deployer"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "configmaps"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "deployer", Namespace: ns}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
