// Package project enforces the rules of an AppProject: which repositories an
// Application may use, which clusters and namespaces it may deploy to, which
// kinds of objects it may create, which namespaces its Application may live
// in, and when it may sync (sync windows).
//
// The package is pure: it reads the AppProject it is given and the values it
// is asked about, and never talks to a cluster. The semantics follow Argo
// CD's; docs/projects.md describes them for users.
package project

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// ErrNotPermitted is matched (errors.Is) by every error the Permit methods
// return.
var ErrNotPermitted = errors.New("not permitted by the project")

type notPermittedError struct{ msg string }

func (e *notPermittedError) Error() string        { return e.msg }
func (e *notPermittedError) Is(target error) bool { return target == ErrNotPermitted }

func notPermitted(format string, args ...any) error {
	return &notPermittedError{msg: fmt.Sprintf(format, args...)}
}

// FieldError is one problem with an AppProject's spec, as New reports it.
type FieldError struct {
	// Project is "namespace/name".
	Project string
	// Field is the path of the offending field, e.g. spec.syncWindows[1].schedule.
	Field string
	// Value is the offending value.
	Value string
	// Err says what is wrong with it.
	Err error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("AppProject %s: %s %q: %v", e.Project, e.Field, e.Value, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// Project is a validated AppProject, ready to answer questions.
// It is safe for concurrent use.
type Project struct {
	name      string
	namespace string

	sourceRepos      []*pattern
	destinations     []destinationRule
	clusterAllow     []kindRule
	clusterDeny      []kindRule
	namespacedAllow  []kindRule
	namespacedDeny   []kindRule
	sourceNamespaces []nameMatcher
	windows          []*window
	serviceAccounts  []serviceAccountRule
	signatureKeys    []string
	orphansOn        bool
	orphansWarn      bool
	orphanIgnore     []orphanIgnore
}

type destinationRule struct {
	index int
	// nil when the rule does not name a server (or a name).
	server, name *pattern
	namespace    *pattern
}

type kindRule struct {
	group, kind *glob
}

// nameMatcher matches a namespace by glob or, written as /re/, by regular
// expression.
type nameMatcher struct {
	g  *glob
	re *regexp.Regexp
}

func (m nameMatcher) match(s string) bool {
	if m.re != nil {
		return m.re.MatchString(s)
	}
	return m.g.match(s)
}

// Default returns the project every Application without one belongs to, in
// namespace: it allows every repository, every destination and every kind,
// as Argo CD's default project does when it is created.
func Default(namespace string) *v1alpha1.AppProject {
	return &v1alpha1.AppProject{
		TypeMeta: metav1.TypeMeta{
			APIVersion: v1alpha1.GroupVersion.String(),
			Kind:       v1alpha1.AppProjectKind,
		},
		ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.DefaultProject, Namespace: namespace},
		Spec: v1alpha1.AppProjectSpec{
			SourceRepos:              []string{"*"},
			Destinations:             []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}},
			ClusterResourceWhitelist: []v1alpha1.GroupKind{{Group: "*", Kind: "*"}},
		},
	}
}

// New validates p and compiles its rules. Every problem found is reported,
// each as a *FieldError naming the field (joined with errors.Join).
func New(p *v1alpha1.AppProject) (*Project, error) {
	if p == nil {
		return nil, errors.New("no AppProject")
	}
	id := p.Namespace + "/" + p.Name
	if p.Name == "" {
		return nil, fmt.Errorf("AppProject %s: metadata.name is empty", id)
	}
	prj := &Project{name: p.Name, namespace: p.Namespace}
	var errs []error
	bad := func(field, value string, err error) {
		errs = append(errs, &FieldError{Project: id, Field: field, Value: value, Err: err})
	}
	spec := &p.Spec

	for i, raw := range spec.SourceRepos {
		pat, err := compilePattern(raw, true, normalizeRepoURL)
		if err != nil {
			bad(fmt.Sprintf("spec.sourceRepos[%d]", i), raw, err)
			continue
		}
		prj.sourceRepos = append(prj.sourceRepos, pat)
	}

	for i, d := range spec.Destinations {
		rule := destinationRule{index: i}
		field := func(name, raw string) *pattern {
			pat, err := compilePattern(raw, false, nil)
			if err != nil {
				bad(fmt.Sprintf("spec.destinations[%d].%s", i, name), raw, err)
			}
			return pat
		}
		ok := true
		if d.Server != "" {
			rule.server = field("server", d.Server)
			ok = ok && rule.server != nil
		}
		if d.Name != "" {
			rule.name = field("name", d.Name)
			ok = ok && rule.name != nil
		}
		// An empty namespace pattern matches only the empty namespace.
		rule.namespace = field("namespace", d.Namespace)
		if ok && rule.namespace != nil {
			prj.destinations = append(prj.destinations, rule)
		}
	}

	kinds := func(field string, list []v1alpha1.GroupKind) []kindRule {
		var out []kindRule
		for i, gk := range list {
			g, err := compileGlob(gk.Group, false)
			if err != nil {
				bad(fmt.Sprintf("%s[%d].group", field, i), gk.Group, err)
			}
			k, err2 := compileGlob(gk.Kind, false)
			if err2 != nil {
				bad(fmt.Sprintf("%s[%d].kind", field, i), gk.Kind, err2)
			}
			if err == nil && err2 == nil {
				out = append(out, kindRule{group: g, kind: k})
			}
		}
		return out
	}
	prj.clusterAllow = kinds("spec.clusterResourceWhitelist", spec.ClusterResourceWhitelist)
	prj.clusterDeny = kinds("spec.clusterResourceBlacklist", spec.ClusterResourceBlacklist)
	prj.namespacedAllow = kinds("spec.namespaceResourceWhitelist", spec.NamespaceResourceWhitelist)
	prj.namespacedDeny = kinds("spec.namespaceResourceBlacklist", spec.NamespaceResourceBlacklist)

	for i, raw := range spec.SourceNamespaces {
		m, err := compileNameMatcher(raw)
		if err != nil {
			bad(fmt.Sprintf("spec.sourceNamespaces[%d]", i), raw, err)
			continue
		}
		prj.sourceNamespaces = append(prj.sourceNamespaces, m)
	}

	for i := range spec.SyncWindows {
		w, werrs := compileWindow(i, spec.SyncWindows[i])
		for _, fe := range werrs {
			fe.Project = id
			errs = append(errs, fe)
		}
		if len(werrs) == 0 {
			prj.windows = append(prj.windows, w)
		}
	}

	prj.serviceAccounts = compileServiceAccounts(spec.DestinationServiceAccounts, bad)
	prj.signatureKeys = compileSignatureKeys(spec.SignatureKeys, bad)
	prj.orphansOn, prj.orphansWarn, prj.orphanIgnore = compileOrphans(spec.OrphanedResources, bad)

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return prj, nil
}

