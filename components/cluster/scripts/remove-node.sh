#!/usr/bin/env bash
# shellcheck shell=bash
# remove-node.sh: runs on the first server after a leaving node's k3s was uninstalled: deletes its Node object
# (for a server, k3s then also removes its etcd member). Nothing to do when k3s is gone or the node is unknown.
# Environment: CHARON_HOST (the first server), CHARON_NODE (the leaving node).
set -euo pipefail

if [[ ! -x "$K3S_BIN" ]]; then
    say "k3s is not installed here: nothing to remove for node ${CHARON_NODE}"
    exit 0
fi
if ! k3s_kubectl get node "$CHARON_NODE" >/dev/null 2>&1; then
    say "node ${CHARON_NODE} is not registered (or the API is unreachable): nothing to remove"
    exit 0
fi
k3s_kubectl delete node "$CHARON_NODE" --ignore-not-found >&2
say "removed node ${CHARON_NODE} from the cluster"
