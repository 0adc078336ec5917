package controller

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-gitops/tether/internal/apply"
	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/plan"
)

// A person's edit is reverted at once, every time: a change whose latest
// field manager is kubectl (kubectl, kubectl-edit, kubectl-scale, ...) is
// never counted as a fight. Only an object
// that keeps drifting back (another controller, such as an HPA, owning the
// same field) is a fight: after fightReverts reverts within fightWindow,
// further reverts of that app wait, doubling from fightBackoff to
// fightMaxBackoff, and a condition names the object and the other manager.
const (
	fightReverts    = 4
	fightWindow     = 2 * time.Minute
	fightBackoff    = 5 * time.Second
	fightMaxBackoff = 5 * time.Minute
)

// fightState is the revert record of one app.
type fightState struct {
	reverts map[inventory.Key][]time.Time
	// until is when the next drift revert may run; zero when not fighting.
	until   time.Time
	backoff time.Duration
	message string
}

// recordReverts notes the objects a drift sync changed and decides whether
// the app is now in a fight. It returns the condition message, if any.
func (r *Reconciler) recordReverts(app types.NamespacedName, p *plan.Plan, res *apply.Result, now time.Time) string {
	changed := map[inventory.Key]bool{}
	for _, o := range res.Objects {
		if o.Status == apply.StatusSynced && o.Message != "unchanged" && o.HookType == "" {
			changed[o.Key] = true
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.fights[app]
	if f == nil {
		f = &fightState{reverts: map[inventory.Key][]time.Time{}}
		r.fights[app] = f
	}
	var fighting []string
	for _, it := range p.Items {
		if !changed[it.Key] || byPerson(it.Live) {
			continue
		}
		times := append(recent(f.reverts[it.Key], now), now)
		f.reverts[it.Key] = times
		if len(times) >= fightReverts {
			fighting = append(fighting, fmt.Sprintf("%s (reverted %d times in %s; other field managers: %s)",
				it.Key, len(times), fightWindow, strings.Join(otherManagers(it.Live), ", ")))
		}
	}
	if len(fighting) == 0 {
		return ""
	}
	if f.backoff == 0 {
		f.backoff = fightBackoff
	} else {
		f.backoff = min(2*f.backoff, fightMaxBackoff)
	}
	f.until = now.Add(f.backoff)
	sort.Strings(fighting)
	f.message = fmt.Sprintf("self-heal is fighting another controller over %s; next revert in %s. Leave the field to the other controller with spec.ignoreDifferences (and the sync option RespectIgnoreDifferences=true)",
		strings.Join(fighting, "; "), f.backoff)
	return f.message
}

// fightWait returns how long drift reverts of app must still wait and the
// fight's message; zero when the app is not backing off.
func (r *Reconciler) fightWait(app types.NamespacedName, now time.Time) (time.Duration, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.fights[app]
	if f == nil || f.until.IsZero() {
		return 0, ""
	}
	if d := f.until.Sub(now); d > 0 {
		return d, f.message
	}
	return 0, f.message
}

// calm forgets a fight once the app has stayed in sync for a fight window
// (the other controller stopped, or ignoreDifferences took the field out of
// the comparison).
func (r *Reconciler) calm(app types.NamespacedName, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.fights[app]
	if f == nil {
		return
	}
	for _, times := range f.reverts {
		if len(times) > 0 && now.Sub(times[len(times)-1]) < fightWindow {
			return // reverted lately: in sync only because tether just won a round
		}
	}
	delete(r.fights, app)
}

func recent(times []time.Time, now time.Time) []time.Time {
	out := times[:0]
	for _, t := range times {
		if now.Sub(t) < fightWindow {
			out = append(out, t)
		}
	}
	return out
}

// otherManagers lists the field managers of an object other than tether.
func otherManagers(live *unstructured.Unstructured) []string {
	if live == nil {
		return []string{"unknown"}
	}
	seen := map[string]bool{}
	var out []string
	for _, mf := range live.GetManagedFields() {
		if mf.Manager != apply.FieldManager && mf.Subresource != "status" && !seen[mf.Manager] {
			seen[mf.Manager] = true
			out = append(out, fmt.Sprintf("%q", mf.Manager))
		}
	}
	if len(out) == 0 {
		return []string{"unknown"}
	}
	sort.Strings(out)
	return out
}

// byPerson reports whether the latest change to live, by a manager other
// than tether, was made with kubectl. Entries without a time (updates
// through the scale subresource record none) count as the latest; when
// several managers share the latest time, all must be kubectl.
func byPerson(live *unstructured.Unstructured) bool {
	if live == nil {
		return false
	}
	var latest time.Time
	var who []string
	for _, mf := range live.GetManagedFields() {
		if mf.Manager == apply.FieldManager || mf.Subresource == "status" {
			continue // status writers (the workload's own controller) are not drift
		}
		t := time.Unix(1<<40, 0) // no time: treat as now
		if mf.Time != nil {
			t = mf.Time.Time
		}
		switch {
		case t.After(latest):
			latest, who = t, []string{mf.Manager}
		case t.Equal(latest):
			who = append(who, mf.Manager)
		}
	}
	if len(who) == 0 {
		return false
	}
	for _, m := range who {
		if !strings.HasPrefix(m, "kubectl") {
			return false
		}
	}
	return true
}
