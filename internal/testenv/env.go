package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// shared is the control plane a test package's TestMain started.
var shared *ControlPlane

// Main starts a control plane, runs the package's tests and stops it. Use
// it as `func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }`.
func Main(m *testing.M) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	start := time.Now()
	cp, err := Start(ctx, DefaultOptions())
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv: start control plane:", err)
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "testenv: control plane ready in %s (%s)\n", time.Since(start).Round(time.Millisecond), cp.Default().URL())
	}
	shared = cp
	defer cp.Stop()
	return m.Run()
}

// Shared returns the control plane started by Main; it fails the test when
// there is none.
func Shared(t testing.TB) *ControlPlane {
	t.Helper()
	if shared == nil && testing.Short() {
		t.Skip("needs the local control plane; not run with -short")
	}
	if shared == nil {
		t.Fatal("testenv: no control plane: call testenv.Main from TestMain")
	}
	return shared
}

// Config returns an admin REST config for the default cluster.
func Config(t testing.TB) *rest.Config {
	return Shared(t).Default().RESTConfig()
}

// Namespace creates a fresh namespace in the default cluster for one test.
// It is deleted when the test ends; when the test failed, the tails of the
// control plane's logs are printed first.
func Namespace(t testing.TB) string {
	t.Helper()
	return NamespaceIn(t, Shared(t).Default())
}

// NamespaceIn creates a fresh namespace in the given cluster for one test.
func NamespaceIn(t testing.TB, c *Cluster) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.ToLower(fmt.Sprintf("t-%s-%s", shortName(t.Name()), hex.EncodeToString(b)))
	cs := c.Clientset()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"tether.dev/test": "true"}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("testenv: create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("control plane logs:\n%s", c.cp.LogTails(15))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	})
	return name
}

// shortName turns a test name into a DNS-label-safe fragment.
func shortName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
		if b.Len() >= 30 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}
