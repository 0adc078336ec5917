package project

import (
	"strings"
	"testing"
	"time"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// t0 is Thursday 2026-01-15 12:00 UTC.
var t0 = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestLatestFiring(t *testing.T) {
	tests := []struct {
		schedule   string
		after, now string
		want       string // empty: none
	}{
		{"0 22 * * *", "2026-01-15T21:00:00Z", "2026-01-15T22:30:00Z", "2026-01-15T22:00:00Z"},
		{"0 22 * * *", "2026-01-15T21:00:00Z", "2026-01-15T22:00:00Z", "2026-01-15T22:00:00Z"},
		{"0 22 * * *", "2026-01-15T21:00:00Z", "2026-01-15T21:59:59.999Z", ""},
		// after is excluded.
		{"0 22 * * *", "2026-01-15T22:00:00Z", "2026-01-15T23:00:00Z", ""},
		{"0 22 * * *", "2026-01-15T21:59:59.5Z", "2026-01-15T23:00:00Z", "2026-01-15T22:00:00Z"},
		// The latest of several firings.
		{"*/10 * * * *", "2026-01-15T00:00:00Z", "2026-01-15T12:34:56Z", "2026-01-15T12:30:00Z"},
		{"*/10 * * * *", "2026-01-15T00:00:00Z", "2026-01-15T12:30:00Z", "2026-01-15T12:30:00Z"},
		{"*/10 * * * *", "2026-01-15T00:00:00Z", "2026-01-15T12:29:59.999Z", "2026-01-15T12:20:00Z"},
		{"* * * * *", "2026-01-15T11:00:00Z", "2026-01-15T12:00:00.5Z", "2026-01-15T12:00:00Z"},
		{"0 0 1 * *", "2025-12-20T00:00:00Z", "2026-01-15T12:00:00Z", "2026-01-01T00:00:00Z"},
		{"@daily", "2026-01-14T12:00:00Z", "2026-01-15T12:00:00Z", "2026-01-15T00:00:00Z"},
		{"@yearly", "2025-01-15T12:00:00Z", "2026-01-15T12:00:00Z", "2026-01-01T00:00:00Z"},
		// Never fires.
		{"0 0 30 2 *", "2025-01-15T12:00:00Z", "2026-01-15T12:00:00Z", ""},
	}
	for _, tt := range tests {
		s, err := cronParser.Parse(tt.schedule)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := latestFiring(s, at(tt.after), at(tt.now))
		switch {
		case tt.want == "" && ok:
			t.Errorf("latestFiring(%q, %s, %s) = %s, want none", tt.schedule, tt.after, tt.now, got)
		case tt.want != "" && (!ok || !got.Equal(at(tt.want))):
			t.Errorf("latestFiring(%q, %s, %s) = %s, %v; want %s", tt.schedule, tt.after, tt.now, got, ok, tt.want)
		}
	}
}

func syncWindow(kind, schedule, duration string) v1alpha1.SyncWindow {
	return v1alpha1.SyncWindow{Kind: kind, Schedule: schedule, Duration: duration, Applications: []string{"*"}}
}

func TestWindowActivation(t *testing.T) {
	tests := []struct {
		name   string
		w      v1alpha1.SyncWindow
		now    string
		active bool
		start  string
		end    string
		capped bool
	}{
		{"before", syncWindow("deny", "0 22 * * *", "1h"), "2026-01-15T21:59:59Z", false, "", "", false},
		{"at start", syncWindow("deny", "0 22 * * *", "1h"), "2026-01-15T22:00:00Z", true, "2026-01-15T22:00:00Z", "2026-01-15T23:00:00Z", false},
		{"inside", syncWindow("deny", "0 22 * * *", "1h"), "2026-01-15T22:30:00Z", true, "2026-01-15T22:00:00Z", "2026-01-15T23:00:00Z", false},
		{"just before end", syncWindow("deny", "0 22 * * *", "1h"), "2026-01-15T22:59:59.999Z", true, "2026-01-15T22:00:00Z", "2026-01-15T23:00:00Z", false},
		{"at end", syncWindow("deny", "0 22 * * *", "1h"), "2026-01-15T23:00:00Z", false, "", "", false},
		{"past midnight", syncWindow("deny", "0 23 * * *", "2h"), "2026-01-16T00:30:00Z", true, "2026-01-15T23:00:00Z", "2026-01-16T01:00:00Z", false},
		{"weekend only, on Thursday", syncWindow("deny", "0 0 * * SAT", "48h"), "2026-01-15T12:00:00Z", false, "", "", false},
		{"weekend only, on Sunday", syncWindow("deny", "0 0 * * SAT", "48h"), "2026-01-18T23:00:00Z", true, "2026-01-17T00:00:00Z", "2026-01-19T00:00:00Z", false},
		{"long window", syncWindow("allow", "0 0 1 * *", "720h"), "2026-01-15T12:00:00Z", true, "2026-01-01T00:00:00Z", "2026-01-31T00:00:00Z", false},
		{"overlapping firings extend", syncWindow("deny", "0 9-11 * * *", "90m"), "2026-01-15T09:30:00Z", true, "2026-01-15T09:00:00Z", "2026-01-15T12:30:00Z", false},
		{"touching firings extend", syncWindow("deny", "0 9,10 * * *", "1h"), "2026-01-15T09:30:00Z", true, "2026-01-15T09:00:00Z", "2026-01-15T11:00:00Z", false},
		{"latest of overlapping starts", syncWindow("deny", "0 9-11 * * *", "90m"), "2026-01-15T11:10:00Z", true, "2026-01-15T11:00:00Z", "2026-01-15T12:30:00Z", false},
		{"always open", syncWindow("deny", "* * * * *", "1h"), "2026-01-15T12:00:30Z", true, "2026-01-15T12:00:00Z", "", true},
		{"Amsterdam winter, open", withZone(syncWindow("deny", "0 22 * * *", "1h"), "Europe/Amsterdam"), "2026-01-15T21:30:00Z", true, "2026-01-15T21:00:00Z", "2026-01-15T22:00:00Z", false},
		{"Amsterdam winter, closed at 22 UTC", withZone(syncWindow("deny", "0 22 * * *", "1h"), "Europe/Amsterdam"), "2026-01-15T22:30:00Z", false, "", "", false},
		{"Amsterdam summer", withZone(syncWindow("deny", "0 22 * * *", "1h"), "Europe/Amsterdam"), "2026-07-15T20:30:00Z", true, "2026-07-15T20:00:00Z", "2026-07-15T21:00:00Z", false},
		{"New York", withZone(syncWindow("deny", "0 22 * * *", "1h"), "America/New_York"), "2026-01-16T03:15:00Z", true, "2026-01-16T03:00:00Z", "2026-01-16T04:00:00Z", false},
		{"New York, day of week is local", withZone(syncWindow("deny", "0 22 * * FRI", "1h"), "America/New_York"), "2026-01-17T03:15:00Z", true, "2026-01-17T03:00:00Z", "2026-01-17T04:00:00Z", false},
		{"New York, not on Thursday", withZone(syncWindow("deny", "0 22 * * FRI", "1h"), "America/New_York"), "2026-01-16T03:15:00Z", false, "", "", false},
		{"Kolkata half hour", withZone(syncWindow("deny", "0 0 * * *", "1h"), "Asia/Kolkata"), "2026-01-14T18:45:00Z", true, "2026-01-14T18:30:00Z", "2026-01-14T19:30:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, errs := compileWindow(0, tt.w)
			if len(errs) > 0 {
				t.Fatal(errs[0])
			}
			start, end, capped, active := w.activation(at(tt.now))
			if active != tt.active {
				t.Fatalf("active at %s = %v, want %v", tt.now, active, tt.active)
			}
			if !active {
				return
			}
			if !start.Equal(at(tt.start)) {
				t.Errorf("start = %s, want %s", start.UTC(), tt.start)
			}
			if capped != tt.capped {
				t.Errorf("capped = %v, want %v", capped, tt.capped)
			}
			if tt.end != "" && !end.Equal(at(tt.end)) {
				t.Errorf("end = %s, want %s", end.UTC(), tt.end)
			}
			if start.Location().String() != w.zone || end.Location().String() != w.zone {
				t.Errorf("start, end in %s, %s; want the window's zone %s", start.Location(), end.Location(), w.zone)
			}
		})
	}
}

