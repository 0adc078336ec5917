#!/usr/bin/env bash
# Builds the local control-plane programs (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok) into BIN_DIR from
# the pinned module in hack/tools, and copies kwok's stage definitions.
# The first build takes about ten minutes on two cores; later ones reuse the
# Go build cache. A program already present is not rebuilt unless FORCE=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../bin}
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
command -v go >/dev/null || { echo "go not found in PATH: install Go 1.26" >&2; exit 1; }
cd "$here/tools"
declare -A pkgs=(
  [etcd]=go.etcd.io/etcd/server/v3
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
  [kwok]=sigs.k8s.io/kwok/cmd/kwok
)
# The Kubernetes programs report the pinned version (kubectl version, the
# clusters' /version), as released builds do.
kver=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
kminor=$(echo "$kver" | cut -d. -f2)
vpkg=k8s.io/component-base/version
kflags="-X $vpkg.gitVersion=$kver -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$kminor -X $vpkg.gitTreeState=clean"
for name in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
  if [[ -x "$bin/$name" && "${FORCE:-0}" != 1 ]]; then continue; fi
  echo "building $name (${pkgs[$name]})" >&2
  flags="-s"
  [[ $name == kube* ]] && flags="-s $kflags"
  go build -trimpath -ldflags="$flags" -o "$bin/$name.tmp" "${pkgs[$name]}"
  mv "$bin/$name.tmp" "$bin/$name"
done
kwokdir=$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
mkdir -p "$bin/kwok-stages"
cp "$kwokdir/kustomize/stage/node/fast/node-initialize.yaml" \
   "$kwokdir/kustomize/stage/node/heartbeat/node-heartbeat.yaml" \
   "$kwokdir/kustomize/stage/pod/fast/pod-ready.yaml" \
   "$kwokdir/kustomize/stage/pod/fast/pod-complete.yaml" \
   "$kwokdir/kustomize/stage/pod/fast/pod-delete.yaml" "$bin/kwok-stages/"
chmod u+w "$bin/kwok-stages/"*.yaml
