package project

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// longKeyID is an OpenPGP key ID of 16 hex digits.
var longKeyID = regexp.MustCompile(`^[0-9A-Fa-f]{16}$`)

// compileSignatureKeys validates spec.signatureKeys and returns the IDs in
// upper case.
func compileSignatureKeys(list []v1alpha1.SignatureKey, bad func(field, value string, err error)) []string {
	var out []string
	for i, k := range list {
		if !longKeyID.MatchString(k.KeyID) {
			bad(fmt.Sprintf("spec.signatureKeys[%d].keyID", i), k.KeyID, errors.New("not a key ID: 16 hex digits, as gpg --list-keys --keyid-format long shows"))
			continue
		}
		out = append(out, strings.ToUpper(k.KeyID))
	}
	return out
}

// SignatureKeys are the IDs (16 upper-case hex digits) of the keys one of
// which must have signed every commit the project's apps sync to; none
// when the project does not ask for signed commits.
func (p *Project) SignatureKeys() []string { return p.signatureKeys }
