package project

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func appProject(spec v1alpha1.AppProjectSpec) *v1alpha1.AppProject {
	return &v1alpha1.AppProject{
		ObjectMeta: metav1.ObjectMeta{Name: "team-a", Namespace: "argocd"},
		Spec:       spec,
	}
}

func mustNew(t *testing.T, spec v1alpha1.AppProjectSpec) *Project {
	t.Helper()
	p, err := New(appProject(spec))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// checkPermit compares err with the wanted outcome: nil when wantErr is
// empty, else an ErrNotPermitted error containing wantErr.
func checkPermit(t *testing.T, what string, err error, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Errorf("%s: %v, want permitted", what, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%s: permitted, want an error containing %q", what, wantErr)
		return
	}
	if !errors.Is(err, ErrNotPermitted) {
		t.Errorf("%s: error %v is not ErrNotPermitted", what, err)
	}
	if !strings.Contains(err.Error(), wantErr) {
		t.Errorf("%s: error %q, want it to contain %q", what, err, wantErr)
	}
}

func TestPermitSource(t *testing.T) {
	teamA := []string{
		"https://git.example/team-a/*",
		"!https://git.example/team-a/secret*",
		"git@git.example:shared/*",
	}
	tests := []struct {
		name    string
		repos   []string
		url     string
		wantErr string
	}{
		{"match", teamA, "https://git.example/team-a/app", ""},
		{".git suffix", teamA, "https://git.example/team-a/app.git", ""},
		{"trailing slash", teamA, "https://git.example/team-a/app/", ""},
		{"host case", teamA, "https://GIT.Example/team-a/app", ""},
		{"scheme case", teamA, "HTTPS://git.example/team-a/app", ""},
		{"path case matters", teamA, "https://git.example/Team-A/app",
			"repository https://git.example/Team-A/app is not permitted in project team-a (spec.sourceRepos)"},
		{"star stays in one segment", teamA, "https://git.example/team-a/group/app", "(spec.sourceRepos)"},
		{"other team", teamA, "https://git.example/team-b/app",
			"repository https://git.example/team-b/app is not permitted in project team-a (spec.sourceRepos)"},
		{"other scheme", teamA, "http://git.example/team-a/app", "(spec.sourceRepos)"},
		{"negated", teamA, "https://git.example/team-a/secret-stuff.git",
			`repository https://git.example/team-a/secret-stuff.git is not permitted in project team-a: refused by spec.sourceRepos[1] "!https://git.example/team-a/secret*"`},
		{"scp pattern, ssh URL", teamA, "ssh://git@git.example/shared/lib", ""},
		{"scp pattern, scp URL", teamA, "git@git.example:shared/lib.git", ""},
		{"scp pattern, https URL", teamA, "https://git.example/shared/lib", "(spec.sourceRepos)"},
		{"double star crosses segments", []string{"https://git.example/**"}, "https://git.example/a/b/c", ""},
		{"double star stays on host", []string{"https://git.example/**"}, "https://other.example/a", "(spec.sourceRepos)"},
		{"star alone matches all", []string{"*"}, "git@anything:x/y/z", ""},
		{"deny then allow all", []string{"!https://git.example/team-b/*", "*"}, "https://git.example/team-b/app",
			"refused by spec.sourceRepos[0]"},
		{"deny order does not matter", []string{"*", "!https://git.example/team-b/*"}, "https://git.example/team-b/app",
			"refused by spec.sourceRepos[1]"},
		{"deny does not refuse others", []string{"*", "!https://git.example/team-b/*"}, "https://git.example/team-a/app", ""},
		{"deny entries allow nothing", []string{"!https://git.example/team-b/*"}, "https://git.example/team-a/app",
			"is not permitted in project team-a (spec.sourceRepos)"},
		{"negated pattern normalized", []string{"*", "!HTTPS://Git.Example/x.git/"}, "https://git.example/x", "refused"},
		{"no repos", nil, "https://git.example/team-a/app", "(spec.sourceRepos)"},
		{"exact", []string{"https://git.example/app.git"}, "https://git.example/app", ""},
		{"exact is not a prefix", []string{"https://git.example/app"}, "https://git.example/app2", "(spec.sourceRepos)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustNew(t, v1alpha1.AppProjectSpec{SourceRepos: tt.repos})
			checkPermit(t, "PermitSource("+tt.url+")", p.PermitSource(tt.url), tt.wantErr)
		})
	}
}

