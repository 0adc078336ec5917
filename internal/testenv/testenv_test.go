package testenv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStartNamesMissingTools(t *testing.T) {
	dir := t.TempDir()
	_, err := Start(context.Background(), Options{BinDir: dir, Dir: t.TempDir()})
	if err == nil {
		t.Fatal("want an error when the tools are missing")
	}
	for _, want := range []string{"kube-apiserver", "kwok", "make tools"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestStartReportsAProcessThatDies(t *testing.T) {
	dir := t.TempDir()
	for _, tool := range Tools {
		script := "#!/bin/sh\necho 'fatal: " + tool + " cannot start: bad flag' >&2\nexit 3\n"
		if err := os.WriteFile(filepath.Join(dir, tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "kwok-stages"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Start(ctx, Options{BinDir: dir, Dir: t.TempDir()})
	if err == nil {
		t.Fatal("want an error when etcd dies")
	}
	for _, want := range []string{"etcd exited during start", "fatal: etcd cannot start: bad flag"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestFreePortsAreDistinct(t *testing.T) {
	ports, err := freePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v are not distinct positive numbers", ports)
		}
		seen[p] = true
	}
}

func TestShortNameIsDNSSafe(t *testing.T) {
	for in, want := range map[string]string{
		"TestFoo/a sub test":                              "testfoo-a-sub-test",
		"Test_Very_Long_Name_That_Goes_On_And_On_Forever": "test-very-long-name-that-goes",
	} {
		if got := shortName(in); got != want {
			t.Errorf("shortName(%q) = %q, want %q", in, got, want)
		}
	}
}
