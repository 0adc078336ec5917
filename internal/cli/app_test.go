package cli

import (
	"strings"
	"testing"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestRefreshMode(t *testing.T) {
	for _, c := range []struct {
		refresh, hard bool
		want, err     string
	}{
		{false, false, "", ""},
		{true, false, "normal", ""},
		{false, true, "hard", ""},
		{true, true, "", "--refresh and --hard-refresh: choose one"},
	} {
		got, err := refreshMode(c.refresh, c.hard)
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
			t.Errorf("refreshMode(%v, %v) = %q, %v; want %q, %q", c.refresh, c.hard, got, err, c.want, c.err)
		}
	}
}

func TestFilterApps(t *testing.T) {
	app := func(name, project string, repos ...string) v1alpha1.Application {
		a := v1alpha1.Application{}
		a.Name, a.Spec.Project = name, project
		if len(repos) == 1 {
			a.Spec.Source = &v1alpha1.ApplicationSource{RepoURL: repos[0]}
		} else {
			for _, r := range repos {
				a.Spec.Sources = append(a.Spec.Sources, v1alpha1.ApplicationSource{RepoURL: r})
			}
		}
		return a
	}
	apps := []v1alpha1.Application{
		app("a", "", "https://git.example/infra.git"),
		app("b", "team", "git@git.example:infra/other.git"),
		app("c", "team", "https://charts.example", "ssh://git@git.example/infra.git"),
	}
	for _, c := range []struct {
		projects []string
		repo     string
		want     string
	}{
		{nil, "", "a,b,c"},
		{[]string{"default"}, "", "a"},
		{[]string{"team"}, "", "b,c"},
		{nil, "https://git.example/infra", "a,c"},
		{nil, "git@git.example:infra/other", "b"},
		{[]string{"team"}, "https://GIT.example/infra.git/", "c"},
		{nil, "https://elsewhere.example/infra.git", ""},
	} {
		var got []string
		for _, a := range filterApps(apps, c.projects, c.repo) {
			got = append(got, a.Name)
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("filterApps(%v, %q) = %v, want %s", c.projects, c.repo, got, c.want)
		}
	}
}
