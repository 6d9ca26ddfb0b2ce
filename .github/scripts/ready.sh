#!/usr/bin/env bash
# Whether a workflow job has what it needs for a stack, from the environment the job passes in:
#   a backend: PULUMI_ACCESS_TOKEN (Pulumi Cloud), or PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE (self-managed)
#   CHARON_SSH_PRIVATE_KEY: the SSH key of the stack's hosts (every stack but dev is remote)
# Writes ready=true|false to $GITHUB_OUTPUT; when something is missing, a notice names it and the job's later steps
# are skipped (the run stays green: a fork's pull request or a repository without a lab simply has no deployment).
#
#   .github/scripts/ready.sh preview|deploy|drift STACK
set -euo pipefail
what="${1:?preview, deploy or drift}"
stack="${2:?stack name}"

missing=()
if [ -z "${PULUMI_ACCESS_TOKEN:-}" ]; then
    [ -n "${PULUMI_BACKEND_URL:-}" ] || missing+=("PULUMI_BACKEND_URL (the state backend, e.g. s3://bucket/charon; or the secret PULUMI_ACCESS_TOKEN for Pulumi Cloud)")
    [ -n "${PULUMI_CONFIG_PASSPHRASE:-}" ] || missing+=("PULUMI_CONFIG_PASSPHRASE (the stacks' passphrase)")
fi
[ -n "${CHARON_SSH_PRIVATE_KEY:-}" ] || missing+=("CHARON_SSH_PRIVATE_KEY (the SSH private key of the stack's hosts)")

out="${GITHUB_OUTPUT:-/dev/null}"
if [ "${#missing[@]}" -gt 0 ]; then
    joined="$(printf '%s; ' "${missing[@]}")"
    echo "::notice title=${what} of stack ${stack} skipped::missing ${joined%; } — set them under Settings → Secrets and variables → Actions (README.md, Pull-request flow)"
    echo "ready=false" >>"$out"
else
    echo "${what} of stack ${stack}: backend and SSH key present"
    echo "ready=true" >>"$out"
fi
