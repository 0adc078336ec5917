package health

import (
	"fmt"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// Status is the health of one object or of a group of objects.
type Status struct {
	// Status is one of the v1alpha1.Health* constants.
	Status string
	// Message says why, for a person; empty when there is nothing to add.
	Message string
}

// rank orders health statuses from best (0) to worst, as Argo CD does.
var rank = map[string]int{
	v1alpha1.HealthHealthy:     0,
	v1alpha1.HealthSuspended:   1,
	v1alpha1.HealthProgressing: 2,
	v1alpha1.HealthMissing:     3,
	v1alpha1.HealthUnknown:     4,
	v1alpha1.HealthDegraded:    5,
}

// rankOf returns the rank of s; a string that is no known status ranks as
// Unknown, since nothing is known about it.
func rankOf(s string) int {
	if r, ok := rank[s]; ok {
		return r
	}
	return rank[v1alpha1.HealthUnknown]
}

// Less reports whether health status a is better than b, in the order
// Healthy < Suspended < Progressing < Missing < Unknown < Degraded.
// A string that is no known status counts as Unknown.
func Less(a, b string) bool {
	return rankOf(a) < rankOf(b)
}

// Worst returns the worst of statuses; among equally bad ones the first
// wins, with its message. No statuses at all is Healthy.
func Worst(statuses ...Status) Status {
	if len(statuses) == 0 {
		return Status{Status: v1alpha1.HealthHealthy}
	}
	worst := statuses[0]
	for _, s := range statuses[1:] {
		if Less(worst.Status, s.Status) {
			worst = s
		}
	}
	return worst
}

func healthy(format string, args ...any) Status {
	return newStatus(v1alpha1.HealthHealthy, format, args...)
}

func suspended(format string, args ...any) Status {
	return newStatus(v1alpha1.HealthSuspended, format, args...)
}

func progressing(format string, args ...any) Status {
	return newStatus(v1alpha1.HealthProgressing, format, args...)
}

func unknown(format string, args ...any) Status {
	return newStatus(v1alpha1.HealthUnknown, format, args...)
}

func degraded(format string, args ...any) Status {
	return newStatus(v1alpha1.HealthDegraded, format, args...)
}

func newStatus(status, format string, args ...any) Status {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return Status{Status: status, Message: msg}
}
