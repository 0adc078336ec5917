// Package deploy holds the manifests that install tether into a cluster.
package deploy

import (
	"embed"
	"io/fs"
	"sort"
)

//go:embed crds/*.yaml
var crds embed.FS

// CRDs returns the CustomResourceDefinitions of the kinds tether serves, as
// one multi-document YAML stream.
func CRDs() ([]byte, error) {
	names, err := fs.Glob(crds, "crds/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []byte
	for _, n := range names {
		b, err := crds.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, "---\n"...)
		out = append(out, b...)
	}
	return out, nil
}