func TestPermitDestination(t *testing.T) {
	const prod, dev = "https://prod.example:6443", "https://dev.example:6443"
	teamA := []v1alpha1.ApplicationDestination{
		{Server: "*", Namespace: "team-a-*"},
		{Namespace: "!kube-system"},
	}
	type dest struct{ server, name, namespace string }
	tests := []struct {
		name    string
		rules   []v1alpha1.ApplicationDestination
		dest    dest
		wantErr string
	}{
		{"allowed", teamA, dest{prod, "prod", "team-a-web"}, ""},
		{"namespace not allowed", teamA, dest{prod, "prod", "team-b-web"},
			"destination prod/team-b-web is not permitted in project team-a: no entry of spec.destinations allows it"},
		{"deny entry", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}, {Namespace: "!kube-system"}},
			dest{prod, "prod", "kube-system"},
			`destination prod/kube-system is not permitted in project team-a: refused by spec.destinations[1] {namespace "!kube-system"}`},
		{"deny entry, other namespace", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}, {Namespace: "!kube-system"}},
			dest{prod, "prod", "default"}, ""},
		{"deny entry allows nothing", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "!kube-system"}},
			dest{prod, "prod", "default"}, "no entry of spec.destinations allows it"},
		{"deny entry refuses before allow", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "!kube-*"}, {Server: "*", Namespace: "*"}},
			dest{dev, "dev", "kube-public"}, "refused by spec.destinations[0]"},
		{"negated server", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}, {Server: "!https://prod.*", Namespace: "*"}},
			dest{prod, "prod", "team-a-web"}, `refused by spec.destinations[1] {server "!https://prod.*", namespace "*"}`},
		{"negated server, other server", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}, {Server: "!https://prod.*", Namespace: "*"}},
			dest{dev, "dev", "team-a-web"}, ""},
		{"negated name", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}, {Name: "!prod", Namespace: "*"}},
			dest{prod, "prod", "x"}, `refused by spec.destinations[1] {name "!prod", namespace "*"}`},
		{"negated name, other cluster", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}, {Name: "!prod", Namespace: "*"}},
			dest{dev, "dev", "x"}, ""},
		// As in Argo CD, each '!' field refuses on its own: this refuses
		// kube-system on dev too, not only on prod.
		{"negated field refuses on its own", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}, {Server: prod, Namespace: "!kube-system"}},
			dest{dev, "dev", "kube-system"}, "refused by spec.destinations[1]"},
		{"two negated fields: server", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}, {Server: "!" + prod, Namespace: "!kube-system"}},
			dest{prod, "prod", "default"}, "refused by spec.destinations[1]"},
		{"two negated fields: namespace", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}, {Server: "!" + prod, Namespace: "!kube-system"}},
			dest{dev, "dev", "kube-system"}, "refused by spec.destinations[1]"},
		{"two negated fields: neither", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}, {Server: "!" + prod, Namespace: "!kube-system"}},
			dest{dev, "dev", "default"}, ""},
		{"by server", []v1alpha1.ApplicationDestination{{Server: prod, Namespace: "web"}}, dest{prod, "prod", "web"}, ""},
		{"by server, wrong server", []v1alpha1.ApplicationDestination{{Server: prod, Namespace: "web"}}, dest{dev, "prod", "web"},
			"destination prod/web is not permitted"},
		{"by name", []v1alpha1.ApplicationDestination{{Name: "prod", Namespace: "web"}}, dest{prod, "prod", "web"}, ""},
		{"by name, wrong name", []v1alpha1.ApplicationDestination{{Name: "prod", Namespace: "web"}}, dest{prod, "production", "web"},
			"destination production/web is not permitted"},
		{"by name glob", []v1alpha1.ApplicationDestination{{Name: "prod-*", Namespace: "*"}}, dest{prod, "prod-eu", "web"}, ""},
		{"server or name", []v1alpha1.ApplicationDestination{{Server: prod, Name: "other", Namespace: "*"}}, dest{prod, "prod", "web"}, ""},
		{"server or name: name", []v1alpha1.ApplicationDestination{{Server: "https://nope", Name: "prod", Namespace: "*"}}, dest{prod, "prod", "web"}, ""},
		{"entry without cluster allows nothing", []v1alpha1.ApplicationDestination{{Namespace: "*"}}, dest{prod, "prod", "web"},
			"no entry of spec.destinations allows it"},
		{"empty namespace pattern", []v1alpha1.ApplicationDestination{{Server: "*"}}, dest{prod, "prod", ""}, ""},
		{"empty namespace pattern, namespaced app", []v1alpha1.ApplicationDestination{{Server: "*"}}, dest{prod, "prod", "web"},
			"not permitted"},
		{"star namespace allows cluster-scoped apps", []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}}, dest{prod, "prod", ""}, ""},
		{"no namespace in message", nil, dest{prod, "prod", ""}, "destination prod/(no namespace) is not permitted"},
		{"server in message without name", nil, dest{prod, "", "web"}, "destination " + prod + "/web is not permitted"},
		{"no destinations", nil, dest{prod, "prod", "web"}, "no entry of spec.destinations allows it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustNew(t, v1alpha1.AppProjectSpec{Destinations: tt.rules})
			err := p.PermitDestination(tt.dest.server, tt.dest.name, tt.dest.namespace)
			checkPermit(t, "PermitDestination", err, tt.wantErr)
		})
	}
}

