package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/appset"
	"github.com/tether-gitops/tether/internal/clusters"
	"github.com/tether-gitops/tether/internal/source"
)

func newAppSetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "appset",
		Aliases: []string{"appsets", "applicationset"},
		Short:   "Work with ApplicationSets",
	}
	cmd.AddCommand(newAppSetGenerateCmd())
	return cmd
}

func newAppSetGenerateCmd() *cobra.Command {
	var output, cacheDir string
	var clusterFlags []string
	cmd := &cobra.Command{
		Use:   "generate FILE",
		Short: "Print the Applications an ApplicationSet generates, without a cluster",
		Long: `Generate reads the ApplicationSets in FILE ("-" for standard input) and
prints the Applications they generate as a YAML stream (or a JSON List with
-o json), without a cluster.

Git generators clone their repositories anonymously into a temporary cache
(--cache-dir keeps it). The clusters generator sees the in-cluster
destination (https://kubernetes.default.svc, no labels) and the clusters
given with --cluster NAME=SERVER[,LABEL=VALUE...]; each of those carries the
label argocd.argoproj.io/secret-type=cluster, as a cluster Secret does. A
--cluster whose server is https://kubernetes.default.svc renames and labels
the in-cluster destination instead of adding one.

Nothing is written: any error (a template error, an invalid or duplicate
Application name) prints no Applications and names the ApplicationSet and
the field.`,
		Example: `  tether appset generate appset.yaml
  tether appset generate appset.yaml --cluster prod=https://10.0.0.1,env=prod --cluster staging=https://10.0.0.2,env=staging`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "yaml" && output != "json" {
				return fmt.Errorf("--output %q: want yaml or json", output)
			}
			dests, err := parseClusterFlags(clusterFlags)
			if err != nil {
				return err
			}
			sets, warnings, err := readAppSets(cmd.InOrStdin(), args[0])
			if err != nil {
				return err
			}
			if cacheDir == "" {
				dir, err := os.MkdirTemp("", "tether-appset-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				cacheDir = dir
			}
			cache, err := source.NewCache(source.DefaultOptions(cacheDir))
			if err != nil {
				return err
			}
			in := appset.Inputs{Clusters: dests, Repos: &appset.SourceRepos{Cache: cache}}
			var apps []*v1alpha1.Application
			for _, set := range sets {
				warnings = append(warnings, prefixAll(setName(set)+": ", appset.Warnings(set))...)
				got, err := appset.Generate(cmd.Context(), set, in)
				if err != nil {
					return fmt.Errorf("%s: %w", setName(set), err)
				}
				apps = append(apps, got...)
			}
			for _, w := range warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", w)
			}
			return printApps(cmd.OutOrStdout(), output, apps)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	cmd.Flags().StringArrayVar(&clusterFlags, "cluster", nil, "a destination for the clusters generator: NAME=SERVER[,LABEL=VALUE...] (repeatable)")
	cmd.Flags().StringVar(&cacheDir, "cache-dir", "", "Git cache directory to use and keep (default: a temporary one)")
	return cmd
}

func setName(set *v1alpha1.ApplicationSet) string {
	if set.Namespace == "" {
		return "ApplicationSet " + set.Name
	}
	return "ApplicationSet " + set.Namespace + "/" + set.Name
}

func prefixAll(prefix string, msgs []string) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = prefix + m
	}
	return out
}

// parseClusterFlags turns --cluster flags into the destinations of the
// clusters generator, the in-cluster one first.
func parseClusterFlags(flags []string) ([]*clusters.Cluster, error) {
	in := clusters.InCluster(nil)
	out := []*clusters.Cluster{in}
	seen := map[string]bool{}
	for _, f := range flags {
		parts := strings.Split(f, ",")
		name, server, ok := strings.Cut(parts[0], "=")
		name, server = strings.TrimSpace(name), strings.TrimSuffix(strings.TrimSpace(server), "/")
		if !ok || name == "" || server == "" {
			return nil, fmt.Errorf("--cluster %q: want NAME=SERVER[,LABEL=VALUE...]", f)
		}
		if u, err := url.Parse(server); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("--cluster %q: server %q is not an http(s) URL", f, server)
		}
		if seen[server] {
			return nil, fmt.Errorf("--cluster %q: server %s is given twice", f, server)
		}
		seen[server] = true
		labels := map[string]string{clusters.SecretTypeLabel: clusters.SecretTypeCluster}
		for _, l := range parts[1:] {
			k, v, ok := strings.Cut(l, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("--cluster %q: label %q: want LABEL=VALUE", f, l)
			}
			labels[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		secret := types.NamespacedName{Name: clusters.SecretName(name)}
		if server == v1alpha1.InClusterServer {
			in.Name, in.Labels, in.Secret = name, labels, secret
			continue
		}
		out = append(out, &clusters.Cluster{Name: name, Server: server, Labels: labels, Secret: secret})
	}
	return out, nil
}

// readAppSets reads the ApplicationSets of a YAML or JSON stream. Fields
// tether does not know come back as warnings.
func readAppSets(stdin io.Reader, file string) ([]*v1alpha1.ApplicationSet, []string, error) {
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, nil, err
	}
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var sets []*v1alpha1.ApplicationSet
	var warnings []string
	for doc := 1; ; doc++ {
		raw, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			doc--
			continue
		}
		where := fmt.Sprintf("%s (document %d)", file, doc)
		j, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", where, err)
		}
		if string(bytes.TrimSpace(j)) == "null" {
			doc--
			continue
		}
		var tm struct{ APIVersion, Kind string }
		if err := json.Unmarshal(j, &tm); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", where, err)
		}
		if tm.Kind != v1alpha1.ApplicationSetKind {
			return nil, nil, fmt.Errorf("%s: kind is %q, want ApplicationSet", where, tm.Kind)
		}
		if tm.APIVersion != "" && tm.APIVersion != v1alpha1.GroupVersion.String() {
			return nil, nil, fmt.Errorf("%s: apiVersion is %q, want %s", where, tm.APIVersion, v1alpha1.GroupVersion)
		}
		set := &v1alpha1.ApplicationSet{}
		strict, err := sigsjson.UnmarshalStrict(j, set)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", where, err)
		}
		for _, e := range strict {
			warnings = append(warnings, fmt.Sprintf("%s: %v; tether ignores it", setName(set), e))
		}
		sets = append(sets, set)
	}
	if len(sets) == 0 {
		return nil, nil, fmt.Errorf("%s: no ApplicationSet in it", file)
	}
	return sets, warnings, nil
}

// printApps prints Applications as a YAML stream or a JSON List, without
// the empty status and creation time a new object carries.
func printApps(w io.Writer, format string, apps []*v1alpha1.Application) error {
	items := make([]any, 0, len(apps))
	for _, a := range apps {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(a)
		if err != nil {
			return err
		}
		delete(m, "status")
		unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
		items = append(items, m)
	}
	if format == "json" {
		return printObject(w, "json", map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	}
	for _, it := range items {
		b, err := yaml.Marshal(it)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "---\n%s", b); err != nil {
			return err
		}
	}
	return nil
}
