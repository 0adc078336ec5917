package appset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"
)

// engine renders one template string with a parameter set. name is the
// field the string comes from; errors start with it.
type engine interface {
	render(name, text string, params map[string]any) (string, error)
}

// newEngine returns the engine of a set: Go templates when goTemplate is
// on, else {{param}} substitution.
func newEngine(goTemplate bool, options []string) (engine, error) {
	if !goTemplate {
		return flatEngine{}, nil
	}
	for i, o := range options {
		if !validOption.MatchString(o) {
			return nil, fmt.Errorf("spec.goTemplateOptions[%d]: %q is not a text/template option (missingkey=default|invalid|zero|error)", i, o)
		}
	}
	return &goEngine{options: options, cache: map[string]*template.Template{}}, nil
}

var validOption = regexp.MustCompile(`^missingkey=(default|invalid|zero|error)$`)

// flatEngine replaces {{name}} and {{ name }} by the parameter of that
// name; a tag naming no parameter stays as written.
type flatEngine struct{}

func (flatEngine) render(_ string, text string, params map[string]any) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	var b strings.Builder
	rest := text
	for {
		start := strings.Index(rest, "{{")
		if start < 0 {
			break
		}
		end := strings.Index(rest[start+2:], "}}")
		if end < 0 {
			break
		}
		end += start + 2
		b.WriteString(rest[:start])
		tag := strings.TrimSpace(rest[start+2 : end])
		if v, ok := params[tag]; ok {
			b.WriteString(flatString(v))
		} else {
			b.WriteString(rest[start : end+2])
		}
		rest = rest[end+2:]
	}
	b.WriteString(rest)
	return b.String(), nil
}

// goEngine renders Go templates, parsing each distinct text once.
type goEngine struct {
	options []string
	cache   map[string]*template.Template
}

func (e *goEngine) render(name, text string, params map[string]any) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, ok := e.cache[text]
	if !ok {
		var err error
		t, err = template.New(name).Option(e.options...).Funcs(funcMap).Parse(text)
		if err != nil {
			return "", fmt.Errorf("%s: %s", name, trimTemplateError(err))
		}
		e.cache[text] = t
	}
	var b bytes.Buffer
	if err := t.Execute(&b, params); err != nil {
		return "", fmt.Errorf("%s: %s", name, trimTemplateError(err))
	}
	return b.String(), nil
}

// templateErrorPrefix matches what text/template puts before the message:
// `template: NAME:1:3: executing "NAME" at <.x>: ...` or `template: NAME:1: ...`.
var templateErrorPrefix = regexp.MustCompile(`^template: .*?:(\d+(:\d+)?): (executing ".*?" )?`)

// missingKey matches the error of missingkey=error.
var missingKey = regexp.MustCompile(`^at (<.*>): map has no entry for key "(.*)"$`)

// trimTemplateError drops the template name (the caller names the field)
// and keeps the position only when the text has several lines.
func trimTemplateError(err error) string {
	msg := err.Error()
	m := templateErrorPrefix.FindStringSubmatchIndex(msg)
	if m == nil {
		return msg
	}
	pos := msg[m[2]:m[3]]
	rest := msg[m[1]:]
	if mk := missingKey.FindStringSubmatch(rest); mk != nil {
		rest = fmt.Sprintf("parameter %q is missing (at %s; missingkey=error)", mk[2], mk[1])
	}
	if !strings.HasPrefix(pos, "1:") && pos != "1" {
		return "line " + pos + ": " + rest
	}
	return rest
}

// funcMap is Sprig without the functions that read the environment or
// the network, plus Argo CD's additions.
var funcMap = func() template.FuncMap {
	m := sprig.TxtFuncMap()
	for _, n := range []string{"env", "expandenv", "getHostByName"} {
		delete(m, n)
	}
	m["normalize"] = Normalize
	m["slugify"] = slugify
	m["toYaml"] = toYAML
	m["fromYaml"] = fromYAML
	m["fromYamlArray"] = fromYAMLArray
	return m
}()

var invalidNameChars = regexp.MustCompile(`[^-a-z0-9.]`)

// Normalize makes s usable as an object name: lower case, characters
// other than a-z, 0-9, '-' and '.' replaced by '-', at most 253
// characters, starting and ending with a letter or digit.
func Normalize(s string) string {
	s = invalidNameChars.ReplaceAllString(strings.ToLower(s), "-")
	if len(s) > 253 {
		s = s[:253]
	}
	return strings.Trim(s, "-.")
}

