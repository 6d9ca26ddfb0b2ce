#!/usr/bin/env bash
# shellcheck shell=bash
# shellcheck disable=SC2154 # previous and owned are set by owned_load (common.sh, sent in front of this script)
# host-dirs.sh: creates the host directories other layers need (e.g. Numaflow's local volumes) and removes them
# on delete. Only directories charon created are ever removed (listed in /var/lib/charon/host-directories);
# a directory that existed before is used as is and left in place. The list is rewritten right after each
# directory charon creates or removes, so a run that fails midway still records what it created: a retry owns
# (and the delete removes) those instead of taking them for directories that existed before charon.
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

owned_load "$LIST_FILE"
wanted=()
case "$CHARON_DIRS_ACTION" in
    create) mapfile -t wanted < <(printf '%s\n' "${CHARON_HOST_DIRECTORIES}" | sed '/^$/d') ;;
    remove) ;;
    *) die "CHARON_DIRS_ACTION must be create or remove, got '$CHARON_DIRS_ACTION'" ;;
esac

for dir in ${previous[@]+"${previous[@]}"}; do
    check_path "$dir"
    if contains "$dir" ${wanted[@]+"${wanted[@]}"}; then
        continue
    fi
    if as_root test -d "${ROOT}${dir}"; then
        as_root rm -rf --one-file-system "${ROOT}${dir}"
        say "removed directory $dir"
    fi
    owned_drop "$dir"
done
for dir in ${wanted[@]+"${wanted[@]}"}; do
    check_path "$dir"
    if as_root test -d "${ROOT}${dir}"; then
        if contains "$dir" ${previous[@]+"${previous[@]}"}; then
            say "unchanged directory $dir"
        else
            say "unchanged directory $dir (existed before charon; left in place on delete)"
        fi
    else
        as_root mkdir -p -m 0755 "${ROOT}${dir}"
        owned_add "$dir"
        say "created directory $dir (mode 0755)"
    fi
done

if owned_changed; then
    if ((${#owned[@]} > 0)); then
        say "updated $LIST_FILE (${#owned[@]} director(y/ies) charon created)"
    else
        say "removed $LIST_FILE (no directories charon created remain)"
    fi
fi
