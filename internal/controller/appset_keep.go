package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/itchyny/gojq"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// keptSpec returns the desired spec (canonical JSON) of the generated
// Application name with the fields the set's ignoreApplicationDifferences
// names taken from cur (its current spec): a field cur has keeps its
// value, a field cur lacks stays absent.
func keptSpec(set *v1alpha1.ApplicationSet, name string, desired []byte, cur any) ([]byte, error) {
	var rules []int
	for i, r := range set.Spec.IgnoreApplicationDifferences {
		if r.Name == "" || r.Name == name {
			rules = append(rules, i)
		}
	}
	if len(rules) == 0 {
		return desired, nil
	}
	var want, have map[string]any
	if err := json.Unmarshal(desired, &want); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(cur) // numbers as float64, as gojq takes them
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &have); err != nil {
		return nil, err
	}
	doc := map[string]any{"spec": want}
	curDoc := map[string]any{"spec": have}
	for _, i := range rules {
		r := set.Spec.IgnoreApplicationDifferences[i]
		at := fmt.Sprintf("spec.ignoreApplicationDifferences[%d]", i)
		for j, p := range r.JSONPointers {
			expr, err := pointerToJQ(p)
			if err != nil {
				return nil, fmt.Errorf("%s.jsonPointers[%d] %q: %w", at, j, p, err)
			}
			if doc, err = keepPaths(doc, curDoc, expr); err != nil {
				return nil, fmt.Errorf("%s.jsonPointers[%d] %q: %w", at, j, p, err)
			}
		}
		for j, expr := range r.JQPathExpressions {
			if !strings.HasPrefix(strings.TrimSpace(expr), ".spec") {
				return nil, fmt.Errorf("%s.jqPathExpressions[%d] %q: must start with .spec (the set writes only an Application's spec, labels and annotations)", at, j, expr)
			}
			if doc, err = keepPaths(doc, curDoc, expr); err != nil {
				return nil, fmt.Errorf("%s.jqPathExpressions[%d] %q: %w", at, j, expr, err)
			}
		}
	}
	return canonicalRaw(doc["spec"])
}

// keepPaths evaluates the jq path expression on both documents: its paths
// are removed from doc, then those cur holds are set from cur.
func keepPaths(doc, cur map[string]any, expr string) (map[string]any, error) {
	q, err := gojq.Parse(`delpaths([path(` + expr + `)]) as $d | reduce ($cur | path(` + expr + `)) as $p ($d; if ($cur | getpath($p)) == null then . else setpath($p; $cur | getpath($p)) end)`)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	code, err := gojq.Compile(q, gojq.WithVariables([]string{"$cur"}))
	if err != nil {
		return nil, err
	}
	iter := code.Run(doc, cur)
	v, ok := iter.Next()
	if !ok {
		return nil, errors.New("no result")
	}
	if err, isErr := v.(error); isErr {
		return nil, err
	}
	out, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the result is %T, not an object", v)
	}
	return out, nil
}

// pointerToJQ turns an RFC 6901 pointer under /spec into a jq path.
func pointerToJQ(p string) (string, error) {
	if p != "/spec" && !strings.HasPrefix(p, "/spec/") {
		return "", errors.New(`must be under /spec (the set writes only an Application's spec, labels and annotations)`)
	}
	var b strings.Builder
	for _, tok := range strings.Split(p[1:], "/") {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(tok, "~0", ""), "~1", ""), "~") {
			return "", fmt.Errorf("bad escape in %q: only ~0 and ~1 are allowed", tok)
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if n, err := json.Number(tok).Int64(); err == nil && n >= 0 && fmt.Sprint(n) == tok {
			fmt.Fprintf(&b, "[%d]", n)
			continue
		}
		q, _ := json.Marshal(tok)
		fmt.Fprintf(&b, "[%s]", q)
	}
	return "." + b.String(), nil
}
