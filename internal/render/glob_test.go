package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpandBraces(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
		wantErr bool
	}{
		{pattern: "*.yaml", want: []string{"*.yaml"}},
		{pattern: "{a.yaml,b.yaml}", want: []string{"a.yaml", "b.yaml"}},
		{pattern: "{*.yml,*.yaml}", want: []string{"*.yml", "*.yaml"}},
		{pattern: "app-{dev,prod}.{yaml,json}", want: []string{"app-dev.yaml", "app-dev.json", "app-prod.yaml", "app-prod.json"}},
		{pattern: "{a,{b,c}}", want: []string{"a", "b", "c"}},
		{pattern: "{a,b", wantErr: true},
		{pattern: "a}", wantErr: true},
	}
	for _, tt := range tests {
		got, err := expandBraces(tt.pattern)
		if (err != nil) != tt.wantErr {
			t.Errorf("expandBraces(%q) error = %v, want error %v", tt.pattern, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("expandBraces(%q) (-want +got):\n%s", tt.pattern, diff)
		}
	}
}

func TestGlobSetMatch(t *testing.T) {
	g, err := parseGlobs("include", "{sub/*.yaml,db.*}")
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{
		"sub/a.yaml":     true,
		"db.json":        true,
		"other/db.yaml":  true, // the base name matches
		"sub/deep/a.yml": false,
		"app.yaml":       false,
	} {
		if got := g.match(rel); got != want {
			t.Errorf("match(%q) = %v, want %v", rel, got, want)
		}
	}
	if _, err := parseGlobs("exclude", "[a-"); err == nil {
		t.Error("a malformed glob was accepted")
	}
}
