package project

import (
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern string
		paths   bool // compile with path separators
		yes     []string
		no      []string
	}{
		{pattern: "*", yes: []string{"", "a", "a/b/c"}},
		{pattern: "*", paths: true, yes: []string{"", "a", "https://x/a/b"}},
		{pattern: "**", paths: true, yes: []string{"a/b/c"}},
		{pattern: "", yes: []string{""}, no: []string{"a"}},
		{pattern: "team-a-*", yes: []string{"team-a-", "team-a-dev", "team-a-x/y"}, no: []string{"team-a", "team-b-dev", "xteam-a-dev"}},
		{pattern: "a/*", paths: true, yes: []string{"a/", "a/b"}, no: []string{"a/b/c", "b/c"}},
		{pattern: "a/**", paths: true, yes: []string{"a/b", "a/b/c/d"}, no: []string{"b/c"}},
		{pattern: "a/**/z", paths: true, yes: []string{"a/b/z", "a/b/c/z"}, no: []string{"a/z/y"}},
		{pattern: "a?c", yes: []string{"abc", "a/c"}, no: []string{"ac", "abbc"}},
		{pattern: "a?c", paths: true, yes: []string{"abc"}, no: []string{"a/c"}},
		{pattern: "[abc]x", yes: []string{"ax", "cx"}, no: []string{"dx", "x"}},
		{pattern: "[a-c]x", yes: []string{"bx"}, no: []string{"dx"}},
		{pattern: "[!a-c]x", yes: []string{"dx", "/x"}, no: []string{"ax"}},
		{pattern: "[^a-c]x", yes: []string{"dx"}, no: []string{"bx"}},
		{pattern: "[!a]x", paths: true, yes: []string{"bx"}, no: []string{"/x", "ax"}},
		{pattern: "[]]", yes: []string{"]"}, no: []string{"a"}},
		{pattern: "[-a]", yes: []string{"-", "a"}, no: []string{"b"}},
		{pattern: "[a-]", yes: []string{"-", "a"}, no: []string{"b"}},
		{pattern: `[\]]`, yes: []string{"]"}},
		{pattern: "{dev,prod}-*", yes: []string{"dev-1", "prod-x"}, no: []string{"test-1", "{dev,prod}-1"}},
		{pattern: "x{a,{b,c}}", yes: []string{"xa", "xb", "xc"}, no: []string{"xd"}},
		{pattern: "a,b}", yes: []string{"a,b}"}, no: []string{"a"}},
		{pattern: `\*`, yes: []string{"*"}, no: []string{"a"}},
		{pattern: `a\?`, yes: []string{"a?"}, no: []string{"ab"}},
		// Regular expression characters are literal.
		{pattern: "a.b+(c)|d$", yes: []string{"a.b+(c)|d$"}, no: []string{"axb+(c)|d$", "aab(c)|d"}},
		{pattern: "rbac.authorization.k8s.io", yes: []string{"rbac.authorization.k8s.io"}, no: []string{"rbacXauthorization.k8s.io"}},
		{pattern: "*.k8s.io", yes: []string{"rbac.authorization.k8s.io"}, no: []string{"apps"}},
		{pattern: "héllo-*", yes: []string{"héllo-wörld"}, no: []string{"hello-"}},
	}
	for _, tt := range tests {
		g, err := compileGlob(tt.pattern, tt.paths)
		if err != nil {
			t.Errorf("compileGlob(%q, %v): %v", tt.pattern, tt.paths, err)
			continue
		}
		for _, s := range tt.yes {
			if !g.match(s) {
				t.Errorf("glob %q (paths %v) does not match %q, want match", tt.pattern, tt.paths, s)
			}
		}
		for _, s := range tt.no {
			if g.match(s) {
				t.Errorf("glob %q (paths %v) matches %q, want no match", tt.pattern, tt.paths, s)
			}
		}
	}
}

func TestGlobErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"[abc", "unclosed '['"},
		{"[", "unclosed '['"},
		{"[]", "unclosed '['"},
		{"[!", "unclosed '['"},
		{`[a\`, "unclosed '['"},
		{"{a,b", "unclosed '{'"},
		{"x{a,{b}", "unclosed '{'"},
		{`foo\`, "backslash"},
		{"[z-a]", "bad range"},
	}
	for _, tt := range tests {
		_, err := compileGlob(tt.pattern, false)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("compileGlob(%q) error = %v, want it to contain %q", tt.pattern, err, tt.want)
		}
	}
}

func TestCompilePattern(t *testing.T) {
	p, err := compilePattern("!kube-*", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.deny || p.raw != "!kube-*" || !p.g.match("kube-system") || p.g.match("default") {
		t.Errorf("compilePattern(!kube-*) = %+v: want a deny pattern whose glob matches kube-system only", p)
	}
	for _, raw := range []string{"!*", "!**"} {
		if _, err := compilePattern(raw, false, nil); err == nil || !strings.Contains(err.Error(), "refuse everything") {
			t.Errorf("compilePattern(%q) error = %v, want a refusal of the pattern", raw, err)
		}
	}
	if _, err := compilePattern("![x", false, nil); err == nil {
		t.Errorf("compilePattern(![x) succeeded, want an error")
	}
	// The body after '!' is normalized.
	p, err = compilePattern("!HTTPS://Git.Example/x.git", true, normalizeRepoURL)
	if err != nil {
		t.Fatal(err)
	}
	if !p.g.match("https://git.example/x") {
		t.Errorf("normalized deny pattern %q does not match https://git.example/x", p.raw)
	}
}

func TestNormalizeRepoURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://git.example/team-a/app", "https://git.example/team-a/app"},
		{"https://git.example/team-a/app.git", "https://git.example/team-a/app"},
		{"https://git.example/team-a/app/", "https://git.example/team-a/app"},
		{"https://git.example/team-a/app.git/", "https://git.example/team-a/app"},
		{"  https://git.example/a  ", "https://git.example/a"},
		{"HTTPS://Git.EXAMPLE/Team-A/App", "https://git.example/Team-A/App"},
		{"https://User@Git.Example:8443/x", "https://User@git.example:8443/x"},
		{"https://git.example", "https://git.example"},
		{"https://git.example/", "https://git.example"},
		{"ssh://git@Git.Example/org/repo.git", "ssh://git@git.example/org/repo"},
		{"git@Git.Example:org/repo.git", "ssh://git@git.example/org/repo"},
		{"git@git.example:/org/repo", "ssh://git@git.example/org/repo"},
		{"git.example:org/repo", "ssh://git.example/org/repo"},
		{"/srv/git/repo.git/", "/srv/git/repo"},
		{"*", "*"},
		{"https://git.example/team-a/*", "https://git.example/team-a/*"},
		{"git@git.example:team-a/*", "ssh://git@git.example/team-a/*"},
	}
	for _, tt := range tests {
		if got := normalizeRepoURL(tt.in); got != tt.want {
			t.Errorf("normalizeRepoURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
