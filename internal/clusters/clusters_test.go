package clusters

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func secret(data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "argocd", Name: "c1", Labels: map[string]string{SecretTypeLabel: SecretTypeCluster, "env": "prod"}}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func TestFromSecretReadsArgoCDClusterSecrets(t *testing.T) {
	c, err := FromSecret(secret(map[string]string{
		"name":             "prod",
		"server":           "https://prod.example:6443/",
		"namespaces":       "b, a",
		"clusterResources": "true",
		"project":          "team-a",
		"config":           `{"bearerToken":"tok","tlsClientConfig":{"insecure":false,"caData":"Y2E=","serverName":"prod"}}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "prod" || c.Server != "https://prod.example:6443" || c.Project != "team-a" || !c.ClusterResources {
		t.Errorf("cluster = %+v", c)
	}
	if strings.Join(c.Namespaces, ",") != "a,b" {
		t.Errorf("namespaces = %v", c.Namespaces)
	}
	if c.Config.BearerToken != "tok" || string(c.Config.CAData) != "ca" || c.Config.ServerName != "prod" || c.Config.Timeout != RequestTimeout {
		t.Errorf("config = %+v", c.Config)
	}
	if c.Labels["env"] != "prod" || c.Secret.String() != "argocd/c1" {
		t.Errorf("labels %v, secret %v", c.Labels, c.Secret)
	}
	if err := c.PermitsNamespace("a"); err != nil {
		t.Error(err)
	}
	if err := c.PermitsNamespace("c"); err == nil || !strings.Contains(err.Error(), "limited to namespaces a,b, not c") {
		t.Errorf("namespace c: %v", err)
	}
	if err := c.PermitsNamespace(""); err != nil {
		t.Errorf("cluster-scoped with clusterResources: %v", err)
	}
}

func TestFromSecretErrorsNameTheFieldAndHideCredentials(t *testing.T) {
	cases := []struct {
		data map[string]string
		want string
	}{
		{map[string]string{"name": "x"}, "data.server is empty"},
		{map[string]string{"server": "prod.example"}, `data.server "prod.example" is not an http(s) URL`},
		{map[string]string{"server": "https://p", "config": `{"bearerToken": "s3cret", `}, "data.config is not valid: invalid JSON"},
		{map[string]string{"server": "https://p", "config": `{"bearerToken": 5}`}, "field bearerToken must be string, not number"},
		{map[string]string{"server": "https://p", "config": `{"bearerToken": "s3cret", "extra": 1}`}, `unknown field "extra"`},
		{map[string]string{"server": "https://p", "config": `{"execProviderConfig": {"command": "aws"}}`}, "execProviderConfig is not supported"},
		{map[string]string{"server": "https://p", "config": `{"awsAuthConfig": {"clusterName": "x"}}`}, "awsAuthConfig is not supported"},
		{map[string]string{"server": "https://p", "config": `{"tlsClientConfig": {"certData": "Y2E="}}`}, "needs both certData and keyData"},
	}
	for _, c := range cases {
		_, err := FromSecret(secret(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.data, err, c.want)
			continue
		}
		if !strings.Contains(err.Error(), "cluster Secret argocd/c1") {
			t.Errorf("error does not name the Secret: %v", err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows the token: %v", err)
		}
	}
}

func TestFindPicksByServerThenNameAndDefaultsToInCluster(t *testing.T) {
	prod, _ := FromSecret(secret(map[string]string{"name": "prod", "server": "https://prod:6443"}))
	entries := []Entry{{Cluster: InCluster(&rest.Config{})}, {Cluster: prod}}
	for _, c := range []struct {
		d    v1alpha1.ApplicationDestination
		want string
		err  string
	}{
		{v1alpha1.ApplicationDestination{Server: "https://prod:6443/"}, "prod", ""},
		{v1alpha1.ApplicationDestination{Name: "prod"}, "prod", ""},
		{v1alpha1.ApplicationDestination{Name: "in-cluster"}, "in-cluster", ""},
		{v1alpha1.ApplicationDestination{Namespace: "x"}, "in-cluster", ""},
		{v1alpha1.ApplicationDestination{Server: "https://nope"}, "", "spec.destination.server: cluster https://nope is not registered"},
		{v1alpha1.ApplicationDestination{Name: "nope"}, "", `spec.destination.name: cluster "nope" is not registered`},
		{v1alpha1.ApplicationDestination{Name: "prod", Server: "https://prod:6443"}, "", "set server or name, not both"},
	} {
		e, err := Find(entries, c.d)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: error %v, want %q", c.d, err, c.err)
			}
			continue
		}
		if err != nil || e.Name != c.want {
			t.Errorf("%+v: got %v, %v; want %s", c.d, e.Cluster, err, c.want)
		}
	}
}

func TestToSecretRoundTrips(t *testing.T) {
	cfg := &rest.Config{Host: "https://east:6443/", BearerToken: "tok", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca"), Insecure: false}}
	s, err := ToSecret("argocd", SecretName("East Cluster/1"), "east", cfg, map[string]string{"env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "cluster-east-cluster-1" || s.Labels[SecretTypeLabel] != SecretTypeCluster || s.Labels["env"] != "prod" {
		t.Errorf("secret meta = %+v", s.ObjectMeta)
	}
	c, err := FromSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "east" || c.Server != "https://east:6443" || c.Config.BearerToken != "tok" || string(c.Config.CAData) != "ca" {
		t.Errorf("round trip = %+v %+v", c, c.Config)
	}
	if _, err := ToSecret("argocd", "x", "x", &rest.Config{Host: "https://x", ExecProvider: nil, BearerTokenFile: "/tmp/t"}, nil); err == nil {
		t.Error("a token file was stored as a path")
	}
}
