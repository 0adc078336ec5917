// Package controller decides when the pipeline runs. It watches
// Applications, the objects they manage (through the cluster package's watch
// cache) and their Git repositories (one shared ref check per repository per
// interval), and for each app that needs it runs source -> render -> plan ->
// apply -> record.
package controller
