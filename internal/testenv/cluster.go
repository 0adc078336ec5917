package testenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

var insecureClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// NodeName is the kwok node every cluster gets.
const NodeName = "kwok-node-0"

// Cluster is one apiserver (on the shared etcd, under its own prefix) with
// its controller-manager, scheduler and kwok.
type Cluster struct {
	cp         *ControlPlane
	name       string
	dir        string
	url        string
	port       int
	kubeconfig string

	apiserver, controllerManager, scheduler, kwok *process
}

// Name is the cluster's name, also its etcd prefix.
func (c *Cluster) Name() string { return c.name }

// URL is the apiserver's https address.
func (c *Cluster) URL() string { return c.url }

// KubeconfigPath is a kubeconfig file for this cluster (context = name).
func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// RESTConfig returns a fresh admin REST config for this cluster.
func (c *Cluster) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            c.url,
		BearerToken:     c.cp.token,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS:             500,
		Burst:           1000,
	}
}

// Clientset returns a typed client for this cluster.
func (c *Cluster) Clientset() *kubernetes.Clientset {
	return kubernetes.NewForConfigOrDie(c.RESTConfig())
}

func (c *Cluster) start(ctx context.Context) error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	if err := c.startAPIServer(ctx); err != nil {
		return err
	}
	if err := c.writeKubeconfig(); err != nil {
		return err
	}
	if err := c.startControllers(); err != nil {
		return err
	}
	return c.createNode(ctx)
}

// startAPIServer starts kube-apiserver, retrying on a taken port.
func (c *Cluster) startAPIServer(ctx context.Context) error {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := c.port
		if port == 0 || attempt > 0 {
			var err error
			if port, err = freePort(); err != nil {
				return err
			}
		}
		url := fmt.Sprintf("https://127.0.0.1:%d", port)
		args := []string{
			"--etcd-servers=" + c.cp.etcdURL,
			"--etcd-prefix=/" + c.name,
			"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
			fmt.Sprintf("--secure-port=%d", port),
			"--cert-dir=" + filepath.Join(c.dir, "certs"),
			"--token-auth-file=" + filepath.Join(c.cp.dir, "tokens.csv"),
			"--service-account-key-file=" + c.cp.saKey,
			"--service-account-signing-key-file=" + c.cp.saKey,
			"--service-account-issuer=https://kubernetes.default.svc",
			"--authorization-mode=RBAC",
			"--service-cluster-ip-range=10.96.0.0/16",
			"--allow-privileged=true",
			"--endpoint-reconciler-type=none",
			"--profiling=false",
		}
		args = append(args, strings.Fields(os.Getenv("TETHER_TESTENV_APISERVER_ARGS"))...)
		p, err := startProcess("kube-apiserver", c.cp.bin("kube-apiserver"), args, c.dir, c.cp.opts.Detach)
		if err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, c.cp.opts.StartTimeout)
		err = waitFor(sctx, p, "/readyz", func(ctx context.Context) error { return httpOK(ctx, url+"/readyz", c.cp.token) })
		cancel()
		if err == nil {
			c.apiserver, c.url, c.port = p, url, port
			return nil
		}
		p.stop(time.Second)
		lastErr = err
		if !p.addrInUse() {
			break
		}
	}
	return lastErr
}

func (c *Cluster) writeKubeconfig() error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[c.name] = &clientcmdapi.Cluster{Server: c.url, InsecureSkipTLSVerify: true}
	cfg.AuthInfos[c.name] = &clientcmdapi.AuthInfo{Token: c.cp.token}
	cfg.Contexts[c.name] = &clientcmdapi.Context{Cluster: c.name, AuthInfo: c.name, Namespace: "default"}
	cfg.CurrentContext = c.name
	c.kubeconfig = filepath.Join(c.dir, "kubeconfig")
	return clientcmd.WriteToFile(*cfg, c.kubeconfig)
}

// startControllers starts controller-manager, scheduler and kwok. None of
// them binds a fixed port: their serving ports are picked free.
func (c *Cluster) startControllers() error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	cm := []string{
		"--kubeconfig=" + c.kubeconfig,
		"--controllers=*,-nodeipam",
		"--leader-elect=false",
		"--service-account-private-key-file=" + c.cp.saKey,
		"--root-ca-file=" + filepath.Join(c.dir, "certs", "apiserver.crt"),
		"--use-service-account-credentials=false",
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", ports[0]),
		"--node-monitor-period=1s",
	}
	if c.controllerManager, err = startProcess("kube-controller-manager", c.cp.bin("kube-controller-manager"), cm, c.dir, c.cp.opts.Detach); err != nil {
		return err
	}
	sched := []string{
		"--kubeconfig=" + c.kubeconfig, "--leader-elect=false",
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", ports[1]),
	}
	if c.scheduler, err = startProcess("kube-scheduler", c.cp.bin("kube-scheduler"), sched, c.dir, c.cp.opts.Detach); err != nil {
		return err
	}
	kwok := []string{
		"--kubeconfig=" + c.kubeconfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-ip=127.0.0.1",
	}
	stages, err := c.cp.stageFiles()
	if err != nil {
		return err
	}
	for _, s := range stages {
		kwok = append(kwok, "--config="+s)
	}
	c.kwok, err = startProcess("kwok", c.cp.bin("kwok"), kwok, c.dir, c.cp.opts.Detach)
	return err
}

// createNode registers the kwok node and waits until it is Ready and free
// of the not-ready taint, so pods schedule at once.
func (c *Cluster) createNode(ctx context.Context) error {
	cs := c.Clientset()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"},
		},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("1000")},
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("1000")},
		},
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("node %s: create: %w", NodeName, err)
	}
	sctx, cancel := context.WithTimeout(ctx, c.cp.opts.StartTimeout)
	defer cancel()
	return waitFor(sctx, c.kwok, "node "+NodeName, func(ctx context.Context) error {
		for _, p := range []*process{c.controllerManager, c.scheduler} {
			if p.exited() {
				return p.diedError()
			}
		}
		n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		ready := false
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if !ready {
			return fmt.Errorf("node %s not Ready", NodeName)
		}
		for _, t := range n.Spec.Taints {
			if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
				return fmt.Errorf("node %s still has taint %s", NodeName, t.Key)
			}
		}
		return nil
	})
}

// Stop stops this cluster's processes (the shared etcd keeps its data).
func (c *Cluster) Stop() {
	for _, p := range []*process{c.kwok, c.scheduler, c.controllerManager, c.apiserver} {
		p.stop(5 * time.Second)
	}
}

// Restart starts a stopped cluster's processes again on the same data and,
// when it is still free, the same port, so its URL stays the same.
func (c *Cluster) Restart(ctx context.Context) error {
	c.Stop()
	return c.start(ctx)
}
