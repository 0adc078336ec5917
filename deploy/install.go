package deploy

import (
	"fmt"
	"regexp"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// ImageRepository is where tether's container images are published.
const ImageRepository = "ghcr.io/tether-gitops/tether"

// Ports of the controller in its pod.
const (
	WebhookPort = 8080
	HealthPort  = 8081
	MetricsPort = 8082
)

// CacheDir is the controller's Git cache in its pod (an emptyDir).
const CacheDir = "/var/cache/tether"

// Options shape the controller's manifests.
type Options struct {
	// Namespace is tether's own namespace (repository and cluster Secrets,
	// AppProjects), created by the manifests. Default "argocd".
	Namespace string
	// AppNamespaces are watched for Applications. Default: Namespace.
	AppNamespaces []string
	// Image is the controller's container image.
	Image string
	// Replicas of the controller (default 1): one leads, the others stand
	// by.
	Replicas int32
	// SyncImpersonation adds --sync-impersonation to the controller's
	// arguments.
	SyncImpersonation bool
}

// releaseVersion is a tagged release's version (not git describe's
// "v1.2.3-4-gabcdef1" between tags, nor "-dirty").
var releaseVersion = regexp.MustCompile(`^v\d+\.\d+\.\d+(-(alpha|beta|rc)\.?\d+)?$`)

// DefaultImage is the image of a build: its own version's tag for a
// release ("v1.2.3"), else "latest".
func DefaultImage(version string) string {
	tag := "latest"
	if releaseVersion.MatchString(version) {
		tag = version
	}
	return ImageRepository + ":" + tag
}

// Validate names the option (by its flag) that cannot work.
func (o Options) Validate() error {
	if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
		return fmt.Errorf("--namespace %q: %s", o.Namespace, strings.Join(errs, "; "))
	}
	for _, ns := range o.AppNamespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return fmt.Errorf("--app-namespaces: %q: %s", ns, strings.Join(errs, "; "))
		}
	}
	if o.Replicas < 0 {
		return fmt.Errorf("--replicas %d: must be 1 or more", o.Replicas)
	}
	if strings.TrimSpace(o.Image) == "" || strings.ContainsAny(o.Image, " \t\n") {
		return fmt.Errorf("--image %q: not an image reference", o.Image)
	}
	return nil
}

// Install returns everything `tether install` prints: the CRDs, then the
// controller's manifests.
func Install(o Options) ([]byte, error) {
	crds, err := CRDs()
	if err != nil {
		return nil, err
	}
	ctl, err := Controller(o)
	if err != nil {
		return nil, err
	}
	return append(crds, ctl...), nil
}

// Controller returns the manifests that run tether's controller in a
// cluster: its namespace, service account, cluster role and binding,
// Deployment and Service, as one multi-document YAML stream (the CRDs
// are separate: CRDs()).
func Controller(o Options) ([]byte, error) {
	if o.Namespace == "" {
		o.Namespace = "argocd"
	}
	if len(o.AppNamespaces) == 0 {
		o.AppNamespaces = []string{o.Namespace}
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var out []byte
	for _, obj := range controllerObjects(o) {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return nil, err
		}
		tidy(u)
		b, err := yaml.Marshal(u)
		if err != nil {
			return nil, err
		}
		out = append(out, "---\n"...)
		out = append(out, b...)
	}
	return out, nil
}

// tidy drops what a typed object carries empty: status and null
// timestamps.
func tidy(u map[string]any) {
	delete(u, "status")
	for _, path := range [][]string{{"metadata"}, {"spec", "template", "metadata"}} {
		m := u
		for _, k := range path {
			next, ok := m[k].(map[string]any)
			if !ok {
				m = nil
				break
			}
			m = next
		}
		if m != nil && m["creationTimestamp"] == nil {
			delete(m, "creationTimestamp")
		}
	}
	if spec, ok := u["spec"].(map[string]any); ok && len(spec) == 0 {
		delete(u, "spec")
	}
}

