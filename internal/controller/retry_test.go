package controller

import (
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestRetryDelayGrowsAndIsCapped(t *testing.T) {
	s := &v1alpha1.RetryStrategy{Limit: 5, Backoff: &v1alpha1.Backoff{Duration: "1s", Factor: ptr.To[int64](3), MaxDuration: "10s"}}
	for n, want := range map[int64]time.Duration{1: time.Second, 2: 3 * time.Second, 3: 9 * time.Second, 4: 10 * time.Second, 9: 10 * time.Second} {
		if got := retryDelay(s, n); got != want {
			t.Errorf("attempt %d: delay %s, want %s", n, got, want)
		}
	}
	if got := retryDelay(&v1alpha1.RetryStrategy{Limit: 1}, 1); got != 5*time.Second {
		t.Errorf("default first delay = %s, want 5s", got)
	}
}
