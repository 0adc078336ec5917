#!/usr/bin/env bash
# Starts or stops the local control plane and git server in the background.
#   hack/cluster.sh up [--demo]   start (prints export KUBECONFIG=...)
#   hack/cluster.sh down          stop
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=$root/.tether
pidfile=$state/devenv.pid
cmd=${1:-up}; shift || true

stop() {
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
    echo "stopped the local control plane"
  fi
  rm -f "$pidfile" "$state/ready"
}

case $cmd in
  up)
    stop
    mkdir -p "$state"
    (cd "$root" && go build -o bin/devenv ./hack/devenv)
    TETHER_BIN_DIR=$root/bin nohup "$root/bin/devenv" -state "$state" "$@" >"$state/devenv.log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 1800); do
      [[ -f $state/ready ]] && { cat "$state/ready"; exit 0; }
      if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "the local control plane failed to start; last lines of $state/devenv.log:" >&2
        tail -n 30 "$state/devenv.log" >&2
        exit 1
      fi
      sleep 0.2
    done
    echo "timed out waiting for the local control plane; see $state/devenv.log" >&2
    exit 1
    ;;
  down) stop ;;
  *) echo "usage: $0 up [--demo] | down" >&2; exit 2 ;;
esac
