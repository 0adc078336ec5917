package cli

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// managerAccount is the ServiceAccount `tether cluster add --service-account`
// creates in the destination cluster.
const (
	managerAccount   = "tether-manager"
	managerNamespace = "kube-system"
)

// serviceAccountConfig creates (or reuses) the tether-manager ServiceAccount
// with cluster-admin in the cluster of cfg and returns a config that
// authenticates with its long-lived token instead of the person's own
// credentials (which may be short-lived or come from an exec plugin).
func serviceAccountConfig(ctx context.Context, cfg *rest.Config) (*rest.Config, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: managerAccount, Namespace: managerNamespace}}
	if _, err := cs.CoreV1().ServiceAccounts(managerNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("ServiceAccount %s/%s: create: %w", managerNamespace, managerAccount, err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: managerAccount},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: managerAccount, Namespace: managerNamespace}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("ClusterRoleBinding %s: create: %w", managerAccount, err)
	}
	tokenName := managerAccount + "-token"
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: tokenName, Namespace: managerNamespace,
			Annotations: map[string]string{corev1.ServiceAccountNameKey: managerAccount}},
		Type: corev1.SecretTypeServiceAccountToken,
	}
	if _, err := cs.CoreV1().Secrets(managerNamespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create Secret %s/%s: %w", managerNamespace, tokenName, err)
	}
	var token, ca []byte
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		s, err := cs.CoreV1().Secrets(managerNamespace).Get(ctx, tokenName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		token, ca = s.Data[corev1.ServiceAccountTokenKey], s.Data[corev1.ServiceAccountRootCAKey]
		return len(token) > 0, nil
	})
	if err != nil {
		return nil, fmt.Errorf("no token was issued in Secret %s/%s for ServiceAccount %s (is the controller-manager's token controller running?): %w", managerNamespace, tokenName, managerAccount, err)
	}
	out := &rest.Config{Host: cfg.Host, BearerToken: string(token)}
	out.Insecure, out.ServerName = cfg.Insecure, cfg.ServerName
	switch {
	case cfg.Insecure:
	case len(cfg.CAData) > 0:
		out.CAData = cfg.CAData
	default:
		out.CAData = ca
	}
	return out, nil
}
