#!/usr/bin/env bash
# shellcheck shell=bash
# uninstall-k3s.sh: removes k3s from the host with the uninstall script its installer left
# (k3s-uninstall.sh on servers, k3s-agent-uninstall.sh on agents), then charon's own k3s files, but only when
# charon installed that k3s (its marker, see common.sh); a k3s installed by someone else is left alone.
# Environment: CHARON_HOST, CHARON_K3S_ROLE (server | agent), CHARON_K3S_CONFIG_PATH, CHARON_K3S_DROPIN_PATH,
# CHARON_K3S_TOKEN_PATH, CHARON_AIRGAP_STAGED (files the air-gapped install
# copied into the SSH user's home, space-separated; empty otherwise).
set -euo pipefail

case "$CHARON_K3S_ROLE" in
    server) uninstaller=k3s-uninstall.sh ;;
    agent) uninstaller=k3s-agent-uninstall.sh ;;
    *) die "CHARON_K3S_ROLE must be server or agent, got '$CHARON_K3S_ROLE'" ;;
esac

if k3s_is_charons; then
    if [[ -x "${ROOT}/usr/local/bin/${uninstaller}" ]]; then
        as_root "${ROOT}/usr/local/bin/${uninstaller}" >&2
        say "uninstalled k3s (${uninstaller})"
    else
        say "k3s is not installed (no /usr/local/bin/${uninstaller}): nothing to uninstall"
    fi
    remove_file "$CHARON_K3S_DROPIN_PATH"
    remove_file "$CHARON_K3S_CONFIG_PATH"
    remove_file "$CHARON_K3S_TOKEN_PATH"
    # Last: an uninstall interrupted before this point still finds k3s to be charon's on retry.
    remove_file "$CHARON_K3S_MARKER"
elif found="$(k3s_found)" && [[ -n "$found" ]]; then
    say "k3s on this host was not installed by charon (found: ${found}; no ${CHARON_K3S_MARKER}): leaving that k3s alone (${uninstaller} not run, its configuration kept)"
else
    say "k3s is not installed (no /usr/local/bin/${uninstaller}): nothing to uninstall"
fi
for staged in ${CHARON_AIRGAP_STAGED:-}; do
    if [[ -e "$staged" ]]; then
        rm -f -- "$staged"
        say "removed the staged air-gap file ~/${staged}"
    fi
done
