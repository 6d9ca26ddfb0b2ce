#!/usr/bin/env bash
# shellcheck shell=bash
# shellcheck disable=SC2154 # previous and owned are set by owned_load (common.sh, sent in front of this script)
# firewall.sh: opens what k3s needs in firewalld, only when firewalld is running, and removes exactly what it
# added. The pod and service networks become trusted sources (zone "trusted"); the ports open in the default zone.
# Rules that already existed before charon are left alone (and never removed); the ones charon added are listed
# in /var/lib/charon/firewall.rules so a later run or the delete can take them back. That list is rewritten after
# every single rule charon adds or removes, so a run that fails midway still leaves an exact record: a retry then
# owns (and the delete removes) the rules the failed run added instead of taking them for pre-existing ones.
# Environment: CHARON_HOST, CHARON_FIREWALL_ACTION (apply | remove), CHARON_TRUSTED_SOURCES (space-separated
#   CIDRs), CHARON_OPEN_PORTS (space-separated port/protocol, e.g. "6443/tcp 8472/udp").
set -euo pipefail

RULES_FILE=/var/lib/charon/firewall.rules

if ! command -v firewall-cmd >/dev/null 2>&1 || ! as_root firewall-cmd --state >/dev/null 2>&1; then
    say "firewalld is not running: no firewall rules to ${CHARON_FIREWALL_ACTION}"
    exit 0
fi

# A rule is "source <cidr>" (zone trusted) or "port <port/proto>" (default zone).
fw_args() {
    case "$1" in
        source) printf '%s\n' --zone=trusted "--$2-source=$3" ;;
        port) printf '%s\n' "--$2-port=$3" ;;
        *) die "unknown firewall rule kind '$1'" ;;
    esac
}
# fw KIND OP VALUE: runs one permanent firewall-cmd. Quiet on success; "query" returns 0 (yes) or 1 (no); any
# other failure stops the script with firewall-cmd's own error text, after reloading firewalld when this run
# already changed rules (so those take effect; they are recorded already).
fw() {
    local args out rc=0
    mapfile -t args < <(fw_args "$1" "$2" "$3")
    out="$(as_root firewall-cmd --permanent "${args[@]}" 2>&1)" || rc=$?
    if [[ "$2" == query ]] && ((rc <= 1)); then
        return "$rc"
    fi
    if ((rc != 0)); then
        if ((changed == 1)); then
            as_root firewall-cmd --reload >/dev/null || true
            say "reloaded firewalld (the rules changed before the failure take effect)"
        fi
        die "firewall-cmd --permanent ${args[*]} failed (exit $rc): ${out:-no output}"
    fi
}

changed=0
owned_load "$RULES_FILE"

wanted=()
if [[ "$CHARON_FIREWALL_ACTION" == apply ]]; then
    for cidr in ${CHARON_TRUSTED_SOURCES}; do wanted+=("source $cidr"); done
    for port in ${CHARON_OPEN_PORTS}; do wanted+=("port $port"); done
elif [[ "$CHARON_FIREWALL_ACTION" != remove ]]; then
    die "CHARON_FIREWALL_ACTION must be apply or remove, got '$CHARON_FIREWALL_ACTION'"
fi

# Take back rules charon added that are no longer wanted.
for rule in ${previous[@]+"${previous[@]}"}; do
    read -r kind value <<<"$rule"
    if contains "$rule" ${wanted[@]+"${wanted[@]}"}; then
        continue
    fi
    if fw "$kind" query "$value"; then
        fw "$kind" remove "$value"
        say "removed firewalld $kind $value"
        changed=1
    fi
    owned_drop "$rule"
done
# Add what is missing; remember only what charon added itself, right after adding it.
for rule in ${wanted[@]+"${wanted[@]}"}; do
    read -r kind value <<<"$rule"
    if fw "$kind" query "$value"; then
        if contains "$rule" ${previous[@]+"${previous[@]}"}; then
            say "unchanged firewalld $kind $value"
        else
            say "unchanged firewalld $kind $value (already allowed before charon; left in place on delete)"
        fi
    else
        fw "$kind" add "$value"
        owned_add "$rule"
        say "added firewalld $kind $value"
        changed=1
    fi
done

if ((changed == 1)); then
    as_root firewall-cmd --reload >/dev/null
    say "reloaded firewalld"
fi
if owned_changed; then
    if ((${#owned[@]} > 0)); then
        say "updated $RULES_FILE (${#owned[@]} rule(s) charon added)"
    else
        say "removed $RULES_FILE (no rules charon added remain)"
    fi
fi