func withZone(w v1alpha1.SyncWindow, zone string) v1alpha1.SyncWindow {
	w.TimeZone = zone
	return w
}

// The zone of the time asked about does not matter.
func TestWindowActivationCallerZone(t *testing.T) {
	w, errs := compileWindow(0, syncWindow("deny", "0 22 * * *", "1h"))
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	now := at("2026-01-15T22:30:00Z").In(tokyo) // 07:30 on the 16th in Tokyo
	if _, _, _, active := w.activation(now); !active {
		t.Errorf("a UTC window is not active at 22:30 UTC given in Asia/Tokyo")
	}
}

func TestWindowMatches(t *testing.T) {
	w := v1alpha1.SyncWindow{
		Kind: "deny", Schedule: "0 22 * * *", Duration: "1h",
		Applications: []string{"web-*", "api"},
		Namespaces:   []string{"team-a-prod"},
		Clusters:     []string{"prod-*", "https://prod.example:*"},
	}
	tests := []struct {
		app, namespace, cluster, server string
		want                            bool
	}{
		{"web-frontend", "x", "dev", "https://dev.example", true},
		{"api", "x", "dev", "https://dev.example", true},
		{"api-2", "x", "dev", "https://dev.example", false},
		{"other", "team-a-prod", "dev", "https://dev.example", true},
		{"other", "team-a-prod2", "dev", "https://dev.example", false},
		{"other", "x", "prod-eu", "https://10.0.0.1", true},
		{"other", "x", "eu", "https://prod.example:6443", true},
		{"other", "x", "", "https://prod.example:6443", true},
		{"other", "x", "eu", "", false},
		{"other", "x", "dev", "https://dev.example", false},
	}
	c, errs := compileWindow(0, w)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	for _, tt := range tests {
		if got := c.matches(tt.app, tt.namespace, tt.cluster, tt.server); got != tt.want {
			t.Errorf("matches(%q, %q, %q, %q) = %v, want %v", tt.app, tt.namespace, tt.cluster, tt.server, got, tt.want)
		}
	}
}

