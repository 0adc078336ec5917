package e2e

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// TestSignedCommitsOnly: a project with signatureKeys syncs only commits
// signed by one of its keys (public keys in argocd-gpg-keys-cm). An
// unsigned commit and a commit signed by another key are refused with a
// ComparisonError naming the commit, the key and the project, and the
// last signed state stays.
func TestSignedCommitsOnly(t *testing.T) {
	e := startTether(t)
	ctx := context.Background()
	ada, err := gitserver.NewSigningKey("Ada", "ada@example.test")
	if err != nil {
		t.Fatal(err)
	}
	mallory, err := gitserver.NewSigningKey("Mallory", "mallory@example.test")
	if err != nil {
		t.Fatal(err)
	}
	// Mallory's key is known to tether, but not allowed by the project.
	if _, err := kube(t).CoreV1().ConfigMaps(e.ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: controller.GPGKeysConfigMap},
		Data:       map[string]string{ada.ID: ada.Public, mallory.ID: mallory.Public},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.createProject(t, "team-a", v1alpha1.AppProjectSpec{
		SourceRepos:   []string{"*"},
		Destinations:  []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}},
		SignatureKeys: []v1alpha1.SignatureKey{{KeyID: strings.ToLower(ada.ID)}},
	})
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("signed", "v1")})
	unsigned, err := repo.Commit("main", map[string]string{"app/extra.yaml": cmYAML("extra", "v1")}, nil, "unsigned")
	if err != nil {
		t.Fatal(err)
	}
	e.createProjectApp(t, "app", "app", "server: https://kubernetes.default.svc", repo.HTTPURL(), dest)
	e.waitApp(t, "app", "refused: the commit is not signed", hasCondition(v1alpha1.ConditionComparisonError, "revision "+unsigned+" of "+repo.HTTPURL()+" is not signed; project team-a allows only commits signed by one of its signatureKeys ("+ada.ID+")"))
	if configMap(t, dest, "signed") != nil {
		t.Fatal("an unsigned commit was applied")
	}

	signed, err := repo.CommitSigned(ada, "main", "signed by Ada")
	if err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "app")
	e.waitApp(t, "app", "the signed commit synced", syncedHealthy(signed))
	if configMap(t, dest, "extra") == nil {
		t.Fatal("the signed commit's objects were not applied")
	}

	if _, err := repo.Commit("main", map[string]string{"app/cm.yaml": cmYAML("signed", "v2")}, nil, "unsigned again"); err != nil {
		t.Fatal(err)
	}
	byMallory, err := repo.CommitSigned(mallory, "main", "signed by Mallory")
	if err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "app")
	e.waitApp(t, "app", "refused: signed by a key the project does not allow", hasCondition(v1alpha1.ConditionComparisonError, "revision "+byMallory+" of "+repo.HTTPURL()+" is signed with key "+mallory.ID+", which is not one of project team-a's signatureKeys ("+ada.ID+")"))
	if cm := configMap(t, dest, "signed"); cm == nil || cm.Data["value"] != "v1" {
		t.Fatalf("the last signed state was not kept: %v", cm)
	}
	if a := e.app(t, "app"); a.Status.Sync.Revision != signed {
		t.Fatalf("sync.revision %s, want the signed %s", a.Status.Sync.Revision, signed)
	}

	// A key filed under the wrong ID, and an entry that is not a key, are
	// named with the ConfigMap.
	keys, err := kube(t).CoreV1().ConfigMaps(e.ns).Get(ctx, controller.GPGKeysConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keys.Data[ada.ID] = mallory.Public
	if keys, err = kube(t).CoreV1().ConfigMaps(e.ns).Update(ctx, keys, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "app")
	e.waitApp(t, "app", "the misfiled key named", hasCondition(v1alpha1.ConditionComparisonError, "ConfigMap "+e.ns+"/"+controller.GPGKeysConfigMap+": entry "+ada.ID+" holds the key "+mallory.ID+", not key "+ada.ID))
	keys.Data[ada.ID] = "not a key"
	if _, err := kube(t).CoreV1().ConfigMaps(e.ns).Update(ctx, keys, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "app")
	e.waitApp(t, "app", "the broken entry named", hasCondition(v1alpha1.ConditionComparisonError, "ConfigMap "+e.ns+"/"+controller.GPGKeysConfigMap+": entry "+ada.ID+": not an armored OpenPGP public key"))
}
