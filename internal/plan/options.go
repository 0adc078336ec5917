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
	out := SyncOptions{}
	for _, item := range items {
		for _, part := range strings.Split(item, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			k, v, ok := strings.Cut(part, "=")
			if !ok {
				return nil, fmt.Errorf("sync option %q: want Name=value", part)
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			allowed, known := knownOptions[k]
			if !known {
				return nil, fmt.Errorf("sync option %q: unknown option %s", part, k)
			}
			if allowed != nil && !slices.Contains(allowed, v) {
				return nil, fmt.Errorf("sync option %q: value must be one of %s", part, strings.Join(allowed, ", "))
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

// ParseCompareOptions parses a compare-options annotation value. An
// unknown option or value is an error naming it.
func ParseCompareOptions(value string) (CompareOptions, error) {
	out := CompareOptions{}
	for _, part := range strings.Split(value, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, hasValue := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		allowed, known := knownCompareOptions[k]
		switch {
		case !known:
			return nil, fmt.Errorf("compare option %q: unknown option %s", part, k)
		case allowed == nil && hasValue:
			return nil, fmt.Errorf("compare option %q: %s takes no value", part, k)
		case allowed != nil && !slices.Contains(allowed, v):
			return nil, fmt.Errorf("compare option %q: value must be one of %s", part, strings.Join(allowed, ", "))
		}
		out[k] = v
	}
	return out, nil
}

// Has reports whether option k is set.
func (o CompareOptions) Has(k string) bool {
	_, ok := o[k]
	return ok
}
