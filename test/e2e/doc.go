// Package e2e holds end-to-end tests that run tether against the local
// control plane (internal/testenv) and the test git server.
package e2e
