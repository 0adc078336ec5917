package render

import (
	"path"
	"slices"
)

// Inputs are recorded where the snapshot is looked at, not derived from the
// source type: every path resolve sees (files read, directories listed,
// paths probed for existence) is noted, so nothing a render depends on can
// be missed, whichever of our code or kustomize's looked at it.
//
// For a path p, resolve notes:
//   - p as written (lexically cleaned), the logical path;
//   - every symlink followed on the way, at its own real location, so a
//     retargeted link is seen even when p itself is unchanged;
//   - the real location p resolves to, free of symlinks, whose Git tree
//     entry holds exactly the content read;
//   - when p does not exist (or cannot be looked at), the first component
//     that is missing, so creating it later counts as a change.
//
// The real locations alone would be enough; logical paths are noted too so
// Inputs name what the user wrote.

// note records abs (absolute, clean, inside the root) as an input.
func (s *snapshot) note(abs string) {
	if s.inputs == nil {
		s.inputs = map[string]bool{}
	}
	s.inputs[s.rel(abs)] = true
}

// inputList returns the recorded inputs sorted, without duplicates and
// without any entry that lies inside another entry's directory.
func (s *snapshot) inputList() []string {
	return minimizeInputs(s.inputs)
}

// minimizeInputs sorts the paths and drops every one below another.
func minimizeInputs(set map[string]bool) []string {
	if set["."] {
		return []string{"."}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		covered := false
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			if set[d] {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
