#!/usr/bin/env bash
# shellcheck shell=bash
# read-kubeconfig.sh: waits (bounded) for the k3s API on this server, then prints the admin kubeconfig k3s wrote
# (mode 0600). Stdout is the kubeconfig (a secret: the command logs stderr only); progress goes to stderr.
# Environment: CHARON_HOST, CHARON_API_TIMEOUT (seconds), CHARON_KUBECONFIG_PATH (where k3s writes it).
set -euo pipefail

KUBECONFIG_FILE="$CHARON_KUBECONFIG_PATH"

wait_for_api "$CHARON_API_TIMEOUT"
as_root test -f "${ROOT}${KUBECONFIG_FILE}" || die "the k3s API is up but ${KUBECONFIG_FILE} is missing; is write-kubeconfig set elsewhere?"
as_root cat "${ROOT}${KUBECONFIG_FILE}"
say "read the admin kubeconfig from ${KUBECONFIG_FILE}"
