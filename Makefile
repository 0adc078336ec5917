# Tether's build. `make demo` and `make test` are the whole set-up on a
# fresh machine; everything else is reached from them.
SHELL   := /bin/bash
GO      ?= go
BIN     := $(CURDIR)/bin
STATE   := $(CURDIR)/.tether
PKG     := github.com/tether-gitops/tether
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X $(PKG)/internal/version.Version=$(VERSION) -X $(PKG)/internal/version.Commit=$(COMMIT)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_TIMEOUT ?= 30m

export TETHER_BIN_DIR := $(BIN)

.PHONY: all build tools test unit e2e lint demo demo-stop bench cluster-up cluster-down clean

all: build

## build: the tether binary into bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/tether ./cmd/tether

## tools: the local control plane (etcd, kube-apiserver, ..., kwok) into bin/
tools:
	@hack/build-tools.sh $(BIN)

## lint: go vet and staticcheck
lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## test: lint, unit and end-to-end tests against the local control plane
test: tools lint
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

## unit: tests that need no control plane
unit:
	$(GO) test -count=1 -short ./...

## e2e: only the end-to-end tests
e2e: tools
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./test/e2e/...

## cluster-up: start the local control plane in the background
cluster-up: tools
	@hack/cluster.sh up

## cluster-down: stop it
cluster-down:
	@hack/cluster.sh down

## demo: control plane, git server and tether on the examples
demo: tools build
	@hack/cluster.sh up --demo

demo-stop: cluster-down

## bench: the benchmark workloads of docs/benchmarks.md
bench: tools build
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./test/bench/...

clean: cluster-down
	rm -rf $(BIN) $(STATE)
