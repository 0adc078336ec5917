package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The generators below write the same bytes as the shared gen-workload.sh:
//
//	gen-workload.sh w1 DIR            -> W1Files
//	gen-workload.sh w3 DIR N [NSOBJ]  -> W3Files
//	gen-workload.sh w1-bump DIR VALUE -> BumpW1
//
// Keys of the returned maps are slash-separated paths relative to DIR.

// W1Files is the W1 workload: w1/ with 20 objects in namespace w1, one
// Deployment "web" (2 replicas), one Service "web" and 18 ConfigMaps
// cm-00..cm-17 of about 1 KB each.
func W1Files() map[string]string {
	files := map[string]string{
		"w1/deployment.yaml": w1Deployment,
		"w1/service.yaml":    w1Service,
	}
	filler := strings.Repeat("x", 960)
	for i := 0; i < 18; i++ {
		id := fmt.Sprintf("%02d", i)
		files["w1/cm-"+id+".yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n" +
			"  name: cm-" + id + "\n  namespace: w1\n  labels: {workload: w1}\ndata:\n" +
			"  marker: \"initial\"\n  filler: \"" + filler + "\"\n"
	}
	return files
}

// W1ChangedFile is the file BumpW1 changes.
const W1ChangedFile = "w1/cm-00.yaml"

var markerLine = regexp.MustCompile(`(?m)^  marker: .*$`)

// BumpContent sets the "marker" key of a W1 ConfigMap file to value, as the
// script's sed does.
func BumpContent(content, value string) string {
	return markerLine.ReplaceAllLiteralString(content, `  marker: "`+value+`"`)
}

// BumpW1 sets cm-00's marker to value in the W1 tree under dir and returns
// the new content of the file.
func BumpW1(dir, value string) (string, error) {
	p := filepath.Join(dir, filepath.FromSlash(W1ChangedFile))
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	out := BumpContent(string(b), value)
	return out, os.WriteFile(p, []byte(out), 0o644)
}

// W3Files is the W3 workload: w3/app-0000 .. app-(n-1), each with one
// ~2 KB ConfigMap "payload" in namespace w3-NNNN and, when nsObj, the
// Namespace object itself (namespace.yaml).
func W3Files(n int, nsObj bool) map[string]string {
	files := make(map[string]string, 2*n)
	filler := strings.Repeat("x", 1900)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%04d", i)
		d := "w3/app-" + id + "/"
		if nsObj {
			files[d+"namespace.yaml"] = "apiVersion: v1\nkind: Namespace\nmetadata:\n" +
				"  name: w3-" + id + "\n  labels: {workload: w3}\n"
		}
		files[d+"configmap.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n" +
			"  name: payload\n  namespace: w3-" + id + "\n  labels: {workload: w3}\ndata:\n" +
			"  app: \"app-" + id + "\"\n  filler: \"" + filler + "\"\n"
	}
	return files
}

// W3AppPath is the repository path of W3 app i.
func W3AppPath(i int) string { return fmt.Sprintf("w3/app-%04d", i) }

// W3Namespace is the destination namespace of W3 app i.
func W3Namespace(i int) string { return fmt.Sprintf("w3-%04d", i) }

// WriteFiles writes files under dir, creating directories as needed.
func WriteFiles(dir string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

const w1Deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: w1
  labels: {app: web, workload: w1}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      tolerations:
      - {key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}
      containers:
      - name: web
        image: example.invalid/dummy:1.0
        ports:
        - containerPort: 8080
`

const w1Service = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: w1
  labels: {workload: w1}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
`
