// Package testenv runs a real Kubernetes control plane as local processes
// for tests and the demo: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok (fake nodes that make Deployments Available and
// Jobs complete). Several clusters can share one etcd, each under its own
// key prefix with its own apiserver, controllers and kwok.
//
// A test package starts one control plane in TestMain with Main, then asks
// for a fresh namespace per test with Namespace. Process logs go to a
// temporary directory; when a test fails their tails are printed.
//
// The programs are built into the repository's bin/ directory by
// `make tools` (see hack/tools); TETHER_BIN_DIR overrides where they are
// looked for. TETHER_TESTENV_APISERVER_ARGS adds flags to every
// kube-apiserver, for performance work only (e.g. "--profiling=true" to
// read its CPU profile at /debug/pprof/profile).
package testenv