func TestPermitResource(t *testing.T) {
	tests := []struct {
		name       string
		spec       v1alpha1.AppProjectSpec
		group      string
		kind       string
		namespaced bool
		wantErr    string
	}{
		{"empty cluster whitelist allows no cluster-scoped kind", v1alpha1.AppProjectSpec{}, "", "Namespace", false,
			"cluster-scoped kind Namespace is not permitted in project team-a (spec.clusterResourceWhitelist is empty: no cluster-scoped kind is allowed)"},
		{"empty lists allow namespaced kinds", v1alpha1.AppProjectSpec{}, "apps", "Deployment", true, ""},
		{"cluster whitelist", v1alpha1.AppProjectSpec{ClusterResourceWhitelist: []v1alpha1.GroupKind{{Group: "", Kind: "Namespace"}}},
			"", "Namespace", false, ""},
		{"cluster whitelist, core group only", v1alpha1.AppProjectSpec{ClusterResourceWhitelist: []v1alpha1.GroupKind{{Group: "", Kind: "Namespace"}}},
			"example.com", "Namespace", false, "cluster-scoped kind example.com/Namespace is not permitted in project team-a (spec.clusterResourceWhitelist)"},
		{"cluster whitelist miss", v1alpha1.AppProjectSpec{ClusterResourceWhitelist: []v1alpha1.GroupKind{{Group: "", Kind: "Namespace"}}},
			"rbac.authorization.k8s.io", "ClusterRole", false,
			"cluster-scoped kind rbac.authorization.k8s.io/ClusterRole is not permitted in project team-a (spec.clusterResourceWhitelist)"},
		{"cluster whitelist star", v1alpha1.AppProjectSpec{ClusterResourceWhitelist: []v1alpha1.GroupKind{{Group: "*", Kind: "*"}}},
			"rbac.authorization.k8s.io", "ClusterRole", false, ""},
		{"star group matches core", v1alpha1.AppProjectSpec{ClusterResourceWhitelist: []v1alpha1.GroupKind{{Group: "*", Kind: "Namespace"}}},
			"", "Namespace", false, ""},
		{"group glob", v1alpha1.AppProjectSpec{ClusterResourceWhitelist: []v1alpha1.GroupKind{{Group: "*.k8s.io", Kind: "Cluster*"}}},
			"rbac.authorization.k8s.io", "ClusterRoleBinding", false, ""},
		{"kind is case-sensitive", v1alpha1.AppProjectSpec{ClusterResourceWhitelist: []v1alpha1.GroupKind{{Group: "", Kind: "Namespace"}}},
			"", "namespace", false, "(spec.clusterResourceWhitelist)"},
		{"cluster blacklist wins", v1alpha1.AppProjectSpec{
			ClusterResourceWhitelist: []v1alpha1.GroupKind{{Group: "*", Kind: "*"}},
			ClusterResourceBlacklist: []v1alpha1.GroupKind{{Group: "", Kind: "Namespace"}, {Group: "rbac.authorization.k8s.io", Kind: "*"}},
		}, "rbac.authorization.k8s.io", "ClusterRole", false,
			"cluster-scoped kind rbac.authorization.k8s.io/ClusterRole is not permitted in project team-a (spec.clusterResourceBlacklist[1])"},
		{"cluster blacklist miss", v1alpha1.AppProjectSpec{
			ClusterResourceWhitelist: []v1alpha1.GroupKind{{Group: "*", Kind: "*"}},
			ClusterResourceBlacklist: []v1alpha1.GroupKind{{Group: "", Kind: "Namespace"}},
		}, "storage.k8s.io", "StorageClass", false, ""},
		{"cluster lists do not apply to namespaced kinds", v1alpha1.AppProjectSpec{
			ClusterResourceBlacklist: []v1alpha1.GroupKind{{Group: "*", Kind: "*"}},
		}, "apps", "Deployment", true, ""},
		{"namespace lists do not apply to cluster-scoped kinds", v1alpha1.AppProjectSpec{
			ClusterResourceWhitelist:   []v1alpha1.GroupKind{{Group: "*", Kind: "*"}},
			NamespaceResourceBlacklist: []v1alpha1.GroupKind{{Group: "*", Kind: "*"}},
		}, "", "Namespace", false, ""},
		{"namespace whitelist", v1alpha1.AppProjectSpec{NamespaceResourceWhitelist: []v1alpha1.GroupKind{{Group: "apps", Kind: "*"}, {Group: "", Kind: "ConfigMap"}}},
			"", "ConfigMap", true, ""},
		{"namespace whitelist miss", v1alpha1.AppProjectSpec{NamespaceResourceWhitelist: []v1alpha1.GroupKind{{Group: "apps", Kind: "*"}}},
			"", "Secret", true, "namespaced kind Secret is not permitted in project team-a (spec.namespaceResourceWhitelist)"},
		{"namespace blacklist", v1alpha1.AppProjectSpec{NamespaceResourceBlacklist: []v1alpha1.GroupKind{{Group: "", Kind: "ResourceQuota"}, {Group: "networking.k8s.io", Kind: "NetworkPolicy"}}},
			"networking.k8s.io", "NetworkPolicy", true,
			"namespaced kind networking.k8s.io/NetworkPolicy is not permitted in project team-a (spec.namespaceResourceBlacklist[1])"},
		{"namespace blacklist wins over whitelist", v1alpha1.AppProjectSpec{
			NamespaceResourceWhitelist: []v1alpha1.GroupKind{{Group: "*", Kind: "*"}},
			NamespaceResourceBlacklist: []v1alpha1.GroupKind{{Group: "apps", Kind: "DaemonSet"}},
		}, "apps", "DaemonSet", true, "(spec.namespaceResourceBlacklist[0])"},
		{"namespace blacklist miss", v1alpha1.AppProjectSpec{NamespaceResourceBlacklist: []v1alpha1.GroupKind{{Group: "apps", Kind: "DaemonSet"}}},
			"apps", "Deployment", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustNew(t, tt.spec)
			checkPermit(t, "PermitResource", p.PermitResource(tt.group, tt.kind, tt.namespaced), tt.wantErr)
		})
	}
}

