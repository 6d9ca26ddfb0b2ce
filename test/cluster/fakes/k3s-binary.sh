#!/usr/bin/env bash
# Fake k3s binary (version substituted by the fake installer): --version, and the kubectl calls the scripts make.
set -euo pipefail
# shellcheck source=bin/_log.sh
. "$FAKE_BIN/_log.sh"
version="@VERSION@"
case "${1:-}" in
    --version) echo "k3s version $version (fake)"; echo "go version go1.24 fake" ;;
    kubectl)
        shift
        # Like the real (embedded) kubectl: a discovery cache under $KUBECACHEDIR, else ~/.kube/cache.
        mkdir -p "${KUBECACHEDIR:-$HOME/.kube/cache}/discovery" && touch "${KUBECACHEDIR:-$HOME/.kube/cache}/discovery/servergroups.json"
        case "$*" in
            "get --raw=/readyz")
                if [[ "${FAKE_API_READY:-yes}" == yes ]]; then echo ok; else echo "connection refused" >&2; exit 1; fi ;;
            "get node "*) [[ -e "$FAKE_STATE/node-$3" ]] ;;
            "drain "*) fake_log "kubectl $*"; [[ "${FAKE_DRAIN_FAIL:-}" != 1 ]] ;;
            "delete node "*) fake_log "kubectl $*"; rm -f "$FAKE_STATE/node-$3" ;;
            *) echo "fake k3s kubectl: unexpected $*" >&2; exit 2 ;;
        esac
        ;;
    *) echo "fake k3s: unexpected $*" >&2; exit 2 ;;
esac
