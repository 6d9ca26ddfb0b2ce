#!/usr/bin/env bash
# shellcheck shell=bash
# drain-node.sh: runs on the first server when a node leaves (before the node's k3s is uninstalled): cordons the
# node and evicts its pods. Nothing to do when k3s is gone or the node never registered.
# Environment: CHARON_HOST (the first server), CHARON_NODE (the leaving node), CHARON_DRAIN_TIMEOUT (seconds).
set -euo pipefail

if [[ ! -x "$K3S_BIN" ]]; then
    say "k3s is not installed here: nothing to drain for node ${CHARON_NODE}"
    exit 0
fi
if ! k3s_kubectl get node "$CHARON_NODE" >/dev/null 2>&1; then
    say "node ${CHARON_NODE} is not registered (or the API is unreachable): nothing to drain"
    exit 0
fi
if ! k3s_kubectl drain "$CHARON_NODE" --ignore-daemonsets --delete-emptydir-data --force \
    --timeout="${CHARON_DRAIN_TIMEOUT}s" >&2; then
    die "draining node ${CHARON_NODE} failed or did not finish within ${CHARON_DRAIN_TIMEOUT} seconds (see the pods still on it); retry the delete once they can move"
fi
say "drained node ${CHARON_NODE}"
