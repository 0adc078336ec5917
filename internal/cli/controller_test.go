package cli

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestSetMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	for _, tc := range []struct {
		flag string
		want int64
		bad  bool
	}{
		{flag: "256Mi", want: 256 << 20},
		{flag: "1G", want: 1e9},
		{flag: "0", want: 0},
		{flag: "lots", bad: true},
		{flag: "-1Mi", bad: true},
	} {
		got, _, err := setMemoryLimit(tc.flag)
		if (err != nil) != tc.bad {
			t.Errorf("%q: error %v", tc.flag, err)
			continue
		}
		if tc.bad {
			continue
		}
		if got != tc.want {
			t.Errorf("%q: limit %d, want %d", tc.flag, got, tc.want)
		}
		inEffect := debug.SetMemoryLimit(-1)
		if tc.want == 0 && inEffect != math.MaxInt64 || tc.want > 0 && inEffect != tc.want {
			t.Errorf("%q: runtime limit %d", tc.flag, inEffect)
		}
	}
}
