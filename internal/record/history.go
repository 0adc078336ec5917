package record

import (
	"github.com/tether-gitops/tether/api/v1alpha1"
)

// DefaultHistoryLimit is the history kept when revisionHistoryLimit is unset.
const DefaultHistoryLimit = 10

// AppendHistory adds a deployment to the history, with the next ID, and
// trims the oldest entries beyond the app's limit.
func AppendHistory(app *v1alpha1.Application, h v1alpha1.RevisionHistory) {
	var next int64
	for _, e := range app.Status.History {
		if e.ID >= next {
			next = e.ID + 1
		}
	}
	h.ID = next
	app.Status.History = append(app.Status.History, h)
	limit := int64(DefaultHistoryLimit)
	if app.Spec.RevisionHistoryLimit != nil {
		limit = *app.Spec.RevisionHistoryLimit
	}
	if limit < 1 {
		limit = 1
	}
	if n := int64(len(app.Status.History)); n > limit {
		app.Status.History = app.Status.History[n-limit:]
	}
}
