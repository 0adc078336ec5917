// Package cluster gives the rest of tether what it needs of one Kubernetes
// cluster: a dynamic client, a REST mapper that learns new kinds (CRDs
// applied by a sync) and a watch cache of the objects tether manages.
//
// The watch cache only holds objects carrying the tether.dev/app label, one
// informer per kind an app uses, so memory grows with what tether manages,
// not with the size of the cluster; every change to a managed object is
// reported at once, which is how drift is seen within milliseconds.
package cluster