func compileNameMatcher(raw string) (nameMatcher, error) {
	if len(raw) >= 2 && strings.HasPrefix(raw, "/") && strings.HasSuffix(raw, "/") {
		re, err := regexp.Compile(raw[1 : len(raw)-1])
		if err != nil {
			return nameMatcher{}, err
		}
		return nameMatcher{re: re}, nil
	}
	g, err := compileGlob(raw, false)
	if err != nil {
		return nameMatcher{}, err
	}
	return nameMatcher{g: g}, nil
}

// Name is the project's name.
func (p *Project) Name() string { return p.name }

// Namespace is the project's namespace.
func (p *Project) Namespace() string { return p.namespace }

// PermitSource says whether the project lets an Application use the
// repository at repoURL: no '!' entry of spec.sourceRepos may match it, and
// at least one entry without '!' must (a '!' entry allows nothing). URLs and patterns are compared normalized:
// scheme and host in lower case, "user@host:path" as "ssh://user@host/path",
// without a trailing "/" or ".git". In a pattern, '*' stays within one path
// segment and "**" crosses segments; "*" alone matches every URL.
func (p *Project) PermitSource(repoURL string) error {
	normalized := normalizeRepoURL(repoURL)
	allowed := false
	for i, pat := range p.sourceRepos {
		if pat.deny && pat.g.match(normalized) {
			return notPermitted("repository %s is not permitted in project %s: refused by spec.sourceRepos[%d] %q",
				repoURL, p.name, i, pat.raw)
		}
		if !pat.deny && pat.g.match(normalized) {
			allowed = true
		}
	}
	if !allowed {
		return notPermitted("repository %s is not permitted in project %s (spec.sourceRepos)", repoURL, p.name)
	}
	return nil
}

// normalizeRepoURL puts a repository URL (or a pattern of one) in the form
// the sourceRepos comparison uses.
func normalizeRepoURL(u string) string {
	u = strings.TrimSpace(u)
	var scheme, rest string
	if i := strings.Index(u, "://"); i >= 0 {
		scheme, rest = strings.ToLower(u[:i]), u[i+3:]
	} else if colon, slash := strings.IndexByte(u, ':'), strings.IndexByte(u, '/'); colon > 0 && (slash < 0 || colon < slash) {
		// scp-like: [user@]host:path
		scheme, rest = "ssh", u[:colon]+"/"+strings.TrimPrefix(u[colon+1:], "/")
	} else {
		rest = u
	}
	if scheme != "" {
		authority, path, hasPath := strings.Cut(rest, "/")
		user, host := "", authority
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			user, host = authority[:at+1], authority[at+1:]
		}
		rest = user + strings.ToLower(host)
		if hasPath {
			rest += "/" + path
		}
	}
	for {
		trimmed := strings.TrimSuffix(strings.TrimSuffix(rest, "/"), ".git")
		if trimmed == rest {
			break
		}
		rest = trimmed
	}
	if scheme == "" {
		return rest
	}
	return scheme + "://" + rest
}

