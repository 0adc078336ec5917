package plan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// SyncOptions are the parsed `syncPolicy.syncOptions` or the per-object
// `argocd.argoproj.io/sync-options` annotation.
type SyncOptions map[string]string

// knownOptions lists every option tether understands and its allowed values
// (nil: any value).
var knownOptions = map[string][]string{
	"CreateNamespace":             {"true", "false"},
	"PruneLast":                   {"true", "false"},
	"ApplyOutOfSyncOnly":          {"true", "false"},
	"Replace":                     {"true", "false"},
	"Force":                       {"true", "false"},
	"ServerSideApply":             {"true", "false"},
	"PrunePropagationPolicy":      {"foreground", "background", "orphan"},
	"Validate":                    {"true", "false"},
	"RespectIgnoreDifferences":    {"true", "false"},
	"FailOnSharedResource":        {"true", "false"},
	"Prune":                       {"true", "false", "confirm"},
	"Delete":                      {"true", "false", "confirm"},
	"SkipDryRunOnMissingResource": {"true", "false"},
}

// ParseSyncOptions parses options given as a list ("A=b") or as one
// comma-separated annotation value. An unknown option or value is an error
// naming it.
func ParseSyncOptions(items ...string) (SyncOptions, error) {
	return parseOptions("sync", knownOptions, nil, items...)
}

// parseOptions parses comma-separated Name=value options, in one or more
// strings, against known (a nil list allows any value); the names in flags
// take no value. An unknown option or value is an error naming it.
func parseOptions(what string, known map[string][]string, flags map[string]bool, items ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range items {
		for _, part := range strings.Split(item, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			k, v, hasValue := strings.Cut(part, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			allowed, ok := known[k]
			switch {
			case !hasValue && len(flags) == 0:
				return nil, fmt.Errorf("%s option %q: want Name=value", what, part)
			case !ok:
				return nil, fmt.Errorf("%s option %q: unknown option %s", what, part, k)
			case flags[k] && hasValue:
				return nil, fmt.Errorf("%s option %q: %s takes no value", what, part, k)
			case allowed != nil && !slices.Contains(allowed, v):
				return nil, fmt.Errorf("%s option %q: value must be one of %s", what, part, strings.Join(allowed, ", "))
			}
			out[k] = v
		}
	}
	return out, nil
}

// Bool reports whether option k is "true".
func (o SyncOptions) Bool(k string) bool {
	b, _ := strconv.ParseBool(o[k])
	return b
}

// IsFalse reports whether option k is explicitly "false".
func (o SyncOptions) IsFalse(k string) bool { return o[k] == "false" }

// Merge returns o with per-object options p on top.
func (o SyncOptions) Merge(p SyncOptions) SyncOptions {
	out := SyncOptions{}
	for k, v := range o {
		out[k] = v
	}
	for k, v := range p {
		out[k] = v
	}
	return out
}

// CompareOptions are the parsed `argocd.argoproj.io/compare-options`
// annotation of one object: IgnoreExtraneous (a flag), and ServerSideDiff
// and IncludeMutationWebhook, which tether accepts and always acts as
// "true" for (it compares against a server-side dry run, which runs the
// admission webhooks).
type CompareOptions map[string]string

var knownCompareOptions = map[string][]string{
	"IgnoreExtraneous":       nil,
	"ServerSideDiff":         {"true", "false"},
	"IncludeMutationWebhook": {"true", "false"},
}

// compareFlags are the compare options that take no value.
var compareFlags = map[string]bool{"IgnoreExtraneous": true}

// ParseCompareOptions parses a compare-options annotation value. An
// unknown option or value is an error naming it.
func ParseCompareOptions(value string) (CompareOptions, error) {
	return parseOptions("compare", knownCompareOptions, compareFlags, value)
}

// Has reports whether option k is set.
func (o CompareOptions) Has(k string) bool {
	_, ok := o[k]
	return ok
}