func controllerObjects(o Options) []runtime.Object {
	labels := map[string]string{"app.kubernetes.io/name": "tether", "app.kubernetes.io/component": "controller"}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: labels}
	}
	// Cluster-scoped names carry the namespace, so installs in two
	// namespaces do not take each other's role.
	clusterName := "tether-" + o.Namespace
	ns := &corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: metav1.ObjectMeta{Name: o.Namespace}}
	sa := &corev1.ServiceAccount{TypeMeta: typeMeta("v1", "ServiceAccount"), ObjectMeta: meta("tether")}
	role := &rbacv1.ClusterRole{
		TypeMeta:   typeMeta("rbac.authorization.k8s.io/v1", "ClusterRole"),
		ObjectMeta: metav1.ObjectMeta{Name: clusterName, Labels: labels},
		Rules: []rbacv1.PolicyRule{
			// Git decides what is applied, of any kind, in any namespace; the
			// AppProjects fence it in (docs/projects.md).
			{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
			{NonResourceURLs: []string{"*"}, Verbs: []string{"get"}},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		TypeMeta:   typeMeta("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
		ObjectMeta: metav1.ObjectMeta{Name: clusterName, Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterName},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: o.Namespace}},
	}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("health")}},
			PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 3,
		}
	}
	liveness := probe("/healthz")
	liveness.InitialDelaySeconds = 10
	args := []string{
		"controller",
		"--namespace=" + o.Namespace,
		"--app-namespaces=" + strings.Join(o.AppNamespaces, ","),
		"--cache-dir=" + CacheDir,
		fmt.Sprintf("--webhook-addr=:%d", WebhookPort),
		fmt.Sprintf("--health-addr=:%d", HealthPort),
		fmt.Sprintf("--metrics-addr=:%d", MetricsPort),
		"--leader-elect",
	}
	if o.SyncImpersonation {
		args = append(args, "--sync-impersonation")
	}
	container := corev1.Container{
		Name:  "controller",
		Image: o.Image,
		Args:  args,
		Env:   []corev1.EnvVar{{Name: "HOME", Value: "/tmp"}},
		Ports: []corev1.ContainerPort{
			{Name: "webhook", ContainerPort: WebhookPort, Protocol: corev1.ProtocolTCP},
			{Name: "health", ContainerPort: HealthPort, Protocol: corev1.ProtocolTCP},
			{Name: "metrics", ContainerPort: MetricsPort, Protocol: corev1.ProtocolTCP},
		},
		ReadinessProbe: probe("/readyz"),
		LivenessProbe:  liveness,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			// The controller sets its Go memory limit to 90% of this.
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
		},
		VolumeMounts: []corev1.VolumeMount{{Name: "cache", MountPath: CacheDir}, {Name: "tmp", MountPath: "/tmp"}},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
	deployment := &appsv1.Deployment{
		TypeMeta:   typeMeta("apps/v1", "Deployment"),
		ObjectMeta: meta("tether"),
		Spec: appsv1.DeploymentSpec{
			// Replicas elect a leader that alone reconciles; a standby is
			// ready (caches listed), so an update starts the new pod first
			// and the old one hands over the Lease as it stops.
			Replicas: ptr.To(o.Replicas),
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: ptr.To(intstr.FromInt32(0)),
					MaxSurge:       ptr.To(intstr.FromInt32(1)),
				},
			},
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: sa.Name,
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						RunAsUser:      ptr.To[int64](65532),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{container},
					Volumes: []corev1.Volume{
						{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
						{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	}
	service := &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: meta("tether"),
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports: []corev1.ServicePort{
				{Name: "webhook", Port: WebhookPort, TargetPort: intstr.FromString("webhook"), Protocol: corev1.ProtocolTCP},
				{Name: "metrics", Port: MetricsPort, TargetPort: intstr.FromString("metrics"), Protocol: corev1.ProtocolTCP},
			},
		},
	}
	return []runtime.Object{ns, sa, role, binding, deployment, service}
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}
