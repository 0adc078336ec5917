package controller

import (
	"context"
	"net"
	"net/url"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/internal/source"
)

// Secret labels of Argo CD's repository credentials.
const (
	SecretTypeLabel     = "argocd.argoproj.io/secret-type"
	SecretTypeRepo      = "repository"
	SecretTypeRepoCreds = "repo-creds"
	knownHostsConfigMap = "argocd-ssh-known-hosts-cm"
	tlsCertsConfigMap   = "argocd-tls-certs-cm"
)

// credentials finds the credentials for repoURL: a `repository` Secret whose
// url equals it, else the `repo-creds` Secret with the longest url prefix.
func (r *Reconciler) credentials(ctx context.Context, repoURL string) (*source.Credentials, error) {
	var list corev1.SecretList
	if err := r.client.List(ctx, &list, client.InNamespace(r.opts.Namespace), client.HasLabels{SecretTypeLabel}); err != nil {
		return nil, err
	}
	var best *corev1.Secret
	bestLen := -1
	for i := range list.Items {
		s := &list.Items[i]
		url := string(s.Data["url"])
		switch s.Labels[SecretTypeLabel] {
		case SecretTypeRepo:
			if normalizeURL(url) == normalizeURL(repoURL) {
				best, bestLen = s, 1<<30
			}
		case SecretTypeRepoCreds:
			if strings.HasPrefix(normalizeURL(repoURL), normalizeURL(url)) && len(url) > bestLen {
				best, bestLen = s, len(url)
			}
		}
	}
	creds := &source.Credentials{}
	if best != nil {
		d := best.Data
		creds.Username = string(d["username"])
		creds.Password = string(d["password"])
		creds.BearerToken = string(d["bearerToken"])
		creds.SSHPrivateKey = d["sshPrivateKey"]
		creds.KnownHosts = d["sshKnownHosts"]
		creds.Insecure = string(d["insecure"]) == "true"
		creds.TLSClientCert = d["tlsClientCertData"]
		creds.TLSClientKey = d["tlsClientCertKey"]
	}
	if host := repoHost(repoURL); host != "" && !source.IsSSH(repoURL) {
		// Certificates trusted for the host, by host name (with or without
		// the port), as Argo CD keeps them.
		if cm := r.configMap(ctx, tlsCertsConfigMap); cm != nil {
			if pem, ok := cm.Data[host]; ok {
				creds.CAData = []byte(pem)
			} else if h, _, err := net.SplitHostPort(host); err == nil {
				creds.CAData = []byte(cm.Data[h])
			}
		}
	}
	if source.IsSSH(repoURL) && len(creds.KnownHosts) == 0 {
		if cm := r.configMap(ctx, knownHostsConfigMap); cm != nil {
			creds.KnownHosts = []byte(cm.Data["ssh_known_hosts"])
		}
	}
	return creds, nil
}

// configMap reads a ConfigMap of tether's namespace from the cache; nil
// when it does not exist or cannot be read within a few seconds (the
// first read starts the cache, which a missing permission would keep from
// ever filling).
func (r *Reconciler) configMap(ctx context.Context, name string) *corev1.ConfigMap {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var cm corev1.ConfigMap
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: r.opts.Namespace, Name: name}, &cm); err != nil {
		return nil
	}
	return &cm
}

// repoHost is the host[:port] of an http(s) or oci repository URL, or of
// a registry written without a scheme.
func repoHost(repoURL string) string {
	u := repoURL
	if !strings.Contains(u, "://") {
		u = "oci://" + u
	}
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.ToLower(p.Host)
}

func normalizeURL(u string) string {
	u = strings.TrimSpace(strings.ToLower(u))
	u = strings.TrimPrefix(u, "oci://") // OCI registries are written with and without it
	u = strings.TrimSuffix(u, "/")
	return strings.TrimSuffix(u, ".git")
}
