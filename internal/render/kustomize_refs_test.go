package render

import "testing"

func TestIsRemoteBase(t *testing.T) {
	tests := []struct {
		ref  string
		want bool
	}{
		{"https://github.com/x/y//base", true},
		{"github.com/x/y/base?ref=v1", true},
		{"git::https://example.com/x/y", true},
		{"git@github.com:x/y.git", true},
		{"ssh://git@example.com/x/y", true},
		{"file:///etc", true},
		{"../base", false},
		{"deployment.yaml", false},
		{"gitlab.example.com/x/y", false}, // kustomize reads it as a local path
	}
	for _, tt := range tests {
		if got := isRemoteBase(tt.ref); got != tt.want {
			t.Errorf("isRemoteBase(%q) = %v, want %v", tt.ref, got, tt.want)
		}
	}
}

func TestParseImageOverride(t *testing.T) {
	tests := []struct {
		spec    string
		want    imageOverride
		wantErr bool
	}{
		{spec: "nginx=registry/nginx:1.27", want: imageOverride{name: "nginx", newName: "registry/nginx", newTag: "1.27"}},
		{spec: "nginx:1.27", want: imageOverride{name: "nginx", newTag: "1.27"}},
		{spec: "nginx@sha256:abc", want: imageOverride{name: "nginx", digest: "sha256:abc"}},
		{spec: "nginx=registry:5000/nginx", want: imageOverride{name: "nginx", newName: "registry:5000/nginx"}},
		{spec: "registry:5000/nginx", want: imageOverride{name: "registry:5000/nginx"}},
		{spec: "=x", wantErr: true},
		{spec: "nginx=", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseImageOverride(tt.spec)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseImageOverride(%q) error = %v, want error %v", tt.spec, err, tt.wantErr)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("parseImageOverride(%q) = %+v, want %+v", tt.spec, got, tt.want)
		}
	}
}