func TestSyncAllowed(t *testing.T) {
	deny := func(schedule, duration string, manual bool) v1alpha1.SyncWindow {
		w := syncWindow("deny", schedule, duration)
		w.ManualSync = manual
		return w
	}
	allow := func(schedule, duration string, manual bool) v1alpha1.SyncWindow {
		w := syncWindow("allow", schedule, duration)
		w.ManualSync = manual
		return w
	}
	onlyFor := func(w v1alpha1.SyncWindow, app string) v1alpha1.SyncWindow {
		w.Applications = []string{app}
		return w
	}
	tests := []struct {
		name    string
		windows []v1alpha1.SyncWindow
		now     string
		manual  bool
		wantOK  bool
		reason  string // exact unless it ends with "…", then a prefix
	}{
		{"no windows", nil, "2026-01-15T22:30:00Z", false, true, ""},
		{"window for another app", []v1alpha1.SyncWindow{onlyFor(deny("0 22 * * *", "1h", false), "other")},
			"2026-01-15T22:30:00Z", false, true, ""},
		{"deny active", []v1alpha1.SyncWindow{deny("0 22 * * *", "1h", false)}, "2026-01-15T22:30:00Z", false, false,
			`sync is blocked by deny window "0 22 * * *" for 1h (spec.syncWindows[0]) until 23:00 UTC`},
		{"deny active at its start", []v1alpha1.SyncWindow{deny("0 22 * * *", "1h", false)}, "2026-01-15T22:00:00Z", false, false,
			`sync is blocked by deny window "0 22 * * *" for 1h (spec.syncWindows[0]) until 23:00 UTC`},
		{"deny over at its end", []v1alpha1.SyncWindow{deny("0 22 * * *", "1h", false)}, "2026-01-15T23:00:00Z", false, true, ""},
		{"deny inactive", []v1alpha1.SyncWindow{deny("0 22 * * *", "1h", false)}, "2026-01-15T12:00:00Z", false, true, ""},
		{"deny active, manual without manualSync", []v1alpha1.SyncWindow{deny("0 22 * * *", "1h", false)}, "2026-01-15T22:30:00Z", true, false,
			`sync is blocked by deny window "0 22 * * *" for 1h (spec.syncWindows[0]) until 23:00 UTC; manualSync is not set on it`},
		{"deny active with manualSync, automatic", []v1alpha1.SyncWindow{deny("0 22 * * *", "1h", true)}, "2026-01-15T22:30:00Z", false, false,
			`sync is blocked by deny window "0 22 * * *" for 1h (spec.syncWindows[0]) until 23:00 UTC; a manual sync is allowed (manualSync)`},
		{"deny active with manualSync, manual", []v1alpha1.SyncWindow{deny("0 22 * * *", "1h", true)}, "2026-01-15T22:30:00Z", true, true,
			`manual sync allowed during deny window "0 22 * * *" for 1h (spec.syncWindows[0]) (manualSync)`},
		{"every active deny needs manualSync", []v1alpha1.SyncWindow{deny("0 22 * * *", "1h", true), deny("30 21 * * *", "2h", false)},
			"2026-01-15T22:30:00Z", true, false,
			`sync is blocked by deny window "30 21 * * *" for 2h (spec.syncWindows[1]) until 23:30 UTC; manualSync is not set on it`},
		{"inactive deny without manualSync does not matter", []v1alpha1.SyncWindow{deny("0 22 * * *", "1h", true), deny("0 3 * * *", "1h", false)},
			"2026-01-15T22:30:00Z", true, true, "manual sync allowed during deny window \"0 22 * * *\"…"},
		{"blocked until the last deny ends", []v1alpha1.SyncWindow{deny("0 22 * * *", "1h", false), deny("30 21 * * *", "2h", false)},
			"2026-01-15T22:30:00Z", false, false, `sync is blocked by deny window "30 21 * * *" for 2h (spec.syncWindows[1]) until 23:30 UTC`},
		{"allow active", []v1alpha1.SyncWindow{allow("0 9 * * *", "8h", false)}, "2026-01-15T12:00:00Z", false, true,
			`sync is allowed by allow window "0 9 * * *" for 8h (spec.syncWindows[0]) until 17:00 UTC`},
		{"allow inactive", []v1alpha1.SyncWindow{allow("0 9 * * *", "8h", false)}, "2026-01-15T18:00:00Z", false, false,
			`sync is blocked: no allow window is open; the next to open is allow window "0 9 * * *" for 8h (spec.syncWindows[0]) at 2026-01-16 09:00 UTC`},
		{"allow inactive, next today", []v1alpha1.SyncWindow{allow("0 9 * * *", "8h", false)}, "2026-01-15T08:00:00Z", false, false,
			`sync is blocked: no allow window is open; the next to open is allow window "0 9 * * *" for 8h (spec.syncWindows[0]) at 09:00 UTC`},
		{"allow inactive, manual without manualSync", []v1alpha1.SyncWindow{allow("0 9 * * *", "8h", false)}, "2026-01-15T18:00:00Z", true, false,
			"sync is blocked: no allow window is open; the next to open is allow window \"0 9 * * *\"…"},
		{"allow inactive, manual with manualSync", []v1alpha1.SyncWindow{allow("0 9 * * *", "8h", false), allow("0 20 * * *", "1h", true)},
			"2026-01-15T18:00:00Z", true, true,
			`manual sync allowed outside the allow windows: allow window "0 20 * * *" for 1h (spec.syncWindows[1]) has manualSync`},
		{"allow inactive with manualSync, automatic", []v1alpha1.SyncWindow{allow("0 9 * * *", "8h", true)}, "2026-01-15T18:00:00Z", false, false,
			`sync is blocked: no allow window is open; the next to open is allow window "0 9 * * *" for 8h (spec.syncWindows[0]) at 2026-01-16 09:00 UTC; a manual sync is allowed (manualSync)`},
		{"next opening is the earliest", []v1alpha1.SyncWindow{allow("0 9 * * *", "8h", false), allow("0 20 * * *", "1h", false)},
			"2026-01-15T18:00:00Z", false, false, "sync is blocked: no allow window is open; the next to open is allow window \"0 20 * * *\" for 1h (spec.syncWindows[1]) at 20:00 UTC"},
		{"one of two allows active", []v1alpha1.SyncWindow{allow("0 9 * * *", "8h", false), allow("0 20 * * *", "1h", false)},
			"2026-01-15T20:30:00Z", false, true, "sync is allowed by allow window \"0 20 * * *\"…"},
		{"deny overrides allow", []v1alpha1.SyncWindow{allow("0 9 * * *", "8h", false), deny("0 12 * * *", "30m", false)},
			"2026-01-15T12:10:00Z", false, false,
			`sync is blocked by deny window "0 12 * * *" for 30m (spec.syncWindows[1]) until 12:30 UTC`},
		{"deny overrides allow with manualSync", []v1alpha1.SyncWindow{allow("0 9 * * *", "8h", true), deny("0 12 * * *", "30m", false)},
			"2026-01-15T12:10:00Z", true, false, "sync is blocked by deny window \"0 12 * * *\"…"},
		{"allow after deny ends", []v1alpha1.SyncWindow{allow("0 9 * * *", "8h", false), deny("0 12 * * *", "30m", false)},
			"2026-01-15T12:30:00Z", false, true, "sync is allowed by allow window…"},
		{"manual through deny outside allow windows", []v1alpha1.SyncWindow{allow("0 9 * * *", "1h", false), deny("0 12 * * *", "30m", true)},
			"2026-01-15T12:10:00Z", true, true, "manual sync allowed during deny window…"},
		{"inactive deny and inactive allow", []v1alpha1.SyncWindow{allow("0 9 * * *", "1h", false), deny("0 22 * * *", "1h", false)},
			"2026-01-15T12:10:00Z", false, false, "sync is blocked: no allow window is open…"},
		{"deny ends the next day", []v1alpha1.SyncWindow{deny("0 23 * * *", "2h", false)}, "2026-01-15T23:30:00Z", false, false,
			`sync is blocked by deny window "0 23 * * *" for 2h (spec.syncWindows[0]) until 2026-01-16 01:00 UTC`},
		{"time zone in reason", []v1alpha1.SyncWindow{withZone(deny("0 22 * * *", "1h", false), "Europe/Amsterdam")}, "2026-01-15T21:30:00Z", false, false,
			`sync is blocked by deny window "0 22 * * *" for 1h (spec.syncWindows[0]) until 23:00 Europe/Amsterdam`},
		{"always-open deny", []v1alpha1.SyncWindow{deny("* * * * *", "1h", false)}, "2026-01-15T12:00:30Z", false, false,
			"sync is blocked by deny window \"* * * * *\" for 1h (spec.syncWindows[0]) until at least…"},
		{"allow that never opens", []v1alpha1.SyncWindow{allow("0 0 30 2 *", "1h", false)}, "2026-01-15T12:00:00Z", false, false,
			"sync is blocked: no allow window is open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustNew(t, v1alpha1.AppProjectSpec{SyncWindows: tt.windows})
			ok, reason := p.SyncAllowed(at(tt.now), "web", "team-a-prod", "prod", "https://prod.example", tt.manual)
			if ok != tt.wantOK {
				t.Errorf("SyncAllowed = %v (%q), want %v", ok, reason, tt.wantOK)
			}
			if prefix, isPrefix := strings.CutSuffix(tt.reason, "…"); isPrefix {
				if !strings.HasPrefix(reason, prefix) {
					t.Errorf("reason = %q, want it to start with %q", reason, prefix)
				}
			} else if reason != tt.reason {
				t.Errorf("reason = %q\nwant     %q", reason, tt.reason)
			}
		})
	}
}

