# shellcheck shell=bash
# common.sh: helpers sent in front of every cluster script (components/cluster/script.ts renders
# "exports + common.sh + script" into one command). Not run on its own.
#
# Conventions: human-readable progress goes to stderr, one line per change ("created …", "unchanged …");
# stdout carries only machine-read results. Every path written is prefixed with CHARON_ROOT (empty in
# production) so tests can run the scripts against a throwaway root.
set -euo pipefail
umask 022

ROOT="${CHARON_ROOT:-}"
HOST_LABEL="${CHARON_HOST:-$(uname -n)}"
POLL_SECONDS="${CHARON_POLL_SECONDS:-2}"
K3S_BIN="${ROOT}/usr/local/bin/k3s"

say() { printf 'charon[%s]: %s\n' "$HOST_LABEL" "$*" >&2; }
die() { say "error: $*"; exit 1; }

if [[ -n "$ROOT" && "$ROOT" != /* ]]; then
    die "CHARON_ROOT must be an absolute path, got '$ROOT'"
fi

# Root commands run directly when already root, else through passwordless sudo (there is no TTY to ask on).
SUDO=()
if [[ "$(id -u)" != 0 ]]; then
    sudo -n true 2>/dev/null || die "user $(id -un) is not root and cannot use sudo without a password (sudo -n); allow passwordless sudo or connect as root"
    SUDO=(sudo -n)
fi
as_root() { ${SUDO[@]+"${SUDO[@]}"} "$@"; }

WORK="$(mktemp -d)"
trap 'as_root rm -rf "$WORK" 2>/dev/null || rm -rf "$WORK"' EXIT

# k3s's kubectl keeps a discovery cache under the caller's ~/.kube/cache; the scripts' own calls keep it in WORK
# (removed on exit), so a run (and the uninstall) leaves no ~/.kube behind on the host.
k3s_kubectl() { as_root env KUBECACHEDIR="$WORK/kubectl-cache" "$K3S_BIN" kubectl "$@"; }

# put_file MODE PATH: installs stdin as ROOT/PATH with MODE, saying created/updated/unchanged.
# Sets FILE_CHANGED=1 when it wrote something.
FILE_CHANGED=0
# shellcheck disable=SC2034 # FILE_CHANGED is read by the scripts sent after common.sh
put_file() {
    local mode="$1" path="$2" dest="${ROOT}$2" tmp verb
    tmp="$(mktemp "$WORK/put.XXXXXX")"
    cat >"$tmp"
    if as_root test -f "$dest" && as_root cmp -s "$tmp" "$dest"; then
        if [[ "$(as_root stat -c '%a' "$dest")" == "${mode#0}" ]]; then
            say "unchanged $path"
            rm -f "$tmp"
            return 0
        fi
        as_root chmod "$mode" "$dest"
        say "updated mode of $path to $mode"
    else
        verb=created
        if as_root test -e "$dest"; then verb=updated; fi
        as_root install -D -m "$mode" "$tmp" "$dest"
        say "$verb $path (mode $mode)"
    fi
    rm -f "$tmp"
    FILE_CHANGED=1
}

# remove_file PATH: removes ROOT/PATH if present, saying so.
remove_file() {
    if as_root test -e "${ROOT}$1"; then
        as_root rm -f "${ROOT}$1"
        say "removed $1"
    fi
}

# (output dropped too: some systemctl builds and stand-ins print the state despite --quiet)
service_active() { systemctl is-active --quiet "$1" >/dev/null 2>&1; }

# Ownership of k3s on this host. install-k3s.sh writes CHARON_K3S_MARKER before it changes anything (see there);
# CHARON_K3S_TOKEN_PATH (written by every charon install, also before this marker existed) counts too.
# Outside /etc/rancher/k3s on purpose: the k3s uninstall script deletes that directory, uninstall-k3s.sh removes
# the marker only after the uninstall script succeeded.
CHARON_K3S_MARKER=/var/lib/charon/k3s-installed
k3s_is_charons() {
    as_root test -e "${ROOT}${CHARON_K3S_MARKER}" || as_root test -e "${ROOT}${CHARON_K3S_TOKEN_PATH:?}"
}
# k3s_found: prints what shows that some k3s is installed here (nothing when none is).
k3s_found() {
    local f hits=()
    for f in /usr/local/bin/k3s /usr/local/bin/k3s-uninstall.sh /usr/local/bin/k3s-agent-uninstall.sh \
        /etc/systemd/system/k3s.service /etc/systemd/system/k3s-agent.service; do
        if [[ -e "${ROOT}${f}" ]]; then hits+=("$f"); fi
    done
    for f in k3s k3s-agent; do
        if service_active "$f"; then hits+=("running service $f"); fi
    done
    if ((${#hits[@]} > 0)); then
        local list="${hits[0]}"
        for f in "${hits[@]:1}"; do list+=", $f"; done
        printf '%s\n' "$list"
    fi
}

# The k3s version the installed binary reports ("" when none is installed).
installed_k3s_version() {
    if [[ -x "$K3S_BIN" ]]; then
        "$K3S_BIN" --version 2>/dev/null | awk 'NR == 1 { print $3 }' || true
    fi
}

# wait_for_api SECONDS: waits until the local k3s API answers /readyz, or fails naming host and seconds.
wait_for_api() {
    local timeout="$1" deadline answer=""
    deadline=$((SECONDS + timeout))
    while true; do
        if [[ -x "$K3S_BIN" ]] && answer="$(k3s_kubectl get --raw=/readyz 2>&1)" && [[ "$answer" == ok ]]; then
            return 0
        fi
        if ((SECONDS >= deadline)); then
            die "the Kubernetes API on host ${HOST_LABEL} was not ready within ${timeout} seconds (last answer: ${answer:-none}); check 'journalctl -u k3s' on the host"
        fi
        sleep "$POLL_SECONDS"
    done
}

# Ownership lists: the things charon itself created on the host (firewall rules, directories), one per line in a
# file under /var/lib/charon. The list is rewritten after every single change, so a run that fails midway still
# records exactly what it created: a retry owns (and the delete removes) those, never what existed before charon.
# owned_load FILE sets `previous` (the recorded list) and `owned` (the list as this run changes it).
OWNED_FILE=""
previous=()
owned=()
contains() {
    local needle="$1" item
    shift
    for item in "$@"; do [[ "$item" == "$needle" ]] && return 0; done
    return 1
}
owned_load() {
    OWNED_FILE="$1"
    previous=()
    if as_root test -f "${ROOT}${OWNED_FILE}"; then
        mapfile -t previous < <(as_root cat "${ROOT}${OWNED_FILE}")
    fi
    owned=(${previous[@]+"${previous[@]}"})
}
owned_save() {
    if ((${#owned[@]} > 0)); then
        printf '%s\n' "${owned[@]}" >"$WORK/owned"
        as_root install -D -m 0644 "$WORK/owned" "${ROOT}${OWNED_FILE}"
    else
        as_root rm -f "${ROOT}${OWNED_FILE}"
    fi
}
owned_add() {
    contains "$1" ${owned[@]+"${owned[@]}"} || owned+=("$1")
    owned_save
}
owned_drop() {
    local keep=() item
    for item in ${owned[@]+"${owned[@]}"}; do [[ "$item" == "$1" ]] || keep+=("$item"); done
    owned=(${keep[@]+"${keep[@]}"})
    owned_save
}
owned_changed() { [[ "${previous[*]+"${previous[*]}"}" != "${owned[*]+"${owned[*]}"}" ]]; }
