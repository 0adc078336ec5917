package cli

import "testing"

func TestShortSHAKeepsChartVersionsWhole(t *testing.T) {
	for in, want := range map[string]string{
		"3afa207ecd0fb886d83cfedb8a0f0549b6fa1198": "3afa207",
		"10.20.30-rc.1": "10.20.30-rc.1",
		"1.2.0":         "1.2.0",
		"":              "",
	} {
		if got := shortSHA(in); got != want {
			t.Errorf("shortSHA(%q) = %q; want %q", in, got, want)
		}
	}
}
