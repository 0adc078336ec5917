// Package apply is the only package that writes to a cluster. It runs a
// plan: server-side apply with the field manager "tether", Namespaces and
// CRDs first (waiting until a CRD is Established before its custom
// resources), objects in wave and kind order, and prune last.
//
// Before anything is written, every object is validated with a server-side
// dry run, so an object the API server would reject stops the sync before
// any object of the app is changed. A conflict with another field manager is
// only forced for objects this app applied before.
package apply