// PermitDestination says whether the project lets an Application deploy to
// namespace of the cluster whose server URL and name are given (pass both,
// those of the resolved cluster; namespace is empty for an app of
// cluster-scoped objects only).
//
// An entry of spec.destinations with no '!' in it is an allow entry: it
// allows the destination when its server glob matches server or its name
// glob matches name (a field the entry leaves empty is not tried), and its
// namespace glob matches namespace. An entry with a '!' field is a deny
// entry: each of its '!' fields refuses, on its own, every value its glob
// matches, whatever the entry's other fields say; a deny entry allows
// nothing. The destination is permitted when no deny entry refuses it and
// an allow entry allows it. (Argo CD's documentation describes this; its
// code also lets a deny entry allow what it does not refuse, which tether
// does not do, so tether never permits what Argo CD refuses.)
func (p *Project) PermitDestination(server, name, namespace string) error {
	allowed := false
	for _, r := range p.destinations {
		if r.isDeny() {
			if r.refuses(server, name, namespace) {
				return notPermitted("destination %s is not permitted in project %s: refused by spec.destinations[%d] %s",
					destinationString(server, name, namespace), p.name, r.index, r)
			}
			continue
		}
		clusterMatches := (r.server != nil && server != "" && r.server.g.match(server)) ||
			(r.name != nil && name != "" && r.name.g.match(name))
		if clusterMatches && r.namespace.g.match(namespace) {
			allowed = true
		}
	}
	if !allowed {
		return notPermitted("destination %s is not permitted in project %s: no entry of spec.destinations allows it",
			destinationString(server, name, namespace), p.name)
	}
	return nil
}

func (r destinationRule) isDeny() bool {
	return (r.server != nil && r.server.deny) || (r.name != nil && r.name.deny) || r.namespace.deny
}

func (r destinationRule) refuses(server, name, namespace string) bool {
	return (r.server != nil && r.server.deny && r.server.g.match(server)) ||
		(r.name != nil && r.name.deny && r.name.g.match(name)) ||
		(r.namespace.deny && r.namespace.g.match(namespace))
}

func destinationString(server, name, namespace string) string {
	cluster := name
	if cluster == "" {
		cluster = server
	}
	if namespace == "" {
		namespace = "(no namespace)"
	}
	return cluster + "/" + namespace
}

func (r destinationRule) String() string {
	var parts []string
	if r.server != nil {
		parts = append(parts, fmt.Sprintf("server %q", r.server.raw))
	}
	if r.name != nil {
		parts = append(parts, fmt.Sprintf("name %q", r.name.raw))
	}
	parts = append(parts, fmt.Sprintf("namespace %q", r.namespace.raw))
	return "{" + strings.Join(parts, ", ") + "}"
}

// PermitResource says whether the project lets an Application manage objects
// of the given group (empty for the core group) and kind. A cluster-scoped
// kind must match spec.clusterResourceWhitelist (an empty whitelist allows
// no cluster-scoped kind) and not spec.clusterResourceBlacklist. A
// namespaced kind must match spec.namespaceResourceWhitelist when that is
// not empty, and not spec.namespaceResourceBlacklist.
func (p *Project) PermitResource(group, kind string, namespaced bool) error {
	gk := kind
	if group != "" {
		gk = group + "/" + kind
	}
	if !namespaced {
		if i := matchKind(p.clusterDeny, group, kind); i >= 0 {
			return notPermitted("cluster-scoped kind %s is not permitted in project %s (spec.clusterResourceBlacklist[%d])", gk, p.name, i)
		}
		if matchKind(p.clusterAllow, group, kind) < 0 {
			if len(p.clusterAllow) == 0 {
				return notPermitted("cluster-scoped kind %s is not permitted in project %s (spec.clusterResourceWhitelist is empty: no cluster-scoped kind is allowed)", gk, p.name)
			}
			return notPermitted("cluster-scoped kind %s is not permitted in project %s (spec.clusterResourceWhitelist)", gk, p.name)
		}
		return nil
	}
	if i := matchKind(p.namespacedDeny, group, kind); i >= 0 {
		return notPermitted("namespaced kind %s is not permitted in project %s (spec.namespaceResourceBlacklist[%d])", gk, p.name, i)
	}
	if len(p.namespacedAllow) > 0 && matchKind(p.namespacedAllow, group, kind) < 0 {
		return notPermitted("namespaced kind %s is not permitted in project %s (spec.namespaceResourceWhitelist)", gk, p.name)
	}
	return nil
}

// matchKind returns the index of the first rule matching group and kind, or -1.
func matchKind(rules []kindRule, group, kind string) int {
	for i, r := range rules {
		if r.group.match(group) && r.kind.match(kind) {
			return i
		}
	}
	return -1
}

// PermitSourceNamespace says whether an Application living in appNamespace
// may use the project. Applications in controlNamespace (tether's own) always
// may; others need a match in spec.sourceNamespaces (globs, or regular
// expressions written /like this/).
func (p *Project) PermitSourceNamespace(appNamespace, controlNamespace string) error {
	if appNamespace == "" || appNamespace == controlNamespace {
		return nil
	}
	for _, m := range p.sourceNamespaces {
		if m.match(appNamespace) {
			return nil
		}
	}
	return notPermitted("Applications in namespace %s may not use project %s (spec.sourceNamespaces)", appNamespace, p.name)
}