func TestPermitSourceNamespace(t *testing.T) {
	tests := []struct {
		name       string
		namespaces []string
		appNS      string
		wantErr    string
	}{
		{"control namespace always", nil, "argocd", ""},
		{"empty namespace is the control namespace", nil, "", ""},
		{"not listed", nil, "team-a-apps",
			"Applications in namespace team-a-apps may not use project team-a (spec.sourceNamespaces)"},
		{"exact", []string{"team-a-apps"}, "team-a-apps", ""},
		{"glob", []string{"team-a-*"}, "team-a-apps", ""},
		{"glob miss", []string{"team-a-*"}, "team-b-apps", "(spec.sourceNamespaces)"},
		{"regexp", []string{"/^team-(a|b)-apps$/"}, "team-b-apps", ""},
		{"regexp miss", []string{"/^team-(a|b)-apps$/"}, "team-c-apps", "(spec.sourceNamespaces)"},
		{"star", []string{"*"}, "anything", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustNew(t, v1alpha1.AppProjectSpec{SourceNamespaces: tt.namespaces})
			checkPermit(t, "PermitSourceNamespace", p.PermitSourceNamespace(tt.appNS, "argocd"), tt.wantErr)
		})
	}
}

func TestDefault(t *testing.T) {
	a := Default("tether")
	if a.Name != v1alpha1.DefaultProject || a.Namespace != "tether" {
		t.Errorf("Default(tether) is %s/%s, want tether/default", a.Namespace, a.Name)
	}
	if a.Kind != v1alpha1.AppProjectKind || a.APIVersion != "argoproj.io/v1alpha1" {
		t.Errorf("Default: type %s %s, want argoproj.io/v1alpha1 AppProject", a.APIVersion, a.Kind)
	}
	p, err := New(a)
	if err != nil {
		t.Fatalf("New(Default): %v", err)
	}
	if p.Name() != "default" || p.Namespace() != "tether" {
		t.Errorf("Name/Namespace = %s/%s", p.Name(), p.Namespace())
	}
	for _, u := range []string{"https://git.example/a/b/c.git", "git@git.example:x/y", "/local/repo"} {
		checkPermit(t, "default PermitSource("+u+")", p.PermitSource(u), "")
	}
	checkPermit(t, "default PermitDestination", p.PermitDestination("https://prod.example", "prod", "kube-system"), "")
	checkPermit(t, "default PermitDestination (cluster-scoped)", p.PermitDestination(v1alpha1.InClusterServer, v1alpha1.InClusterName, ""), "")
	checkPermit(t, "default PermitResource cluster", p.PermitResource("rbac.authorization.k8s.io", "ClusterRole", false), "")
	checkPermit(t, "default PermitResource namespaced", p.PermitResource("", "Secret", true), "")
	if ok, reason := p.SyncAllowed(t0, "app", "web", "prod", "https://prod.example", false); !ok || reason != "" {
		t.Errorf("default SyncAllowed = %v, %q; want true, no reason", ok, reason)
	}
	// Each call returns a fresh object.
	Default("x").Spec.SourceRepos[0] = "changed"
	if Default("x").Spec.SourceRepos[0] != "*" {
		t.Errorf("Default shares its slices between calls")
	}
}

