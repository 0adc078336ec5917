package cli

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
)

func TestVersionPrintsVersionCommitAndGo(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := Execute(context.Background(), []string{"version"}, &out, &errOut); err != nil {
		t.Fatalf("version: %v", err)
	}
	got := out.String()
	for _, want := range []string{"tether ", "commit ", runtime.Version()} {
		if !strings.Contains(got, want) {
			t.Errorf("version output %q lacks %q", got, want)
		}
	}
}

func TestUnknownCommandFails(t *testing.T) {
	var out, errOut bytes.Buffer
	err := Execute(context.Background(), []string{"no-such-command"}, &out, &errOut)
	if err == nil {
		t.Fatal("want an error for an unknown command")
	}
	if ExitCode(err) == 0 {
		t.Fatal("want a non-zero exit code")
	}
}
