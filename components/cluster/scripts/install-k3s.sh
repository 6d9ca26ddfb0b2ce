#!/usr/bin/env bash
# shellcheck shell=bash
# install-k3s.sh: installs, upgrades or reconfigures k3s on this host, driven by its config file
# (CHARON_K3S_CONFIG_PATH; never by installer arguments) plus a drop-in (CHARON_K3S_DROPIN_PATH) for the stack's extra args.
#   - refuses a host whose k3s was installed by someone else (no charon marker), changing nothing;
#   - writes the marker /var/lib/charon/k3s-installed before any other change;
#   - writes the cluster token (read from stdin, never echoed) to CHARON_K3S_TOKEN_PATH, mode 0600;
#   - writes config.yaml and the drop-in (0600), removing the drop-in when there are no extra args;
#   - runs the k3s installer only when k3s is missing or runs another version (upgrade/change), pinned with
#     INSTALL_K3S_VERSION; online it fetches the release's own install.sh, air-gapped it places the given binary
#     (and images) and runs the given install.sh with INSTALL_K3S_SKIP_DOWNLOAD=true;
#   - otherwise restarts k3s only when the configuration changed;
#   - on servers, waits (bounded) until the Kubernetes API is ready.
# Environment: CHARON_HOST, CHARON_K3S_ROLE (server | agent), CHARON_K3S_VERSION, CHARON_K3S_CONFIG,
#   CHARON_K3S_DROPIN ("" for none), CHARON_K3S_CONFIG_PATH, CHARON_K3S_DROPIN_PATH, CHARON_K3S_TOKEN_PATH,
#   CHARON_K3S_INSTALL_URL, CHARON_API_TIMEOUT (seconds),
#   CHARON_AIRGAP (true | false), CHARON_AIRGAP_BINARY, CHARON_AIRGAP_INSTALLER, CHARON_AIRGAP_IMAGES ("" for
#   none; relative paths are under the user's home).
# Stdin: the cluster token (first line).
set -euo pipefail

case "$CHARON_K3S_ROLE" in
    server) service=k3s other=k3s-agent ;;
    agent) service=k3s-agent other=k3s ;;
    *) die "CHARON_K3S_ROLE must be server or agent, got '$CHARON_K3S_ROLE'" ;;
esac
# 0. Only ever touch a k3s charon installed: a k3s someone else installed keeps its config, token and service.
found="$(k3s_found)"
if [[ -n "$found" ]] && ! k3s_is_charons; then
    die "k3s is already installed on host ${HOST_LABEL}, but not by charon (found: ${found}; no ${CHARON_K3S_MARKER}): charon will not overwrite its configuration and token nor restart it. Uninstall that k3s first (/usr/local/bin/k3s-uninstall.sh or k3s-agent-uninstall.sh on the host), or remove host ${HOST_LABEL} from the stack"
fi
if [[ -e "${ROOT}/etc/systemd/system/${other}.service" ]]; then
    die "this host already runs k3s as ${other} (the other role); remove the host from the stack (which uninstalls it), then add it back with the new role"
fi

# 1. Token: from stdin into a root-only file; never on a command line, never printed.
IFS= read -r token || true
[[ -n "${token:-}" ]] || die "no cluster token on stdin"
# The ownership marker goes first, before the token, the config or the installer touch the host: every k3s file
# this script (or the installer it runs) creates then exists only after the marker does, so a first install
# interrupted at any later point is recognised as charon's on retry (and by the delete). It is written only after
# the check above, so a k3s installed by someone else never gets it.
put_file 0644 "$CHARON_K3S_MARKER" < <(printf '%s\n' "# k3s on this host was installed by charon (Pulumi K3sCluster); uninstall-k3s.sh removes it with k3s.")
FILE_CHANGED=0 # the marker is no k3s configuration: writing it restarts nothing
put_file 0600 "$CHARON_K3S_TOKEN_PATH" < <(printf '%s\n' "$token")
unset token
token_changed=$FILE_CHANGED

# 2. Configuration.
FILE_CHANGED=0
put_file 0600 "$CHARON_K3S_CONFIG_PATH" < <(printf '%s' "$CHARON_K3S_CONFIG")
if [[ -n "$CHARON_K3S_DROPIN" ]]; then
    put_file 0600 "$CHARON_K3S_DROPIN_PATH" < <(printf '%s' "$CHARON_K3S_DROPIN")
elif as_root test -e "${ROOT}${CHARON_K3S_DROPIN_PATH}"; then
    remove_file "$CHARON_K3S_DROPIN_PATH"
    FILE_CHANGED=1
fi
config_changed=$((FILE_CHANGED | token_changed))

# 3. Install, upgrade, restart or nothing.
from_home() { if [[ "$1" == /* ]]; then printf '%s' "$1"; else printf '%s/%s' "$HOME" "$1"; fi; }
target="$CHARON_K3S_VERSION"
current="$(installed_k3s_version)"
installer_env=(INSTALL_K3S_VERSION="$target" INSTALL_K3S_EXEC="$CHARON_K3S_ROLE")
if [[ "$current" != "$target" || ! -e "${ROOT}/etc/systemd/system/${service}.service" ]]; then
    if [[ "$CHARON_AIRGAP" == true ]]; then
        binary="$(from_home "$CHARON_AIRGAP_BINARY")"
        installer="$(from_home "$CHARON_AIRGAP_INSTALLER")"
        [[ -f "$binary" ]] || die "air-gapped k3s binary $binary is missing"
        [[ -f "$installer" ]] || die "air-gapped k3s install script $installer is missing"
        chmod 0755 "$binary" 2>/dev/null || as_root chmod 0755 "$binary"
        staged="$("$binary" --version 2>/dev/null | awk 'NR == 1 { print $3 }' || true)"
        [[ "$staged" == "$target" ]] || die "air-gapped k3s binary $binary is version '${staged:-unknown}', but k3s.version is $target"
        as_root install -D -m 0755 "$binary" "$K3S_BIN"
        say "placed k3s binary $target at /usr/local/bin/k3s"
        if [[ -n "$CHARON_AIRGAP_IMAGES" ]]; then
            images="$(from_home "$CHARON_AIRGAP_IMAGES")"
            [[ -f "$images" ]] || die "air-gapped images tarball $images is missing"
            put_file 0644 "/var/lib/rancher/k3s/agent/images/${images##*/}" <"$images"
        fi
        installer_env+=(INSTALL_K3S_SKIP_DOWNLOAD=true)
    else
        installer="$WORK/install.sh"
        curl -sfL --retry 3 -o "$installer" "$CHARON_K3S_INSTALL_URL" ||
            die "could not download the k3s install script from $CHARON_K3S_INSTALL_URL"
    fi
    as_root env "${installer_env[@]}" sh "$installer" >&2
    if [[ -z "$current" ]]; then
        say "installed k3s $target as $service"
    elif [[ "$current" == "$target" ]]; then
        say "reinstalled k3s $target as $service (its service unit was missing)"
    else
        say "changed k3s from $current to $target ($service restarted by the installer)"
    fi
elif ((config_changed == 1)); then
    as_root systemctl restart "$service"
    say "restarted $service: its configuration changed"
elif ! service_active "$service"; then
    as_root systemctl start "$service"
    say "started $service (it was not running)"
else
    say "unchanged k3s $target ($service running, configuration unchanged)"
fi

# 4. Servers: the API must answer before anything joins or reads the kubeconfig.
if [[ "$CHARON_K3S_ROLE" == server ]]; then
    wait_for_api "$CHARON_API_TIMEOUT"
    say "the Kubernetes API is ready"
fi