func TestWindows(t *testing.T) {
	p := mustNew(t, v1alpha1.AppProjectSpec{SyncWindows: []v1alpha1.SyncWindow{
		{Kind: "deny", Schedule: "0 22 * * *", Duration: "1h", Clusters: []string{"prod"}, ManualSync: true},
		{Kind: "allow", Schedule: "0 9 * * *", Duration: "8h", Applications: []string{"other"}},
		{Kind: "allow", Schedule: "0 9 * * *", Duration: "8h", Namespaces: []string{"team-a-*"}, TimeZone: "Europe/Amsterdam"},
	}})
	got := p.Windows(at("2026-01-15T22:30:00Z"), "web", "team-a-prod", "prod", "https://prod.example")
	if len(got) != 2 {
		t.Fatalf("Windows returned %d windows, want the 2 that match: %+v", len(got), got)
	}
	d, a := got[0], got[1]
	if d.Index != 0 || d.Kind != "deny" || !d.Active || !d.ManualSync || d.TimeZone != "UTC" {
		t.Errorf("first window = %+v, want active deny window 0 with manualSync in UTC", d)
	}
	if !d.Start.Equal(at("2026-01-15T22:00:00Z")) || !d.End.Equal(at("2026-01-15T23:00:00Z")) || d.EndIsLowerBound {
		t.Errorf("deny window runs %s to %s (lower bound %v), want 22:00 to 23:00 UTC", d.Start, d.End, d.EndIsLowerBound)
	}
	if !d.NextStart.Equal(at("2026-01-16T22:00:00Z")) {
		t.Errorf("deny window next start %s, want 2026-01-16 22:00 UTC", d.NextStart)
	}
	if d.String() != "deny:0 22 * * *:1h" {
		t.Errorf("String() = %q, want deny:0 22 * * *:1h", d.String())
	}
	if a.Index != 2 || a.Active || !a.Start.IsZero() || !a.End.IsZero() || a.TimeZone != "Europe/Amsterdam" {
		t.Errorf("second window = %+v, want inactive allow window 2 in Europe/Amsterdam", a)
	}
	if !a.NextStart.Equal(at("2026-01-16T08:00:00Z")) {
		t.Errorf("allow window next start %s, want 09:00 Amsterdam = 08:00 UTC", a.NextStart)
	}
	if got := p.Windows(t0, "x", "y", "dev", "https://dev.example"); len(got) != 0 {
		t.Errorf("Windows for an app no window matches = %+v, want none", got)
	}
}

// minuteSchedule.Next must agree with cron's own Next everywhere.
func TestMinuteScheduleAgreesWithCron(t *testing.T) {
	for _, spec := range []string{"* * * * *", "*/7 3-5 * * *", "0 0 29 2 *", "@hourly", "15 2 * * SUN", "30 2 * * *"} {
		raw, err := cronParser.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		fast := minuteSchedule{raw}
		for _, zone := range []string{"UTC", "Europe/Amsterdam", "Asia/Kathmandu"} {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			// Steps of 20m37.333s (or .666s) walk across seconds, minutes
			// and the 2026 DST changes.
			for i := range 2000 {
				tm := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC).
					Add(time.Duration(i) * (1237*time.Second + time.Duration(i%3)*333*time.Millisecond)).In(loc)
				if want, got := raw.Next(tm), fast.Next(tm); !want.Equal(got) {
					t.Fatalf("%q in %s, Next(%s): cron says %s, minuteSchedule %s", spec, zone, tm, want, got)
				}
			}
		}
	}
}
