package project

import (
	"fmt"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// orphanIgnore is one compiled entry of spec.orphanedResources.ignore; a
// nil glob matches anything.
type orphanIgnore struct {
	group, kind, name *glob
}

func compileOrphans(s *v1alpha1.OrphanedResourcesMonitorSettings, bad func(field, value string, err error)) (enabled, warn bool, ignore []orphanIgnore) {
	if s == nil {
		return false, false, nil
	}
	for i, k := range s.Ignore {
		var e orphanIgnore
		ok := true
		compile := func(name, raw string) *glob {
			if raw == "" {
				return nil
			}
			g, err := compileGlob(raw, false)
			if err != nil {
				bad(fmt.Sprintf("spec.orphanedResources.ignore[%d].%s", i, name), raw, err)
				ok = false
			}
			return g
		}
		e.group, e.kind, e.name = compile("group", k.Group), compile("kind", k.Kind), compile("name", k.Name)
		if ok {
			ignore = append(ignore, e)
		}
	}
	return true, s.Warn == nil || *s.Warn, ignore
}

// WarnsOfOrphans tells whether the project asks for the orphaned objects
// warning on its apps.
func (p *Project) WarnsOfOrphans() bool { return p.orphansOn && p.orphansWarn }

// IsOrphanIgnored tells whether an object never counts as orphaned: an
// entry of spec.orphanedResources.ignore matches it, or the project does
// not let its apps manage its kind.
func (p *Project) IsOrphanIgnored(group, kind, name string) bool {
	for _, e := range p.orphanIgnore {
		if (e.group == nil || e.group.match(group)) && (e.kind == nil || e.kind.match(kind)) && (e.name == nil || e.name.match(name)) {
			return true
		}
	}
	return p.PermitResource(group, kind, true) != nil
}
