#!/usr/bin/env bash
# shellcheck shell=bash
# host-dirs.sh: creates the host directories other layers need (e.g. Numaflow's local volumes) and removes them
# on delete. Only directories charon created are ever removed (listed in /var/lib/charon/host-directories);
# a directory that existed before is used as is and left in place.
# Environment: CHARON_HOST, CHARON_DIRS_ACTION (create | remove), CHARON_HOST_DIRECTORIES (one absolute path per
#   line).
set -euo pipefail

LIST_FILE=/var/lib/charon/host-directories

check_path() {
    case "$1" in
        / | *..* | *[[:space:]]*) die "refusing host directory '$1': it must be an absolute path other than /, without '..' or spaces" ;;
        /*) ;;
        *) die "refusing host directory '$1': it must be an absolute path" ;;
    esac
}

previous=()
if as_root test -f "${ROOT}${LIST_FILE}"; then
    mapfile -t previous < <(as_root cat "${ROOT}${LIST_FILE}")
fi
wanted=()
case "$CHARON_DIRS_ACTION" in
    create) mapfile -t wanted < <(printf '%s\n' "${CHARON_HOST_DIRECTORIES}" | sed '/^$/d') ;;
    remove) ;;
    *) die "CHARON_DIRS_ACTION must be create or remove, got '$CHARON_DIRS_ACTION'" ;;
esac

contains() {
    local needle="$1" item
    shift
    for item in "$@"; do [[ "$item" == "$needle" ]] && return 0; done
    return 1
}

owned=()
for dir in ${previous[@]+"${previous[@]}"}; do
    check_path "$dir"
    if ! contains "$dir" ${wanted[@]+"${wanted[@]}"} && as_root test -d "${ROOT}${dir}"; then
        as_root rm -rf --one-file-system "${ROOT}${dir}"
        say "removed directory $dir"
    fi
done
for dir in ${wanted[@]+"${wanted[@]}"}; do
    check_path "$dir"
    if as_root test -d "${ROOT}${dir}"; then
        if contains "$dir" ${previous[@]+"${previous[@]}"}; then
            owned+=("$dir")
            say "unchanged directory $dir"
        else
            say "unchanged directory $dir (existed before charon; left in place on delete)"
        fi
    else
        as_root mkdir -p -m 0755 "${ROOT}${dir}"
        owned+=("$dir")
        say "created directory $dir (mode 0755)"
    fi
done

if ((${#owned[@]} > 0)); then
    put_file 0644 "$LIST_FILE" < <(printf '%s\n' "${owned[@]}")
else
    remove_file "$LIST_FILE"
fi