var nonSlugChars = regexp.MustCompile(`[^a-z0-9]+`)

// slugify is `slugify [MAX [SMART]] TEXT`: lower case, runs of other
// characters made one '-', cut to MAX (50) characters — at a '-' when
// SMART (the default), so no word is cut in two.
func slugify(args ...any) (string, error) {
	if len(args) == 0 || len(args) > 3 {
		return "", fmt.Errorf("slugify: want [max [smartTruncate]] text, got %d arguments", len(args))
	}
	maxLen, smart := 50, true
	text, ok := args[len(args)-1].(string)
	if !ok {
		return "", fmt.Errorf("slugify: the text must be a string, not %T", args[len(args)-1])
	}
	if len(args) > 1 {
		n, err := toInt(args[0])
		if err != nil {
			return "", fmt.Errorf("slugify: max length: %w", err)
		}
		maxLen = n
	}
	if len(args) > 2 {
		b, ok := args[1].(bool)
		if !ok {
			return "", fmt.Errorf("slugify: smartTruncate must be a bool, not %T", args[1])
		}
		smart = b
	}
	s := strings.Trim(nonSlugChars.ReplaceAllString(strings.ToLower(text), "-"), "-")
	if maxLen > 0 && len(s) > maxLen {
		cut := s[:maxLen]
		if smart && s[maxLen] != '-' {
			if i := strings.LastIndexByte(cut, '-'); i > 0 {
				cut = cut[:i]
			}
		}
		s = strings.Trim(cut, "-")
	}
	return s, nil
}

func toInt(v any) (int, error) {
	switch n := v.(type) {
	case int:
		return n, nil
	case int64:
		return int(n), nil
	case float64:
		return int(n), nil
	case string:
		return strconv.Atoi(n)
	}
	return 0, fmt.Errorf("want a number, not %T", v)
}

// toYAML is Helm's: the YAML of v without the final newline, "" on error.
func toYAML(v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

// fromYAML is Helm's: an object, or {"Error": message}.
func fromYAML(s string) map[string]any {
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// fromYAMLArray is Helm's: a list, or [message].
func fromYAMLArray(s string) []any {
	var a []any
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		a = []any{err.Error()}
	}
	return a
}

// renderTree renders every string of a decoded JSON value, map keys
// included; name is the field path of v for errors.
func renderTree(e engine, name string, v any, params map[string]any) (any, error) {
	switch t := v.(type) {
	case string:
		return e.render(name, t, params)
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range sortedKeys(t) {
			field := name + "." + k
			if name == "" {
				field = k
			}
			rk, err := e.render(field, k, params)
			if err != nil {
				return nil, err
			}
			rv, err := renderTree(e, field, t[k], params)
			if err != nil {
				return nil, err
			}
			out[rk] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			rv, err := renderTree(e, fmt.Sprintf("%s[%d]", name, i), x, params)
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	}
	return v, nil
}

// renderJSON renders every string of in (any JSON-encodable value) and
// decodes the result into out.
func renderJSON(e engine, name string, in, out any, params map[string]any) error {
	tree, err := toTree(in)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	rendered, err := renderTree(e, name, tree, params)
	if err != nil {
		return err
	}
	b, err := json.Marshal(rendered)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: after templating: %w", name, err)
	}
	return nil
}

// toTree converts v to plain maps, lists and scalars through JSON.
func toTree(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// hasTags tells whether v holds a template tag in any string.
func hasTags(v any) bool {
	b, err := json.Marshal(v)
	return err != nil || bytes.Contains(b, []byte("{{"))
}

// mergeOverride merges over into base (both decoded JSON objects): maps
// merge key by key, any other value in over replaces base's, empty
// strings and nulls in over are ignored. base is changed and returned.
func mergeOverride(base, over map[string]any) map[string]any {
	if base == nil {
		base = map[string]any{}
	}
	for k, v := range over {
		switch t := v.(type) {
		case nil:
			continue
		case string:
			if t == "" {
				continue
			}
		case map[string]any:
			if b, ok := base[k].(map[string]any); ok {
				base[k] = mergeOverride(b, t)
				continue
			}
		}
		base[k] = v
	}
	return base
}

// mergePatch applies an RFC 7386 JSON merge patch: objects merge, null
// deletes, anything else replaces.
func mergePatch(target any, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
