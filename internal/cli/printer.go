package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"

	"github.com/tether-gitops/tether/internal/source"
)

// printObject prints v as JSON or YAML.
func printObject(w io.Writer, format string, v any) error {
	switch format {
	case "json":
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("output format %q: want json, yaml or wide/table", format)
}

// table prints rows under a header, aligned.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// revisionOf is a revision for a table: the short commit, or for an app
// with several sources the short revisions of each, by position.
func revisionOf(rev string, revs []string) string {
	if len(revs) > 0 {
		return shortSHAs(revs)
	}
	return shortSHA(rev)
}

// shortSHAs shortens each revision and joins them with commas.
func shortSHAs(revs []string) string {
	out := make([]string, len(revs))
	for i, r := range revs {
		out[i] = orDash(shortSHA(r))
	}
	return strings.Join(out, ",")
}

func shortSHA(s string) string {
	if source.IsCommitSHA(s) { // a chart version stays whole
		return s[:7]
	}
	return s
}
