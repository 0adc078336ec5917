package project

import (
	"errors"
	"fmt"
	"strings"
	"time"
	// Time zones must not depend on the image having /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// Window kinds.
const (
	WindowAllow = "allow"
	WindowDeny  = "deny"
)

// cronParser reads five-field schedules and descriptors such as @daily.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// maxExtensions bounds how many back-to-back (or overlapping) activations of
// a window are followed to find when it really closes; forwardSteps, how
// many firings latestFiring walks before it bisects. (cron's Next costs
// microseconds: it steps through the calendar.)
const (
	maxExtensions = 24
	forwardSteps  = 8
)

type window struct {
	index    int
	spec     v1alpha1.SyncWindow
	deny     bool
	schedule cron.Schedule
	duration time.Duration
	loc      *time.Location
	zone     string // the time zone's name, "UTC" when unset

	applications, namespaces, clusters []*glob
}

// minuteSchedule is a schedule that fires at second 0 of a minute only, as
// every five-field expression and descriptor does. Its Next starts cron's
// search from the last second of t's minute, which gives the same answer
// and spares cron stepping through up to 59 seconds one at a time.
type minuteSchedule struct{ cron.Schedule }

func (s minuteSchedule) Next(t time.Time) time.Time {
	return s.Schedule.Next(t.Truncate(time.Minute).Add(59 * time.Second))
}

func compileWindow(i int, s v1alpha1.SyncWindow) (*window, []*FieldError) {
	w := &window{index: i, spec: s}
	var errs []*FieldError
	bad := func(field, value string, err error) {
		errs = append(errs, &FieldError{Field: fmt.Sprintf("spec.syncWindows[%d]%s", i, field), Value: value, Err: err})
	}

	switch s.Kind {
	case WindowAllow:
	case WindowDeny:
		w.deny = true
	default:
		bad(".kind", s.Kind, errors.New(`must be "allow" or "deny"`))
	}

	switch {
	case strings.HasPrefix(s.Schedule, "TZ=") || strings.HasPrefix(s.Schedule, "CRON_TZ="):
		bad(".schedule", s.Schedule, errors.New("set the time zone in timeZone, not in the schedule"))
	case strings.HasPrefix(s.Schedule, "@every"):
		bad(".schedule", s.Schedule, errors.New("@every has no fixed start times; use a cron expression"))
	default:
		sched, err := cronParser.Parse(s.Schedule)
		if err != nil {
			bad(".schedule", s.Schedule, err)
		}
		w.schedule = minuteSchedule{sched}
	}

	d, err := time.ParseDuration(s.Duration)
	switch {
	case err != nil:
		bad(".duration", s.Duration, err)
	case d <= 0:
		bad(".duration", s.Duration, errors.New("must be positive"))
	}
	w.duration = d

	w.zone = s.TimeZone
	if w.zone == "" {
		w.zone = "UTC"
	}
	if w.zone == "Local" {
		bad(".timeZone", s.TimeZone, errors.New(`"Local" depends on where tether runs; name an IANA time zone`))
	} else if loc, err := time.LoadLocation(w.zone); err != nil {
		bad(".timeZone", s.TimeZone, errors.New("unknown time zone"))
	} else {
		w.loc = loc
	}

	if len(s.Applications) == 0 && len(s.Namespaces) == 0 && len(s.Clusters) == 0 {
		bad("", s.Kind+" "+s.Schedule, errors.New("needs at least one of applications, namespaces or clusters"))
	}
	globs := func(field string, list []string) []*glob {
		var out []*glob
		for j, raw := range list {
			g, err := compileGlob(raw, false)
			if err != nil {
				bad(fmt.Sprintf(".%s[%d]", field, j), raw, err)
				continue
			}
			out = append(out, g)
		}
		return out
	}
	w.applications = globs("applications", s.Applications)
	w.namespaces = globs("namespaces", s.Namespaces)
	w.clusters = globs("clusters", s.Clusters)
	return w, errs
}

// matches says whether the window applies to the app: one of its
// applications, namespaces or clusters globs matches (a clusters glob is
// tried on the cluster's name and on its server URL).
func (w *window) matches(appName, namespace, clusterName, server string) bool {
	for _, g := range w.applications {
		if g.match(appName) {
			return true
		}
	}
	for _, g := range w.namespaces {
		if g.match(namespace) {
			return true
		}
	}
	for _, g := range w.clusters {
		if (clusterName != "" && g.match(clusterName)) || (server != "" && g.match(server)) {
			return true
		}
	}
	return false
}

// activation returns, when the window is active at now, its most recent
// start and the time it closes. A window is active from each time its
// schedule fires (inclusive) for its duration (exclusive); activations that
// touch or overlap are followed, so end is when syncing changes, unless more
// than maxExtensions of them chain (then capped reports it).
func (w *window) activation(now time.Time) (start, end time.Time, capped, active bool) {
	now = now.In(w.loc)
	start, active = latestFiring(w.schedule, now.Add(-w.duration), now)
	if !active {
		return time.Time{}, time.Time{}, false, false
	}
	end = start.Add(w.duration)
	last := start
	for range maxExtensions {
		next := w.schedule.Next(last)
		if next.IsZero() || next.After(end) {
			return start, end, false, true
		}
		last, end = next, next.Add(w.duration)
	}
	return start, end, true, true
}

// latestFiring returns the latest time s fires in (after, now], if any.
//
// cron.Schedule only finds the next firing. The common case, a few firings
// in the interval, is walked forward; otherwise, as firings fall on whole
// seconds, the latest is found by bisection over seconds: Next(t) <= now
// holds for every t before the latest firing and fails from it on.
func latestFiring(s cron.Schedule, after, now time.Time) (time.Time, bool) {
	latest := s.Next(after)
	if latest.IsZero() || latest.After(now) {
		return time.Time{}, false
	}
	for range forwardSteps {
		next := s.Next(latest)
		if next.IsZero() || next.After(now) {
			return latest, true
		}
		latest = next
	}
	firesBy := func(sec int64) bool {
		n := s.Next(time.Unix(sec, 0).In(now.Location()))
		return !n.IsZero() && !n.After(now)
	}
	// firesBy(lo) holds, firesBy(hi) does not.
	lo, hi := latest.Unix()-1, now.Unix()
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if firesBy(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return s.Next(time.Unix(lo, 0).In(now.Location())), true
}

// WindowStatus is a sync window that applies to an app, as seen at a given
// time.
type WindowStatus struct {
	// Index is the window's position in spec.syncWindows.
	Index      int
	Kind       string
	Schedule   string
	Duration   string
	TimeZone   string // "UTC" when the window sets none
	ManualSync bool

	// Active says whether the window is open at the time asked about.
	Active bool
	// Start is when the current activation started (zero when not active).
	Start time.Time
	// End is when the window closes (zero when not active); when
	// EndIsLowerBound, it keeps restarting and closes no earlier than End.
	End             time.Time
	EndIsLowerBound bool
	// NextStart is the next time the schedule fires after the time asked
	// about; zero when it does not within five years.
	NextStart time.Time
}

// String is the window as Argo CD lists it: kind:schedule:duration.
func (s WindowStatus) String() string {
	return s.Kind + ":" + s.Schedule + ":" + s.Duration
}

// describe names the window for messages.
func (s WindowStatus) describe() string {
	return fmt.Sprintf("%s window %q for %s (spec.syncWindows[%d])", s.Kind, s.Schedule, s.Duration, s.Index)
}

// Windows returns the sync windows that apply to the app (by its name and
// its destination's namespace, cluster name and server), in spec order,
// with their state at now.
func (p *Project) Windows(now time.Time, appName, namespace, clusterName, server string) []WindowStatus {
	var out []WindowStatus
	for _, w := range p.windows {
		if !w.matches(appName, namespace, clusterName, server) {
			continue
		}
		st := WindowStatus{
			Index:      w.index,
			Kind:       w.spec.Kind,
			Schedule:   w.spec.Schedule,
			Duration:   w.spec.Duration,
			TimeZone:   w.zone,
			ManualSync: w.spec.ManualSync,
			NextStart:  w.schedule.Next(now.In(w.loc)),
		}
		st.Start, st.End, st.EndIsLowerBound, st.Active = w.activation(now)
		out = append(out, st)
	}
	return out
}

// HasWindows says whether the project has sync windows at all.
func (p *Project) HasWindows() bool { return len(p.windows) > 0 }

// SyncAllowed says whether the app may sync at now; manual is true for a
// sync a person asked for. reason explains a refusal, names the window
// behind an allowed sync, and is empty when no window applies.
//
// As in Argo CD: with no window applying to the app, syncs are allowed. An
// active deny window blocks syncs, and deny overrides allow; a manual sync
// gets through if every active deny window has manualSync. When allow
// windows apply, syncs are allowed only while one of them is active; a
// manual sync gets through outside them if one of them has manualSync.
func (p *Project) SyncAllowed(now time.Time, appName, namespace, clusterName, server string, manual bool) (ok bool, reason string) {
	var activeDeny, activeAllow, allows []WindowStatus
	for _, s := range p.Windows(now, appName, namespace, clusterName, server) {
		switch {
		case s.Kind == WindowDeny && s.Active:
			activeDeny = append(activeDeny, s)
		case s.Kind == WindowAllow:
			allows = append(allows, s)
			if s.Active {
				activeAllow = append(activeAllow, s)
			}
		}
	}

	if len(activeDeny) > 0 {
		allManual := true
		for _, s := range activeDeny {
			allManual = allManual && s.ManualSync
		}
		if manual && allManual {
			return true, fmt.Sprintf("manual sync allowed during %s (manualSync)", latestEnd(activeDeny).describe())
		}
		blocking := activeDeny
		if manual {
			blocking = nil
			for _, s := range activeDeny {
				if !s.ManualSync {
					blocking = append(blocking, s)
				}
			}
		}
		b := latestEnd(blocking)
		reason = fmt.Sprintf("sync is blocked by %s %s", b.describe(), until(b, now))
		switch {
		case manual:
			reason += "; manualSync is not set on it"
		case allManual:
			reason += "; a manual sync is allowed (manualSync)"
		}
		return false, reason
	}

	if len(activeAllow) > 0 {
		a := latestEnd(activeAllow)
		return true, fmt.Sprintf("sync is allowed by %s %s", a.describe(), until(a, now))
	}

	if len(allows) > 0 {
		var manualWindow *WindowStatus
		for i := range allows {
			if allows[i].ManualSync {
				manualWindow = &allows[i]
				break
			}
		}
		if manual && manualWindow != nil {
			return true, fmt.Sprintf("manual sync allowed outside the allow windows: %s has manualSync", manualWindow.describe())
		}
		reason = "sync is blocked: no allow window is open"
		if next, found := nextOpening(allows); found {
			reason += fmt.Sprintf("; the next to open is %s at %s", next.describe(), formatTime(next.NextStart, next.TimeZone, now))
		}
		switch {
		case manual:
			reason += "; none of them has manualSync"
		case manualWindow != nil:
			reason += "; a manual sync is allowed (manualSync)"
		}
		return false, reason
	}
	return true, ""
}

// latestEnd returns the window that closes last.
func latestEnd(list []WindowStatus) WindowStatus {
	best := list[0]
	for _, s := range list[1:] {
		if s.End.After(best.End) {
			best = s
		}
	}
	return best
}

// nextOpening returns the window that opens first.
func nextOpening(list []WindowStatus) (WindowStatus, bool) {
	var best WindowStatus
	found := false
	for _, s := range list {
		if s.NextStart.IsZero() {
			continue
		}
		if !found || s.NextStart.Before(best.NextStart) {
			best, found = s, true
		}
	}
	return best, found
}

func until(s WindowStatus, now time.Time) string {
	if s.EndIsLowerBound {
		return "until at least " + formatTime(s.End, s.TimeZone, now)
	}
	return "until " + formatTime(s.End, s.TimeZone, now)
}

// formatTime writes t (which is in the window's time zone) with the zone's
// name: the time alone on now's day there, with the date otherwise.
func formatTime(t time.Time, zone string, now time.Time) string {
	n := now.In(t.Location())
	if t.Year() == n.Year() && t.YearDay() == n.YearDay() {
		return t.Format("15:04") + " " + zone
	}
	return t.Format("2006-01-02 15:04") + " " + zone
}