func TestNewErrors(t *testing.T) {
	window := func(mod func(*v1alpha1.SyncWindow)) v1alpha1.AppProjectSpec {
		w := v1alpha1.SyncWindow{Kind: "deny", Schedule: "0 22 * * *", Duration: "1h", Applications: []string{"*"}}
		mod(&w)
		return v1alpha1.AppProjectSpec{SyncWindows: []v1alpha1.SyncWindow{
			{Kind: "allow", Schedule: "0 9 * * *", Duration: "8h", Namespaces: []string{"*"}},
			w,
		}}
	}
	tests := []struct {
		name string
		spec v1alpha1.AppProjectSpec
		want []string // each must appear in the error
	}{
		{"bad source glob", v1alpha1.AppProjectSpec{SourceRepos: []string{"*", "https://git.example/[team"}},
			[]string{`AppProject argocd/team-a: spec.sourceRepos[1] "https://git.example/[team": unclosed '['`}},
		{"source refuses everything", v1alpha1.AppProjectSpec{SourceRepos: []string{"!*"}},
			[]string{`spec.sourceRepos[0] "!*"`, "refuse everything"}},
		{"bad destination server", v1alpha1.AppProjectSpec{Destinations: []v1alpha1.ApplicationDestination{{Server: "{a,b", Namespace: "*"}}},
			[]string{`spec.destinations[0].server "{a,b": unclosed '{'`}},
		{"bad destination name", v1alpha1.AppProjectSpec{Destinations: []v1alpha1.ApplicationDestination{{Name: "!*", Namespace: "*"}}},
			[]string{`spec.destinations[0].name "!*"`}},
		{"bad destination namespace", v1alpha1.AppProjectSpec{Destinations: []v1alpha1.ApplicationDestination{{Server: "*"}, {Server: "*", Namespace: `team\`}}},
			[]string{`spec.destinations[1].namespace "team\\"`, "backslash"}},
		{"bad cluster whitelist group", v1alpha1.AppProjectSpec{ClusterResourceWhitelist: []v1alpha1.GroupKind{{Group: "[", Kind: "*"}}},
			[]string{`spec.clusterResourceWhitelist[0].group "["`}},
		{"bad cluster blacklist kind", v1alpha1.AppProjectSpec{ClusterResourceBlacklist: []v1alpha1.GroupKind{{Group: "", Kind: "Namespace"}, {Group: "*", Kind: "[z-a]"}}},
			[]string{`spec.clusterResourceBlacklist[1].kind "[z-a]": bad range`}},
		{"bad namespace whitelist", v1alpha1.AppProjectSpec{NamespaceResourceWhitelist: []v1alpha1.GroupKind{{Group: "{", Kind: "*"}}},
			[]string{`spec.namespaceResourceWhitelist[0].group "{"`}},
		{"bad namespace blacklist", v1alpha1.AppProjectSpec{NamespaceResourceBlacklist: []v1alpha1.GroupKind{{Group: "", Kind: "[a"}}},
			[]string{`spec.namespaceResourceBlacklist[0].kind "[a"`}},
		{"bad source namespace glob", v1alpha1.AppProjectSpec{SourceNamespaces: []string{"team-[a"}},
			[]string{`spec.sourceNamespaces[0] "team-[a"`}},
		{"bad source namespace regexp", v1alpha1.AppProjectSpec{SourceNamespaces: []string{"/team-(a/"}},
			[]string{`spec.sourceNamespaces[0] "/team-(a/"`, "missing closing )"}},
		{"bad schedule", window(func(w *v1alpha1.SyncWindow) { w.Schedule = "61 * * * *" }),
			[]string{`AppProject argocd/team-a: spec.syncWindows[1].schedule "61 * * * *": `, "above maximum"}},
		{"six-field schedule", window(func(w *v1alpha1.SyncWindow) { w.Schedule = "0 0 22 * * *" }),
			[]string{`spec.syncWindows[1].schedule "0 0 22 * * *"`}},
		{"empty schedule", window(func(w *v1alpha1.SyncWindow) { w.Schedule = "" }),
			[]string{`spec.syncWindows[1].schedule ""`}},
		{"unknown descriptor", window(func(w *v1alpha1.SyncWindow) { w.Schedule = "@fortnightly" }),
			[]string{`spec.syncWindows[1].schedule "@fortnightly"`}},
		{"@every", window(func(w *v1alpha1.SyncWindow) { w.Schedule = "@every 1h" }),
			[]string{`spec.syncWindows[1].schedule "@every 1h": @every has no fixed start times`}},
		{"time zone in schedule", window(func(w *v1alpha1.SyncWindow) { w.Schedule = "CRON_TZ=Europe/Paris 0 22 * * *" }),
			[]string{`spec.syncWindows[1].schedule "CRON_TZ=Europe/Paris 0 22 * * *": set the time zone in timeZone`}},
		{"bad duration", window(func(w *v1alpha1.SyncWindow) { w.Duration = "1 hour" }),
			[]string{`spec.syncWindows[1].duration "1 hour": `}},
		{"empty duration", window(func(w *v1alpha1.SyncWindow) { w.Duration = "" }),
			[]string{`spec.syncWindows[1].duration ""`}},
		{"zero duration", window(func(w *v1alpha1.SyncWindow) { w.Duration = "0s" }),
			[]string{`spec.syncWindows[1].duration "0s": must be positive`}},
		{"negative duration", window(func(w *v1alpha1.SyncWindow) { w.Duration = "-1h" }),
			[]string{`spec.syncWindows[1].duration "-1h": must be positive`}},
		{"unknown kind", window(func(w *v1alpha1.SyncWindow) { w.Kind = "block" }),
			[]string{`spec.syncWindows[1].kind "block": must be "allow" or "deny"`}},
		{"kind is case-sensitive", window(func(w *v1alpha1.SyncWindow) { w.Kind = "Deny" }),
			[]string{`spec.syncWindows[1].kind "Deny"`}},
		{"unknown time zone", window(func(w *v1alpha1.SyncWindow) { w.TimeZone = "Mars/Olympus" }),
			[]string{`spec.syncWindows[1].timeZone "Mars/Olympus": unknown time zone`}},
		{"Local time zone", window(func(w *v1alpha1.SyncWindow) { w.TimeZone = "Local" }),
			[]string{`spec.syncWindows[1].timeZone "Local"`}},
		{"window without selector", window(func(w *v1alpha1.SyncWindow) { w.Applications = nil }),
			[]string{`spec.syncWindows[1] "deny 0 22 * * *": needs at least one of applications, namespaces or clusters`}},
		{"bad window application", window(func(w *v1alpha1.SyncWindow) { w.Applications = []string{"ok", "web-[a"} }),
			[]string{`spec.syncWindows[1].applications[1] "web-[a"`}},
		{"bad window namespace", window(func(w *v1alpha1.SyncWindow) { w.Namespaces = []string{"{x"} }),
			[]string{`spec.syncWindows[1].namespaces[0] "{x"`}},
		{"bad window cluster", window(func(w *v1alpha1.SyncWindow) { w.Clusters = []string{"[prod"} }),
			[]string{`spec.syncWindows[1].clusters[0] "[prod"`}},
		{"every problem is reported", v1alpha1.AppProjectSpec{
			SourceRepos: []string{"["},
			SyncWindows: []v1alpha1.SyncWindow{{Kind: "sometimes", Schedule: "x", Duration: "y", TimeZone: "Nowhere", Clusters: []string{"*"}}},
		}, []string{`spec.sourceRepos[0]`, `spec.syncWindows[0].kind`, `spec.syncWindows[0].schedule`, `spec.syncWindows[0].duration`, `spec.syncWindows[0].timeZone`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(appProject(tt.spec))
			if err == nil {
				t.Fatalf("New succeeded (%v), want an error", p)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, want)
				}
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Project != "argocd/team-a" {
				t.Errorf("error %v holds no *FieldError of project argocd/team-a", err)
			}
			if errors.Is(err, ErrNotPermitted) {
				t.Errorf("a validation error is ErrNotPermitted")
			}
		})
	}
}

func TestNewErrorCount(t *testing.T) {
	_, err := New(appProject(v1alpha1.AppProjectSpec{
		SourceRepos:  []string{"[", "ok", "!*"},
		Destinations: []v1alpha1.ApplicationDestination{{Server: "[", Name: "{", Namespace: "!*"}},
	}))
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %v does not join several errors", err)
	}
	if n := len(joined.Unwrap()); n != 5 {
		t.Errorf("got %d errors, want 5:\n%v", n, err)
	}
}

func TestNewNoProject(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Errorf("New(nil) succeeded")
	}
	a := appProject(v1alpha1.AppProjectSpec{})
	a.Name = ""
	if _, err := New(a); err == nil || !strings.Contains(err.Error(), "metadata.name is empty") {
		t.Errorf("New(no name) error = %v, want metadata.name is empty", err)
	}
}

func TestNewValidProject(t *testing.T) {
	p, err := New(appProject(v1alpha1.AppProjectSpec{
		SourceRepos:              []string{"https://git.example/team-a/*", "!https://git.example/team-a/secret"},
		Destinations:             []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "team-a-*"}, {Namespace: "!kube-system"}},
		ClusterResourceWhitelist: []v1alpha1.GroupKind{{Group: "", Kind: "Namespace"}},
		SourceNamespaces:         []string{"team-a", "/^team-a-.*$/"},
		SyncWindows: []v1alpha1.SyncWindow{
			{Kind: "deny", Schedule: "0 22 * * *", Duration: "8h", Applications: []string{"*"}, ManualSync: true, TimeZone: "Europe/Amsterdam"},
			{Kind: "allow", Schedule: "@daily", Duration: "1h30m", Clusters: []string{"prod"}},
			{Kind: "allow", Schedule: "*/15 9-17 * * MON-FRI", Duration: "5m", Namespaces: []string{"team-a-*"}},
		},
	}))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if !p.HasWindows() {
		t.Errorf("HasWindows = false, want true")
	}
}
