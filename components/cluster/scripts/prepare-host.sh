#!/usr/bin/env bash
# shellcheck shell=bash
# prepare-host.sh: makes a Debian/Ubuntu machine ready for k3s.
#   1. checks the OS family (apt/dpkg), 2. installs the base packages, 3. detects NVIDIA GPUs, 4. on GPU hosts
#   installs the NVIDIA container toolkit at its pinned version (also over another installed version) and, when
#   that changed something while k3s already runs, restarts k3s so containerd picks up the nvidia runtime.
# Environment: CHARON_HOST, CHARON_GPU (auto | true | false), CHARON_BASE_PACKAGES (space-separated),
#   CHARON_NVIDIA_TOOLKIT_VERSION, CHARON_NVIDIA_PACKAGES (space-separated), CHARON_NVIDIA_KEY_URL,
#   CHARON_NVIDIA_DEB_URL.
# Stdout: exactly one line "CHARON_GPU_COUNT=<n>", the GPUs this host offers.
set -euo pipefail

check_os() {
    local release="${ROOT}/etc/os-release" facts id like name
    [[ -r "$release" ]] || die "cannot read /etc/os-release: unsupported operating system; charon's host scripts need Debian or Ubuntu"
    # shellcheck disable=SC1090
    facts="$(. "$release" && printf '%s\n%s\n%s\n' "${ID:-}" "${ID_LIKE:-}" "${PRETTY_NAME:-${NAME:-unknown}}")"
    id="$(sed -n 1p <<<"$facts")"
    like="$(sed -n 2p <<<"$facts")"
    name="$(sed -n 3p <<<"$facts")"
    case " $id $like " in
        *" debian "* | *" ubuntu "*) say "operating system $name (Debian family): supported" ;;
        *) die "unsupported operating system: $name (ID=$id${like:+, ID_LIKE=$like}); charon's host scripts need the Debian/Ubuntu family (apt and dpkg)" ;;
    esac
}

package_version() {
    # shellcheck disable=SC2016
    dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null | awk '$1 == "install" && $3 == "installed" { print $4 }' || true
}

# DPkg::Lock::Timeout: on a freshly booted host unattended-upgrades often holds the dpkg lock for a while; apt
# then waits for it (up to 5 minutes) instead of failing at once with "Could not get lock".
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
APT_UPDATED=0
apt_install() {
    if ((APT_UPDATED == 0)); then
        as_root "${APT[@]}" update -q >&2
        APT_UPDATED=1
    fi
    as_root "${APT[@]}" install -y -q --no-install-recommends "$@" >&2
}

install_base_packages() {
    local missing=() pkg
    for pkg in ${CHARON_BASE_PACKAGES}; do
        if [[ -z "$(package_version "$pkg")" ]]; then missing+=("$pkg"); fi
    done
    if ((${#missing[@]} == 0)); then
        say "unchanged base packages (${CHARON_BASE_PACKAGES})"
        return 0
    fi
    apt_install "${missing[@]}"
    say "installed packages: ${missing[*]}"
}

detect_gpus() {
    local list
    if command -v nvidia-smi >/dev/null 2>&1 && list="$(nvidia-smi --list-gpus 2>/dev/null)"; then
        grep -c '^GPU [0-9]' <<<"$list" || true
    else
        echo 0
    fi
}

# Installs the NVIDIA container toolkit pinned to CHARON_NVIDIA_TOOLKIT_VERSION unless every one of its packages
# already has exactly that version (a missing package, an older or a newer one all mean: install the pin, which
# may downgrade). Sets TOOLKIT_CHANGE ("added" or "changed from <old> to <pin>") when it installed something.
TOOLKIT_CHANGE=""
install_toolkit() {
    local present pkg version differ=() pinned=()
    present="$(package_version nvidia-container-toolkit)"
    for pkg in ${CHARON_NVIDIA_PACKAGES}; do
        version="$(package_version "$pkg")"
        if [[ "$version" != "$CHARON_NVIDIA_TOOLKIT_VERSION" ]]; then differ+=("$pkg (${version:-missing})"); fi
        pinned+=("$pkg=$CHARON_NVIDIA_TOOLKIT_VERSION")
    done
    if ((${#differ[@]} == 0)); then
        say "unchanged nvidia-container-toolkit $present"
        return 0
    fi
    curl -fsSL --retry 3 -o "$WORK/nvidia.asc" "$CHARON_NVIDIA_KEY_URL"
    put_file 0644 /etc/apt/keyrings/nvidia-container-toolkit.asc <"$WORK/nvidia.asc"
    put_file 0644 /etc/apt/sources.list.d/nvidia-container-toolkit.list \
        < <(printf 'deb [signed-by=/etc/apt/keyrings/nvidia-container-toolkit.asc] %s /\n' "$CHARON_NVIDIA_DEB_URL")
    APT_UPDATED=0
    if [[ -z "$present" ]]; then
        apt_install "${pinned[@]}"
        say "installed nvidia-container-toolkit $CHARON_NVIDIA_TOOLKIT_VERSION"
        TOOLKIT_CHANGE="added"
    else
        say "not at the pinned version $CHARON_NVIDIA_TOOLKIT_VERSION: ${differ[*]}"
        apt_install --allow-downgrades "${pinned[@]}"
        say "changed nvidia-container-toolkit from $present to $CHARON_NVIDIA_TOOLKIT_VERSION"
        TOOLKIT_CHANGE="changed from $present to $CHARON_NVIDIA_TOOLKIT_VERSION"
    fi
}

check_os
install_base_packages

detected="$(detect_gpus)"
case "${CHARON_GPU}" in
    false)
        gpus=0
        say "GPU support off for this host (gpu: false); nvidia-smi not consulted"
        ;;
    true)
        gpus="$detected"
        if ((gpus == 0)); then
            gpus=1
            say "warning: gpu: true but nvidia-smi lists no GPU (driver missing?); treating the host as having 1 GPU"
        fi
        ;;
    auto)
        gpus="$detected"
        say "detected $gpus NVIDIA GPU(s) with nvidia-smi --list-gpus"
        ;;
    *) die "CHARON_GPU must be auto, true or false, got '${CHARON_GPU}'" ;;
esac

if ((gpus > 0)); then
    install_toolkit
fi
if [[ -n "$TOOLKIT_CHANGE" ]]; then
    for service in k3s k3s-agent; do
        if service_active "$service"; then
            as_root systemctl restart "$service"
            say "restarted $service: the NVIDIA container toolkit was ${TOOLKIT_CHANGE} after k3s (containerd detects the nvidia runtime at start)"
        fi
    done
fi

echo "CHARON_GPU_COUNT=${gpus}"
