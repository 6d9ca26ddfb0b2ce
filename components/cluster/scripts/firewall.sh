#!/usr/bin/env bash
# shellcheck shell=bash
# firewall.sh: opens what k3s needs in firewalld, only when firewalld is running, and removes exactly what it
# added. The pod and service networks become trusted sources (zone "trusted"); the ports open in the default zone.
# Rules that already existed before charon are left alone (and never removed); the ones charon added are listed
# in /var/lib/charon/firewall.rules so a later run or the delete can take them back.
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
fw() {
    local args
    mapfile -t args < <(fw_args "$1" "$2" "$3")
    as_root firewall-cmd --permanent "${args[@]}" >/dev/null 2>&1
}

previous=()
if as_root test -f "${ROOT}${RULES_FILE}"; then
    mapfile -t previous < <(as_root cat "${ROOT}${RULES_FILE}")
fi

wanted=()
if [[ "$CHARON_FIREWALL_ACTION" == apply ]]; then
    for cidr in ${CHARON_TRUSTED_SOURCES}; do wanted+=("source $cidr"); done
    for port in ${CHARON_OPEN_PORTS}; do wanted+=("port $port"); done
elif [[ "$CHARON_FIREWALL_ACTION" != remove ]]; then
    die "CHARON_FIREWALL_ACTION must be apply or remove, got '$CHARON_FIREWALL_ACTION'"
fi

contains() {
    local needle="$1" item
    shift
    for item in "$@"; do [[ "$item" == "$needle" ]] && return 0; done
    return 1
}

changed=0
owned=()
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
done
# Add what is missing; remember only what charon added itself.
for rule in ${wanted[@]+"${wanted[@]}"}; do
    read -r kind value <<<"$rule"
    if fw "$kind" query "$value"; then
        if contains "$rule" ${previous[@]+"${previous[@]}"}; then
            owned+=("$rule")
            say "unchanged firewalld $kind $value"
        else
            say "unchanged firewalld $kind $value (already allowed before charon; left in place on delete)"
        fi
    else
        fw "$kind" add "$value"
        owned+=("$rule")
        say "added firewalld $kind $value"
        changed=1
    fi
done

if ((changed == 1)); then
    as_root firewall-cmd --reload >/dev/null
    say "reloaded firewalld"
fi
if ((${#owned[@]} > 0)); then
    put_file 0644 "$RULES_FILE" < <(printf '%s\n' "${owned[@]}")
else
    remove_file "$RULES_FILE"
fi
