// Package appset turns an ApplicationSet into the Applications it stands
// for: its generators produce parameter sets, and each set is substituted
// into the template.
//
// The package is pure: it reads no cluster. What generators need from
// outside comes through Inputs — the destination clusters for the clusters
// generator and a Repos for the git generator (SourceRepos reads through
// the shared source.Cache). Generate is all or nothing: any error returns
// no Applications, so a caller never acts on part of a set.
//
// Templating follows Argo CD. Without goTemplate, every string of the
// template (map keys included) has its {{param}} tags replaced by flat
// parameters with dotted names (cluster.name, path.basename, path[0]);
// unknown tags stay as written. With goTemplate, each string is a Go
// text/template over nested parameters (.cluster.name, .path.basename,
// index .path.segments 0) with the Sprig functions and normalize,
// slugify, toYaml, fromYaml and fromYamlArray.
package appset
