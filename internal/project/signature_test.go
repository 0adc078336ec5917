package project

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestSignatureKeys(t *testing.T) {
	p, err := New(&v1alpha1.AppProject{
		ObjectMeta: metav1.ObjectMeta{Namespace: "argocd", Name: "signed"},
		Spec:       v1alpha1.AppProjectSpec{SignatureKeys: []v1alpha1.SignatureKey{{KeyID: "4aee18f83afdeb23"}, {KeyID: "0123456789ABCDEF"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.SignatureKeys(), ","); got != "4AEE18F83AFDEB23,0123456789ABCDEF" {
		t.Errorf("SignatureKeys() = %s", got)
	}
	_, err = New(&v1alpha1.AppProject{
		ObjectMeta: metav1.ObjectMeta{Namespace: "argocd", Name: "bad"},
		Spec:       v1alpha1.AppProjectSpec{SignatureKeys: []v1alpha1.SignatureKey{{KeyID: "3AFDEB23"}, {KeyID: "zzzzzzzzzzzzzzzz"}}},
	})
	for _, want := range []string{`spec.signatureKeys[0].keyID "3AFDEB23": not a key ID`, `spec.signatureKeys[1].keyID "zzzzzzzzzzzzzzzz"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
