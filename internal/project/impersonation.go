package project

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// serviceAccountRule is one compiled entry of destinationServiceAccounts.
type serviceAccountRule struct {
	index             int
	server, namespace *glob
	// saNamespace is empty when the account lives in the destination
	// namespace.
	saNamespace, saName string
}

// compileServiceAccounts validates spec.destinationServiceAccounts.
func compileServiceAccounts(list []v1alpha1.ApplicationDestinationServiceAccount, bad func(field, value string, err error)) []serviceAccountRule {
	var out []serviceAccountRule
	for i, e := range list {
		field := fmt.Sprintf("spec.destinationServiceAccounts[%d]", i)
		rule := serviceAccountRule{index: i}
		ok := true
		globOf := func(name, raw string, required bool) *glob {
			switch {
			case raw == "" && required:
				bad(field+"."+name, raw, errors.New("is required"))
			case strings.HasPrefix(raw, "!"):
				bad(field+"."+name, raw, errors.New("cannot be negated: an entry names where a service account is used"))
			default:
				g, err := compileGlob(raw, false)
				if err == nil {
					return g
				}
				bad(field+"."+name, raw, err)
			}
			ok = false
			return nil
		}
		rule.server = globOf("server", e.Server, true)
		// An empty namespace glob matches only an app without a
		// destination namespace.
		rule.namespace = globOf("namespace", e.Namespace, false)
		sa := e.DefaultServiceAccount
		if i := strings.IndexByte(sa, ':'); i >= 0 {
			rule.saNamespace, rule.saName = sa[:i], sa[i+1:]
			if errs := validation.IsDNS1123Label(rule.saNamespace); len(errs) > 0 {
				bad(field+".defaultServiceAccount", sa, fmt.Errorf("namespace %q: %s", rule.saNamespace, strings.Join(errs, "; ")))
				ok = false
			}
		} else {
			rule.saName = sa
		}
		if errs := validation.IsDNS1123Subdomain(rule.saName); len(errs) > 0 {
			bad(field+".defaultServiceAccount", sa, fmt.Errorf("service account name %q: %s", rule.saName, strings.Join(errs, "; ")))
			ok = false
		}
		if ok {
			out = append(out, rule)
		}
	}
	return out
}

// SyncUser is the user a sync to server and namespace runs as with sync
// impersonation: "system:serviceaccount:NS:NAME" of the first entry of
// spec.destinationServiceAccounts whose server and namespace globs match.
// No entry matching is an error naming the project and the destination,
// as is an account without a namespace for an app without one.
func (p *Project) SyncUser(server, namespace string) (string, error) {
	for _, r := range p.serviceAccounts {
		if !r.server.match(server) || !r.namespace.match(namespace) {
			continue
		}
		ns := r.saNamespace
		if ns == "" {
			ns = namespace
		}
		if ns == "" {
			return "", fmt.Errorf("project %s: spec.destinationServiceAccounts[%d] names service account %q without a namespace, and the app has no destination namespace to find it in: write it as NAMESPACE:%s",
				p.name, r.index, r.saName, r.saName)
		}
		return "system:serviceaccount:" + ns + ":" + r.saName, nil
	}
	return "", fmt.Errorf("sync impersonation is on and project %s has no entry in spec.destinationServiceAccounts for server %s and namespace %q",
		p.name, server, namespace)
}
